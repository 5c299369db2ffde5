"""The database and the tenant guard.

Every tenant-owned model inherits :class:`TenantOwned`. The guard makes tenant
scoping automatic and fail-closed:

* outside a tenant context, an ORM statement touching a tenant-owned model raises
  :class:`TenantContextRequired`;
* inside one, every ORM SELECT, UPDATE and DELETE (relationship loads included)
  gets ``tenant_id = :current`` added, and every INSERT/UPDATE is stamped and
  checked in ``before_flush``; ORM bulk statements (``insert()``, ``update()``,
  ``delete()`` through the session, bulk UPDATE by primary key included) are
  checked the same way, and a Core statement naming a tenant-owned ``Table``
  through the session is refused, since the ORM criterion cannot reach it;
* switching tenant flushes the work done for the previous one and drops its
  objects from the identity map (without loading them), so that neither a
  cached object nor a pending one crosses to the next tenant;
* on PostgreSQL, the tenant is also set per transaction with ``set_config(...,
  true)`` so that row-level security policies are a second wall that holds even
  for raw SQL.

The only opt-out is the execution option ``all_tenants=True``, reserved for
``distretto.platform`` (row-level security still applies on PostgreSQL).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.schema import Table

from distretto.platform.context import current_actor_id, current_tenant_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Primary and foreign keys: BIGINT on PostgreSQL (Citus-ready), INTEGER on
#: SQLite where only ``INTEGER PRIMARY KEY`` is an auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TenantContextRequired(RuntimeError):
    """A tenant-owned model was touched with no tenant in context."""


class CrossTenantWrite(RuntimeError):
    """A write carried, or tried to change to, another tenant's ``tenant_id``."""


class UnscopedStatement(RuntimeError):
    """A statement the guard cannot scope to the current tenant.

    A Core ``Table`` (rather than the mapped class) of a tenant-owned model, or an
    ``INSERT ... FROM SELECT`` into one, executed through the session: the ORM
    criterion does not reach it, so on SQLite it would read or write every firm's
    rows. Use the model class, or ``execution_options(all_tenants=True)`` in
    platform code that must span firms.
    """


