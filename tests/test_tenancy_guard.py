"""Tenant isolation at the data layer: the ORM guard, the schema, the identity map.

Two firms hold identical data; every test shows that what one firm's context
reads or writes never reaches the other's rows. The checks that need rows of
firm B to survive look at them through the database owner's connection (no
guard, no row-level security), so they do not trust the mechanism they test.

Besides the kernel's tables, the tests use two small tenant-owned tables declared
here with the module author's helpers (``TenantOwned``, ``tenant_ref``) on a
*separate* declarative base: they exist only while this module's tests run
(created with the row-level security helper module migrations call, emptied
after each test and dropped at the end), so the application's metadata, its
migrations and the plugin's table emptying never see them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    aliased,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.orm.exc import ObjectDeletedError

from distretto.platform.auth.models import User
from distretto.platform.context import current_tenant_id, tenant_context
from distretto.platform.db import (
    NAMING_CONVENTION,
    BigId,
    CrossTenantWrite,
    TenantContextRequired,
    TenantOwned,
    UnscopedStatement,
    db,
    tenant_ref,
)
from distretto.tenants.models import Invitation, Membership

# --- throwaway tenant-owned models, declared as a module author would ------------------------


class GuardBase(DeclarativeBase):
    """Kept apart from ``db.Model``: migrations and the plugin never see these tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Only so that ``tenant_id``'s foreign key resolves when the tables are created;
# this stand-in is never created itself (the real ``tenants`` table is used).
Table("tenants", GuardBase.metadata, Column("id", BigId, primary_key=True))


class GuardCustomer(TenantOwned, GuardBase):
    __tablename__ = "guardtest_customers"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))

    orders: Mapped[list[GuardOrder]] = relationship(
        back_populates="customer", order_by="GuardOrder.id"
    )
    # Joined on the code alone, *not* on tenant_id: without the guard this would
    # also bring the other firm's orders that carry the same customer code.
    orders_by_code: Mapped[list[GuardOrder]] = relationship(
        primaryjoin="foreign(GuardOrder.customer_code) == GuardCustomer.code",
        viewonly=True,
        order_by="GuardOrder.id",
    )


class GuardOrder(TenantOwned, GuardBase):
    __tablename__ = "guardtest_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20))
    customer_code: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = tenant_ref("guardtest_customers")

    customer: Mapped[GuardCustomer] = relationship(back_populates="orders")


GUARD_TABLES = [GuardCustomer.__table__, GuardOrder.__table__]


@pytest.fixture(scope="module")
def guard_schema(distretto_database: Any) -> Iterator[None]:
    """The throwaway tables (with RLS on PostgreSQL), for this module's tests only."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from distretto.platform.migrations import enable_tenant_rls

    with distretto_database.owner_engine.begin() as connection:
        GuardBase.metadata.create_all(connection, tables=GUARD_TABLES)
        with Operations.context(MigrationContext.configure(connection)):
            for table in GUARD_TABLES:
                enable_tenant_rls(table.name)  # what a module's migration calls
        if distretto_database.is_postgres:
            role = distretto_database.app_url.username
            names = ", ".join(table.name for table in GUARD_TABLES)
            connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {names} TO {role}"))
            connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    yield
    with distretto_database.owner_engine.begin() as connection:
        GuardBase.metadata.drop_all(connection, tables=GUARD_TABLES)


@pytest.fixture
def guard_tables(app: Any, guard_schema: None, distretto_database: Any) -> Iterator[None]:
    """Empties the throwaway tables after each test, before the plugin empties its own."""
    yield
    db.session.rollback()
    db.session.close()
    with distretto_database.owner_engine.begin() as connection:
        for table in reversed(GUARD_TABLES):
            connection.execute(table.delete())


def _seed_firm(tenant: Any, *users: Any) -> SimpleNamespace:
    from distretto.tenants.services import grant

    for user in users:
        grant(tenant, user, "staff")
    with tenant_context(tenant):
        customer = GuardCustomer(code="C-001", name="Rossi S.p.A.")
        db.session.add(customer)
        db.session.flush()
        order = GuardOrder(ref="ORD-1", customer_code="C-001", customer_id=customer.id)
        db.session.add(order)
        db.session.flush()
        membership_ids = {
            user.id: db.session.execute(
                select(Membership.id).where(Membership.user_id == user.id)
            ).scalar_one()
            for user in users
        }
        return SimpleNamespace(
            tenant=tenant,
            id=tenant.id,
            customer_id=customer.id,
            order_id=order.id,
            membership_ids=membership_ids,
        )


@pytest.fixture
def firms(guard_tables: None, make_tenant: Any) -> SimpleNamespace:
    """Firms A and B with identical rows; an accountant belongs to both, each has an own clerk."""
    from distretto.tenants.services import create_user

    # no passwords: nobody signs in here, and hashing one costs more than the test
    accountant = create_user("accountant@example.com", None)
    clerk_a = create_user("clerk.a@example.com", None)
    clerk_b = create_user("clerk.b@example.com", None)
    a = _seed_firm(make_tenant(slug="firm-a"), accountant, clerk_a)
    b = _seed_firm(make_tenant(slug="firm-b"), accountant, clerk_b)
    db.session.commit()
    return SimpleNamespace(
        a=a, b=b, accountant_id=accountant.id, clerk_a_id=clerk_a.id, clerk_b_id=clerk_b.id
    )


def owner_rows(database: Any, table: str, tenant_id: int) -> list[tuple[Any, ...]]:
    """A firm's rows as the database owner sees them: no guard, no row-level security."""
    with database.owner_engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(f"SELECT * FROM {table} WHERE tenant_id = :t ORDER BY id"),  # noqa: S608
                {"t": tenant_id},
            )
        ]


def flush_in(firm: Any, work: Callable[[], Any]) -> None:
    """Do ``work`` in ``firm``'s context and flush it there."""
    with tenant_context(firm.tenant):
        work()
        db.session.flush()


# --- reading: every kind of query sees only the current firm ----------------------------------


def test_orm_select_returns_only_the_current_firms_rows(firms):
    for firm in (firms.a, firms.b):
        with tenant_context(firm.tenant):
            customers = db.session.execute(select(GuardCustomer)).scalars().all()
            memberships = db.session.execute(select(Membership)).scalars().all()
        assert [(c.id, c.tenant_id) for c in customers] == [(firm.customer_id, firm.id)]
        assert {m.id for m in memberships} == set(firm.membership_ids.values())


def test_column_select_and_count_see_only_the_current_firm(firms):
    with tenant_context(firms.a.tenant):
        names = db.session.execute(select(GuardCustomer.name, GuardCustomer.tenant_id)).all()
        customers = db.session.execute(select(func.count()).select_from(GuardCustomer)).scalar()
        orders = db.session.execute(select(func.count(GuardOrder.id))).scalar()
        members = db.session.execute(select(func.count(Membership.id))).scalar()
        any_order = db.session.execute(select(exists().where(GuardOrder.ref == "ORD-1"))).scalar()
    assert names == [("Rossi S.p.A.", firms.a.id)]
    assert (customers, orders, members) == (1, 1, 2)
    assert any_order is True


def test_aliased_entities_are_scoped_too(firms):
    other = aliased(GuardCustomer)
    with tenant_context(firms.a.tenant):
        ids = db.session.execute(select(other.id)).scalars().all()
        # a self-join through an alias, on the code only: one pair, not four
        pairs = db.session.execute(
            select(GuardCustomer.id, other.id).join(other, other.code == GuardCustomer.code)
        ).all()
    assert ids == [firms.a.customer_id]
    assert pairs == [(firms.a.customer_id, firms.a.customer_id)]


def test_get_of_the_other_firms_id_returns_none(firms):
    with tenant_context(firms.a.tenant):
        assert db.session.get(GuardCustomer, firms.b.customer_id) is None
        assert db.session.get(GuardOrder, firms.b.order_id) is None
        assert db.session.get(Membership, firms.b.membership_ids[firms.accountant_id]) is None
        assert db.session.get(GuardCustomer, firms.a.customer_id) is not None