class TenantOwned:
    """Mixin for every tenant-owned model.

    Adds ``tenant_id`` (NOT NULL, referencing ``tenants``), ``UNIQUE (tenant_id,
    id)`` so other tenant-owned rows can reference this one by a composite key,
    and turns every :func:`tenant_ref` column into a composite foreign key
    ``(tenant_id, column) -> target(tenant_id, id)``: the database itself then
    refuses a reference across tenants.
    """

    __tenant_owned__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(BigId, ForeignKey("tenants.id"), nullable=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__table__")
        if isinstance(table, Table):
            _add_tenant_constraints(table)


def _add_tenant_constraints(table: Table) -> None:
    if "id" in table.c and not any(
        isinstance(c, UniqueConstraint) and [col.name for col in c.columns] == ["tenant_id", "id"]
        for c in table.constraints
    ):
        table.append_constraint(UniqueConstraint("tenant_id", "id"))
    for column in list(table.c):
        target = column.info.get("tenant_ref")
        if target:
            table.append_constraint(
                ForeignKeyConstraint(
                    ["tenant_id", column.name],
                    [f"{target}.tenant_id", f"{target}.id"],
                    ondelete=column.info.get("tenant_ref_ondelete"),
                )
            )
    table.info["tenant_owned"] = True


def tenant_ref(
    target_table: str, *, nullable: bool = False, ondelete: str | None = None, **kwargs: Any
) -> Any:
    """A reference to another tenant-owned table, as a composite foreign key.

    ``customer_id: Mapped[int] = tenant_ref("catalog_customers")``
    """
    info = {"tenant_ref": target_table, "tenant_ref_ondelete": ondelete}
    return mapped_column(BigId, nullable=nullable, info=info, **kwargs)


def is_tenant_owned(cls_or_table: Any) -> bool:
    if isinstance(cls_or_table, Table):
        return bool(cls_or_table.info.get("tenant_owned"))
    return bool(getattr(cls_or_table, "__tenant_owned__", False))


def tenant_tables() -> list[Table]:
    return [t for t in db.metadata.sorted_tables if is_tenant_owned(t)]


# --- the guard ---------------------------------------------------------------


def _statement_touches_tenant_tables(state: ORMExecuteState) -> bool:
    for mapper in state.all_mappers:
        if is_tenant_owned(mapper.class_):
            return True
    for element in visitors.iterate(state.statement):
        if isinstance(element, Table) and is_tenant_owned(element):
            return True
    return False


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants"):
        return
    tenant_id = current_tenant_id()
    if tenant_id is None:
        if _statement_touches_tenant_tables(state):
            raise TenantContextRequired(
                "a tenant-owned model was queried outside a tenant context; "
                "wrap the work in tenant_context(tenant)"
            )
        return
    state.statement = state.statement.options(_criteria_for(tenant_id))


def _criteria_for(tenant_id: int) -> Any:
    # The lambda is cached per class by SQLAlchemy; ``tenant_id`` is a closure
    # variable, which the lambda system extracts as a bound parameter.
    return with_loader_criteria(
        TenantOwned,
        lambda cls: cls.tenant_id == tenant_id,
        include_aliases=True,
        track_closure_variables=True,
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_writes(session: Session, flush_context: Any, instances: Any) -> None:
    tenant_id = current_tenant_id()
    for obj in session.new:
        if not is_tenant_owned(type(obj)):
            continue
        if tenant_id is None:
            raise TenantContextRequired(
                f"cannot insert {type(obj).__name__} outside a tenant context"
            )
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} carries another tenant's tenant_id")
    for obj in list(session.dirty) + list(session.deleted):
        if not is_tenant_owned(type(obj)):
            continue
        if tenant_id is None:
            raise TenantContextRequired(
                f"cannot change {type(obj).__name__} outside a tenant context"
            )
        history = inspect(obj).attrs.tenant_id.history
        original = history.deleted[0] if history.deleted else obj.tenant_id
        if history.has_changes() or original != tenant_id or obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another tenant")


@event.listens_for(TenantOwned, "load", propagate=True)
def _check_loaded_row(target: Any, context: Any) -> None:
    if context.execution_options.get("all_tenants"):
        return
    tenant_id = current_tenant_id()
    if tenant_id is not None and target.tenant_id != tenant_id:
        raise CrossTenantWrite(f"a {type(target).__name__} of another tenant was loaded")


@event.listens_for(Session, "after_begin")
def _set_database_scope(session: Session, transaction: Any, connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        _set_pg_scope(connection, current_tenant_id(), current_actor_id())


def _set_pg_scope(connection: Any, tenant_id: int | None, user_id: int | None) -> None:
    connection.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.user_id', :u, true)"),
        {
            "t": "" if tenant_id is None else str(tenant_id),
            "u": "" if user_id is None else str(user_id),
        },
    )


def refresh_database_scope() -> None:
    """Re-send the scope to PostgreSQL if a transaction is already open.

    Needed when the actor changes after the transaction began (the user is
    loaded from the database before the request knows who it is).
    """
    session = db.session()
    if session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _set_pg_scope(connection, current_tenant_id(), current_actor_id())


def after_tenant_switch(new_tenant_id: int | None) -> None:
    """Keep the session consistent with a tenant switch (see ``tenant_context``)."""
    try:
        session = db.session()
    except RuntimeError:  # no application context: nothing to keep consistent
        return
    for obj in list(session.identity_map.values()):
        if is_tenant_owned(type(obj)) and obj.tenant_id != new_tenant_id:
            session.expunge(obj)
    if session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _set_pg_scope(connection, new_tenant_id, current_actor_id())


#: Set for requests that will write (POST, PUT, PATCH, DELETE): on SQLite their
#: transaction starts with BEGIN IMMEDIATE, taking the write lock up front so
#: that two writers queue on busy_timeout instead of failing on a lock upgrade.
write_intent: ContextVar[bool] = ContextVar("distretto_write_intent", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's
        # documented recipe: let the driver autocommit and emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