def test_relationship_loads_bring_only_the_current_firms_rows(firms):
    with tenant_context(firms.a.tenant):
        customer = db.session.get(GuardCustomer, firms.a.customer_id)
        lazy = [o.id for o in customer.orders_by_code]
        db.session.expunge_all()
        eager_in = db.session.execute(
            select(GuardCustomer).options(selectinload(GuardCustomer.orders_by_code))
        ).scalar_one()
        eager_in_ids = [o.id for o in eager_in.orders_by_code]
        db.session.expunge_all()
        eager_join = (
            db.session.execute(
                select(GuardCustomer).options(joinedload(GuardCustomer.orders_by_code))
            )
            .unique()
            .scalar_one()
        )
        eager_join_ids = [o.id for o in eager_join.orders_by_code]
        order = db.session.get(GuardOrder, firms.a.order_id)
        owner = order.customer
    assert lazy == eager_in_ids == eager_join_ids == [firms.a.order_id]
    assert owner.id == firms.a.customer_id


def test_joins_on_non_tenant_columns_do_not_pair_rows_across_firms(firms):
    with tenant_context(firms.a.tenant):
        orders = db.session.execute(
            select(GuardOrder.id, GuardCustomer.id).join(
                GuardCustomer, GuardCustomer.code == GuardOrder.customer_code
            )
        ).all()
        # the accountant belongs to both firms: through A's memberships, once
        members = db.session.execute(
            select(User.email).join(Membership, Membership.user_id == User.id).order_by(User.email)
        ).scalars()
        in_subquery = db.session.execute(
            select(User.email).where(User.id.in_(select(Membership.user_id))).order_by(User.email)
        ).scalars()
        members, in_subquery = list(members), list(in_subquery)
    assert orders == [(firms.a.order_id, firms.a.customer_id)]
    assert members == in_subquery == ["accountant@example.com", "clerk.a@example.com"]


def test_the_tenant_is_bound_afresh_each_time_firms_alternate(firms):
    """The criterion's lambda is cached per class; the tenant id must not be."""
    statement = select(GuardCustomer.id, GuardCustomer.tenant_id)
    for firm in (firms.a, firms.b, firms.a, firms.b, firms.a):
        with tenant_context(firm.tenant):
            assert db.session.execute(statement).all() == [(firm.customer_id, firm.id)]
            assert db.session.execute(
                select(Membership.id).order_by(Membership.id)
            ).scalars().all() == sorted(firm.membership_ids.values())
            assert db.session.get(GuardOrder, firms.a.order_id) is (
                None if firm is firms.b else db.session.get(GuardOrder, firms.a.order_id)
            )


def test_nested_contexts_restore_the_outer_firm(firms):
    with tenant_context(firms.a.tenant):
        with tenant_context(firms.b.tenant):
            assert current_tenant_id() == firms.b.id
            assert db.session.execute(select(GuardCustomer.id)).scalars().all() == [
                firms.b.customer_id
            ]
        assert current_tenant_id() == firms.a.id
        assert db.session.execute(select(GuardCustomer.id)).scalars().all() == [firms.a.customer_id]
    assert current_tenant_id() is None


# --- bulk statements ------------------------------------------------------------------------


@pytest.mark.parametrize("synchronize", ["auto", "evaluate", "fetch", False])
def test_bulk_update_in_firm_a_leaves_firm_b_untouched(firms, distretto_database, synchronize):
    before_b = owner_rows(distretto_database, "guardtest_customers", firms.b.id)
    with tenant_context(firms.a.tenant):
        customer = db.session.get(GuardCustomer, firms.a.customer_id)
        changed = db.session.execute(
            update(GuardCustomer)
            .values(name="Renamed in A")
            .execution_options(synchronize_session=synchronize)
        ).rowcount
        db.session.flush()
        if synchronize is not False:
            assert customer.name == "Renamed in A"
    db.session.commit()
    assert changed == 1
    assert owner_rows(distretto_database, "guardtest_customers", firms.b.id) == before_b
    assert owner_rows(distretto_database, "guardtest_customers", firms.a.id)[0][2] == (
        "Renamed in A"
    )


def test_bulk_delete_in_firm_a_leaves_firm_b_untouched(firms, distretto_database):
    before_b = owner_rows(distretto_database, "guardtest_orders", firms.b.id)
    with tenant_context(firms.a.tenant):
        deleted = db.session.execute(delete(GuardOrder)).rowcount
        invitations = db.session.execute(delete(Invitation)).rowcount
    db.session.commit()
    assert (deleted, invitations) == (1, 0)
    assert owner_rows(distretto_database, "guardtest_orders", firms.a.id) == []
    assert owner_rows(distretto_database, "guardtest_orders", firms.b.id) == before_b


def test_bulk_update_by_primary_key_naming_firm_bs_row_is_refused(firms, distretto_database):
    before_b = owner_rows(distretto_database, "guardtest_customers", firms.b.id)
    with pytest.raises(CrossTenantWrite), tenant_context(firms.a.tenant):
        db.session.execute(
            update(GuardCustomer),
            [
                {"id": firms.a.customer_id, "name": "mine"},
                {"id": firms.b.customer_id, "name": "hijacked"},
            ],
        )
    db.session.rollback()
    assert owner_rows(distretto_database, "guardtest_customers", firms.b.id) == before_b


def test_bulk_update_by_primary_key_of_own_rows_works(firms, distretto_database):
    with tenant_context(firms.a.tenant):
        db.session.execute(update(GuardCustomer), [{"id": firms.a.customer_id, "name": "ok"}])
    db.session.commit()
    assert owner_rows(distretto_database, "guardtest_customers", firms.a.id)[0][2] == "ok"


# --- writes carrying or changing another firm's tenant_id ----------------------------------


def test_insert_carrying_another_firms_tenant_id_is_refused(firms, distretto_database):
    intruder = GuardCustomer(code="C-002", name="Intruder", tenant_id=firms.b.id)
    with pytest.raises(CrossTenantWrite):
        flush_in(firms.a, lambda: db.session.add(intruder))
    db.session.rollback()
    grant = Membership(user_id=firms.clerk_b_id, role="owner", tenant_id=firms.b.id)
    with pytest.raises(CrossTenantWrite):
        flush_in(firms.a, lambda: db.session.add(grant))
    db.session.rollback()
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.b.id)) == 1
    assert len(owner_rows(distretto_database, "memberships", firms.b.id)) == 2


@pytest.mark.parametrize(
    "execute",
    [
        pytest.param(
            lambda b: db.session.execute(
                insert(GuardCustomer).values(code="C-9", name="x", tenant_id=b)
            ),
            id="values",
        ),
        pytest.param(
            lambda b: db.session.execute(
                insert(GuardCustomer), [{"code": "C-9", "name": "x", "tenant_id": b}]
            ),
            id="executemany",
        ),
        pytest.param(
            lambda b: db.session.execute(
                insert(GuardCustomer).values([{"code": "C-9", "name": "x", "tenant_id": b}])
            ),
            id="multi-values",
        ),
    ],
)
def test_bulk_insert_carrying_another_firms_tenant_id_is_refused(
    firms, distretto_database, execute
):
    with pytest.raises(CrossTenantWrite), tenant_context(firms.a.tenant):
        execute(firms.b.id)
    db.session.rollback()
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.b.id)) == 1


def test_bulk_insert_without_tenant_id_lands_in_the_current_firm(firms, distretto_database):
    with tenant_context(firms.a.tenant):
        db.session.execute(insert(GuardCustomer).values(code="C-2", name="Bianchi"))
        db.session.execute(insert(GuardCustomer), [{"code": "C-3", "name": "Verdi"}])
    db.session.commit()
    codes_a = [row[1] for row in owner_rows(distretto_database, "guardtest_customers", firms.a.id)]
    assert codes_a == ["C-001", "C-2", "C-3"]
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.b.id)) == 1


def test_update_moving_a_row_to_another_firm_is_refused(firms, distretto_database):
    def move_to_b() -> None:
        db.session.get(GuardCustomer, firms.a.customer_id).tenant_id = firms.b.id

    with pytest.raises(CrossTenantWrite):
        flush_in(firms.a, move_to_b)
    db.session.rollback()
    with pytest.raises(CrossTenantWrite), tenant_context(firms.a.tenant):
        db.session.execute(update(Membership).values(tenant_id=firms.b.id))
    db.session.rollback()
    with pytest.raises(CrossTenantWrite), tenant_context(firms.a.tenant):
        db.session.execute(
            update(GuardCustomer), [{"id": firms.a.customer_id, "tenant_id": firms.b.id}]
        )
    db.session.rollback()
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.a.id)) == 1
    assert len(owner_rows(distretto_database, "memberships", firms.a.id)) == 2


def test_deleting_or_changing_another_firms_object_is_refused(firms, distretto_database):
    with tenant_context(firms.b.tenant):
        foreign = db.session.get(GuardCustomer, firms.b.customer_id)
    with pytest.raises(CrossTenantWrite):
        flush_in(firms.a, lambda: db.session.delete(foreign))
    db.session.rollback()

    def change() -> None:
        foreign.name = "Changed by A"
        db.session.add(foreign)

    with pytest.raises(CrossTenantWrite):
        flush_in(firms.a, change)
    db.session.rollback()
    assert owner_rows(distretto_database, "guardtest_customers", firms.b.id)[0][2] == (
        "Rossi S.p.A."
    )


# --- the database refuses a cross-firm reference by itself ---------------------------------


def test_tenant_ref_declares_a_composite_foreign_key_and_tenant_unique_key():
    table = GuardOrder.__table__
    composite = [
        fk
        for fk in table.foreign_key_constraints
        if [c.name for c in fk.columns] == ["tenant_id", "customer_id"]
    ]
    assert len(composite) == 1
    assert [e.target_fullname for e in composite[0].elements] == [
        "guardtest_customers.tenant_id",
        "guardtest_customers.id",
    ]
    for owned in (GuardOrder.__table__, GuardCustomer.__table__):
        keys = [
            [col.name for col in c.columns]
            for c in owned.constraints
            if isinstance(c, UniqueConstraint)
        ]
        assert ["tenant_id", "id"] in keys


def test_order_of_firm_a_pointing_at_firm_bs_customer_is_refused_by_the_database(
    firms, distretto_database
):
    # through the ORM, in A's context (the guard stamps A; the key does not exist in A)
    crossing = GuardOrder(ref="ORD-X", customer_code="C-001", customer_id=firms.b.customer_id)
    with pytest.raises(IntegrityError):
        flush_in(firms.a, lambda: db.session.add(crossing))
    db.session.rollback()
    # bypassing guard and row-level security entirely: the owner's raw INSERT
    with pytest.raises(IntegrityError), distretto_database.owner_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO guardtest_orders (tenant_id, ref, customer_code, customer_id) "
                "VALUES (:a, 'ORD-X', 'C-001', :b_customer)"
            ),
            {"a": firms.a.id, "b_customer": firms.b.customer_id},
        )
    # the same INSERT pointing at A's own customer is accepted: the key, not the table, refuses
    with distretto_database.owner_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO guardtest_orders (tenant_id, ref, customer_code, customer_id) "
                "VALUES (:a, 'ORD-Y', 'C-001', :a_customer)"
            ),
            {"a": firms.a.id, "a_customer": firms.a.customer_id},
        )
    assert len(owner_rows(distretto_database, "guardtest_orders", firms.a.id)) == 2


def test_every_table_with_tenant_id_is_keyed_and_referenced_by_tenant(app, distretto_database):
    """The schema rules, over whatever tables exist (module tables included).

    For every table whose ``tenant_id`` is NOT NULL: a UNIQUE (tenant_id, id) key;
    every unique key leads with tenant_id (a global one would reveal, by a
    duplicate-key error, that another firm has that value); and every foreign key
    to another such table is composite, carrying tenant_id.
    """
    inspector = inspect(distretto_database.owner_engine)
    owned = {
        name
        for name in inspector.get_table_names()
        if any(c["name"] == "tenant_id" and not c["nullable"] for c in inspector.get_columns(name))
    }
    assert {"memberships", "invitations", "audit_entries", "tenant_modules"} <= owned
    problems = []
    for name in sorted(owned):
        uniques = [u["column_names"] for u in inspector.get_unique_constraints(name)]
        uniques += [i["column_names"] for i in inspector.get_indexes(name) if i["unique"]]
        if ["tenant_id", "id"] not in uniques:
            problems.append(f"{name}: no UNIQUE (tenant_id, id)")
        for columns in uniques:
            if "tenant_id" not in columns:
                problems.append(f"{name}: unique key {columns} is not scoped by tenant_id")
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] in owned and "tenant_id" not in fk["constrained_columns"]:
                problems.append(
                    f"{name}: {fk['constrained_columns']} -> {fk['referred_table']} "
                    "is not a composite (tenant_id, ...) reference"
                )
    assert problems == []


# --- no tenant context: fail closed ----------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda ids: select(GuardCustomer), id="select"),
        pytest.param(lambda ids: select(Membership.role), id="column-select"),
        pytest.param(lambda ids: select(func.count()).select_from(Membership), id="count"),
        pytest.param(lambda ids: select(aliased(GuardCustomer)), id="alias"),
        pytest.param(
            lambda ids: select(User.email).join(Membership, Membership.user_id == User.id),
            id="joined-only",
        ),
        pytest.param(
            lambda ids: select(User.email).where(User.id.in_(select(Membership.user_id))),
            id="subquery-only",
        ),
        pytest.param(
            lambda ids: select(User.id).join(
                Membership.__table__, Membership.__table__.c.user_id == User.id
            ),
            id="core-table-joined",
        ),
        pytest.param(lambda ids: update(GuardCustomer).values(name="x"), id="update"),
        pytest.param(lambda ids: delete(GuardOrder), id="delete"),
        pytest.param(
            lambda ids: insert(GuardCustomer).values(code="C-9", name="x", tenant_id=ids.a.id),
            id="bulk-insert",
        ),
    ],
)
def test_statements_on_tenant_models_outside_a_tenant_context_raise(
    firms, distretto_database, build
):
    before = owner_rows(distretto_database, "guardtest_customers", firms.a.id)
    with pytest.raises(TenantContextRequired):
        db.session.execute(build(firms))
    db.session.rollback()
    assert owner_rows(distretto_database, "guardtest_customers", firms.a.id) == before


def test_get_and_unit_of_work_writes_outside_a_tenant_context_raise(firms):
    with pytest.raises(TenantContextRequired):
        db.session.get(GuardCustomer, firms.a.customer_id)
    db.session.rollback()
    db.session.add(GuardCustomer(code="C-9", name="No firm", tenant_id=firms.a.id))
    with pytest.raises(TenantContextRequired):
        db.session.flush()
    db.session.rollback()


def test_core_table_statements_through_the_session_are_refused_inside_a_context(
    firms, distretto_database
):
    """The ORM criterion cannot reach a bare Table; refused rather than left unscoped."""
    table = GuardCustomer.__table__
    with tenant_context(firms.a.tenant):
        for statement in (
            select(table),
            select(func.count()).select_from(Membership.__table__),
            update(table).values(name="all firms"),
            delete(GuardOrder.__table__),
            insert(table).values(code="C-9", name="x", tenant_id=firms.b.id),
            insert(GuardCustomer).from_select(
                ["tenant_id", "code", "name"],
                select(GuardCustomer.tenant_id, GuardCustomer.code + "-copy", GuardCustomer.name),
            ),
        ):
            with pytest.raises(UnscopedStatement):
                db.session.execute(statement)
            db.session.rollback()
    assert owner_rows(distretto_database, "guardtest_customers", firms.b.id)[0][2] == (
        "Rossi S.p.A."
    )
    assert len(owner_rows(distretto_database, "guardtest_orders", firms.b.id)) == 1


# --- switching firm within one session ---------------------------------------------------------


def test_switching_firm_does_not_serve_the_previous_firms_cached_object(firms):
    with tenant_context(firms.a.tenant):
        cached = db.session.get(GuardCustomer, firms.a.customer_id)
        assert cached in db.session
    with tenant_context(firms.b.tenant):
        assert db.session.get(GuardCustomer, firms.a.customer_id) is None
        assert cached not in db.session
        assert db.session.execute(select(GuardCustomer.id)).scalars().all() == [firms.b.customer_id]


@contextmanager
def recorded_sql() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_committing_inside_a_firms_block_then_switching_firm_reloads_nothing(firms):
    """Expired objects (a commit expires them all) are told apart without a load.

    A request commits inside its firm's scope, and so may any block. Loading the
    expired objects at the switch ran under the wrong firm: outside any firm it
    raised TenantContextRequired on leaving the block; under firm B, row-level
    security hid the row (ObjectDeletedError on PostgreSQL) or SQLite read firm
    A's row unscoped.
    """
    firm_b = firms.b.tenant
    with ExitStack() as leave_a:  # also leaves A if an assertion fails half-way
        leave_a.enter_context(tenant_context(firms.a.tenant))
        held = db.session.get(GuardCustomer, firms.a.customer_id)
        assert [o.id for o in held.orders] == [firms.a.order_id]
        db.session.commit()
        firm_b.slug  # noqa: B018 - the firm's own row, expired by the commit too
        with recorded_sql() as statements:
            with tenant_context(firm_b):  # from A to B, inside A's block
                pass
            leave_a.close()  # from A to no firm
            with tenant_context(firm_b):  # from no firm to B
                pass
    assert [s for s in statements if "guardtest_" in s or "memberships" in s] == []
    with tenant_context(firm_b):
        assert db.session.get(GuardCustomer, firms.a.customer_id) is None
    with tenant_context(firms.a.tenant):  # back in A, the row is read normally
        assert db.session.get(GuardCustomer, firms.a.customer_id).name == "Rossi S.p.A."


def test_a_change_made_in_a_firms_block_is_kept_when_the_block_ends(firms, distretto_database):
    with tenant_context(firms.b.tenant):
        customer = db.session.get(GuardCustomer, firms.b.customer_id)
        customer.name = "Renamed in B"
        db.session.add(GuardCustomer(code="C-2", name="Added in B"))
    db.session.commit()
    names_b = [row[2] for row in owner_rows(distretto_database, "guardtest_customers", firms.b.id)]
    assert names_b == ["Renamed in B", "Added in B"]
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.a.id)) == 1


def test_an_object_left_pending_by_a_failed_block_never_lands_in_the_next_firm(
    firms, distretto_database
):
    firm_a = firms.a.tenant
    firm_a.slug  # noqa: B018 - loaded now, so entering A below needs no query (no autoflush)

    def fail_before_flushing() -> None:
        db.session.add(GuardCustomer(code="C-2", name="Begun in B"))
        raise LookupError("the block fails before anything is flushed")

    with pytest.raises(LookupError):
        flush_in(firms.b, fail_before_flushing)
    with pytest.raises(CrossTenantWrite), tenant_context(firm_a):
        db.session.flush()
    db.session.rollback()
    assert len(owner_rows(distretto_database, "guardtest_customers", firms.a.id)) == 1


def test_an_object_of_firm_b_added_back_in_firm_a_is_not_served_from_the_identity_map(firms):
    """A detached object of B (kept in a variable, a cache...) added to the session in A."""
    with tenant_context(firms.b.tenant):
        foreign = db.session.get(GuardCustomer, firms.b.customer_id)
    with tenant_context(firms.a.tenant):
        with db.session.no_autoflush:
            db.session.add(foreign)
            assert foreign in db.session
            assert db.session.get(GuardCustomer, firms.b.customer_id) is None
            db.session.expire(foreign)
            with pytest.raises((CrossTenantWrite, ObjectDeletedError)):
                foreign.name  # noqa: B018 - a refresh of B's row under A
        db.session.expunge(foreign)
    db.session.rollback()


def test_switching_firm_inside_an_open_transaction_rescopes_raw_sql(firms, is_postgres):
    """On PostgreSQL the tenant setting follows the context inside one transaction."""
    with tenant_context(firms.a.tenant):
        db.session.execute(select(GuardCustomer.id)).all()  # opens the transaction
        with tenant_context(firms.b.tenant):
            raw = db.session.execute(text("SELECT id FROM guardtest_customers")).scalars().all()
        back = db.session.execute(text("SELECT id FROM guardtest_customers")).scalars().all()
    db.session.rollback()
    if is_postgres:
        assert (raw, back) == ([firms.b.customer_id], [firms.a.customer_id])
    else:  # no second wall on SQLite: raw SQL is not scoped at all
        assert sorted(raw) == sorted(back) == sorted([firms.a.customer_id, firms.b.customer_id])


@pytest.mark.postgres_only
def test_module_table_protected_by_the_migration_helper_hides_other_firms_raw_rows(firms):
    with tenant_context(firms.a.tenant):
        raw = db.session.execute(text("SELECT tenant_id FROM guardtest_orders")).scalars().all()
        with pytest.raises(ProgrammingError, match="row-level security"):
            db.session.execute(
                text(
                    "INSERT INTO guardtest_customers (tenant_id, code, name) "
                    "VALUES (:b, 'C-9', 'x')"
                ),
                {"b": firms.b.id},
            )
    db.session.rollback()
    assert raw == [firms.a.id]
