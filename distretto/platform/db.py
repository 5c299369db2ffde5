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

from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.sql.elements import BindParameter, ClauseElement, ColumnElement
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


class TenantSession(FlaskSession):
    """The application's session: identity-map lookups respect the tenant.

    ``session.get()`` and many-to-one lazy loads look in the identity map before
    any SQL the guard could scope. Switching tenant empties the map of the old
    tenant's objects, but an object can still arrive another way (loaded with
    ``all_tenants=True``, or a detached object added back); inside a tenant
    context such an object is treated as absent, so the lookup falls through to
    a scoped SELECT. (The same extension point SQLAlchemy's horizontal sharding
    uses.)
    """

    def _identity_lookup(
        self, mapper: Any, primary_key_identity: Any, *args: Any, **kw: Any
    ) -> Any:
        tenant_id = current_tenant_id()
        options = kw.get("execution_options") or {}
        if (
            tenant_id is not None
            and is_tenant_owned(mapper.class_)
            and not options.get("all_tenants")
        ):
            token = args[0] if args else kw.get("identity_token")
            key = mapper.identity_key_from_primary_key(primary_key_identity, identity_token=token)
            cached = self.identity_map.get(key)
            if cached is not None and _owner_of(inspect(cached)) != tenant_id:
                return None
        return super()._identity_lookup(mapper, primary_key_identity, *args, **kw)


db = SQLAlchemy(model_class=Base, session_options={"class_": TenantSession})


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

#: Key in an instance's ``InstanceState.info`` under which the guard remembers the
#: tenant a tenant-owned object belongs to. Unlike the attribute, it survives
#: expiry (every commit expires), so a tenant switch can tell whose an object is
#: without loading it: a load there would run under the wrong tenant.
_OWNER_KEY = "distretto.tenant_id"


def _tenant_tables_in(statement: Any) -> Iterator[tuple[str, bool]]:
    """Each tenant-owned table a statement names, and whether via a mapped class.

    What is reached through a mapped class (``select(Model)``, ``Model.column``, a
    relationship join, an alias) carries the ``parententity`` annotation and is
    covered by the ORM criterion; a bare ``Model.__table__`` is not.
    """
    stack: list[tuple[Any, bool]] = [(statement, False)]
    seen: set[int] = set()
    while stack:
        element, mapped = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        entity = getattr(element, "_annotations", {}).get("parententity")
        if entity is not None:
            if is_tenant_owned(entity.mapper.class_):
                yield entity.mapper.local_table.name, True
            if isinstance(element, ColumnElement):
                continue  # a mapped column: its only child is its (mapped) table
            mapped = True
        if isinstance(element, Table):
            if is_tenant_owned(element):
                yield element.name, mapped
            continue  # a table's children are its columns: nothing more to find
        stack.extend((child, mapped) for child in element.get_children())


def _statement_touches_tenant_tables(state: ORMExecuteState) -> bool:
    if any(is_tenant_owned(mapper.class_) for mapper in state.all_mappers):
        return True
    return next(_tenant_tables_in(state.statement), None) is not None


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_insert or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_tenants"):
        # Set on the statement, the option would not reach the load event's
        # context (it sees only the options given to execute()): pass it on.
        state.update_execution_options(all_tenants=True)
        return
    tenant_id = current_tenant_id()
    if tenant_id is None:
        if _statement_touches_tenant_tables(state):
            raise TenantContextRequired(
                "a tenant-owned model was queried outside a tenant context; "
                "wrap the work in tenant_context(tenant)"
            )
        return
    if state.is_column_load:
        # Refreshing an object already in the session (expired attributes, or
        # session.get() of a known identity): SQLAlchemy does not apply loader
        # criteria to these loads, and the identity map only holds this
        # tenant's objects (TenantSession._identity_lookup, _check_loaded_row).
        # Adding the option anyway would only defeat the statement cache.
        return
    # A mapped column's FROM is the bare table, so a table counts as Core-only
    # when nothing in the statement reaches it through a mapped class.
    tables = list(_tenant_tables_in(state.statement))
    unmapped = sorted({n for n, m in tables if not m} - {n for n, m in tables if m})
    if unmapped:
        raise UnscopedStatement(
            f"Core statement on tenant-owned table(s) {', '.join(unmapped)} through the session: "
            "the tenant criterion only reaches mapped classes; use the model class"
        )
    if state.is_insert:
        _scope_insert(state, tenant_id)
        return
    if state.is_update:
        _refuse_tenant_change(state, tenant_id)
        if isinstance(state.parameters, list) and state.parameters:
            _refuse_foreign_primary_keys(state)
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


_UNKNOWN = object()


def _column_name(key: Any) -> str | None:
    return key if isinstance(key, str) else getattr(key, "key", None)


def _plain_value(value: Any) -> Any:
    """The Python value behind a DML assignment, or ``_UNKNOWN`` for an expression."""
    if isinstance(value, BindParameter):
        return value.effective_value
    if isinstance(value, ClauseElement):
        return _UNKNOWN
    return value


def _is_tenant(value: Any, tenant_id: int) -> bool:
    value = _plain_value(value)
    if value is _UNKNOWN or value is None or isinstance(value, bool):
        return False
    try:
        return int(value) == tenant_id
    except (TypeError, ValueError):
        return False


def _assigned_tenant_ids(state: ORMExecuteState) -> list[Any]:
    """Every value a DML statement (and its parameters) assigns to ``tenant_id``."""
    statement = state.statement
    found = [v for k, v in (statement._values or {}).items() if _column_name(k) == "tenant_id"]
    for row in getattr(statement, "_multi_values", ()) or ():
        for values in row:
            if isinstance(values, dict):
                found += [v for k, v in values.items() if _column_name(k) == "tenant_id"]
            else:  # positional rows: cannot tell which value is tenant_id
                found.append(_UNKNOWN)
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    found += [row["tenant_id"] for row in rows if isinstance(row, dict) and "tenant_id" in row]
    return found


def _scope_insert(state: ORMExecuteState, tenant_id: int) -> None:
    """ORM bulk INSERT: refuse another tenant's ``tenant_id``, stamp a missing one."""
    statement = state.statement
    if not is_tenant_owned(statement.table):
        return
    if statement.select is not None:
        raise UnscopedStatement(
            f"INSERT ... FROM SELECT into {statement.table.name}: the guard cannot check "
            "which tenant the selected rows belong to; insert the rows one by one"
        )
    assigned = _assigned_tenant_ids(state)
    if any(not _is_tenant(value, tenant_id) for value in assigned):
        raise CrossTenantWrite(f"INSERT into {statement.table.name} carries another tenant_id")
    parameters = state.parameters
    if isinstance(parameters, list) and parameters:
        state.parameters = [
            row if "tenant_id" in row else {**row, "tenant_id": tenant_id} for row in parameters
        ]
    elif isinstance(parameters, dict) and parameters:
        if not assigned:
            state.parameters = {**parameters, "tenant_id": tenant_id}
    elif not assigned and not statement._multi_values:
        state.statement = statement.values(tenant_id=tenant_id)


def _refuse_tenant_change(state: ORMExecuteState, tenant_id: int) -> None:
    if any(not _is_tenant(value, tenant_id) for value in _assigned_tenant_ids(state)):
        raise CrossTenantWrite(
            f"UPDATE of {state.statement.table.name} would move rows to another tenant"
        )


def _refuse_foreign_primary_keys(state: ORMExecuteState) -> None:
    """ORM bulk UPDATE by primary key: every row named must be the tenant's own.

    SQLAlchemy builds that statement's WHERE from the primary key alone, so the
    tenant criterion does not reach it; the rows are looked up (scoped) first.
    """
    mapper = state.bind_mapper
    if mapper is None or not is_tenant_owned(mapper.class_):
        return
    keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
    attributes = [getattr(mapper.class_, key) for key in keys]
    wanted = {tuple(row.get(key) for key in keys) for row in state.parameters}
    if len(attributes) == 1:
        criterion = attributes[0].in_([ident[0] for ident in wanted])
    else:
        criterion = tuple_(*attributes).in_(list(wanted))
    found = {tuple(row) for row in state.session.execute(select(*attributes).where(criterion))}
    if found != wanted:
        raise CrossTenantWrite(
            f"bulk UPDATE of {mapper.class_.__name__} names rows that are not the current tenant's"
        )


def _remember_owner(target: Any) -> int | None:
    state = inspect(target)
    owner = state.dict.get("tenant_id")
    if owner is not None:
        state.info[_OWNER_KEY] = owner
    return owner


def _owner_of(state: Any) -> int | None:
    owner = state.dict.get("tenant_id")
    return owner if owner is not None else state.info.get(_OWNER_KEY)


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
        _remember_owner(obj)
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
    owner = _remember_owner(target)
    if context is None or context.execution_options.get("all_tenants"):
        return  # None: a bulk UPDATE copying its SET values onto objects in the session
    tenant_id = current_tenant_id()
    if tenant_id is not None and owner is not None and owner != tenant_id:
        raise CrossTenantWrite(f"a {type(target).__name__} of another tenant was loaded")


@event.listens_for(TenantOwned, "refresh", propagate=True)
def _check_refreshed_row(target: Any, context: Any, attrs: Any) -> None:
    # Expired-attribute loads and session.refresh() select by primary key alone;
    # an object of another tenant must not be brought up to date under this one.
    _check_loaded_row(target, context)


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


def before_tenant_switch() -> None:
    """Flush the work done for the tenant being left, while it is still current.

    Without this, a change made in one tenant's block and not yet flushed was
    either lost (the object was expunged at the switch) or, for a new object,
    stamped with the *next* tenant's id at its first flush.
    """
    try:
        session = db.session()
    except RuntimeError:  # no application context: no session to flush
        return
    if session.new or session.deleted or session.dirty:
        session.flush()


def after_tenant_switch(new_tenant_id: int | None, old_tenant_id: int | None = None) -> None:
    """Keep the session consistent with a tenant switch (see ``tenant_context``).

    Objects not known to belong to the new tenant leave the identity map, so
    ``session.get()`` cannot hand them out without SQL. Whose an object is comes
    from its loaded attribute or the owner remembered at load/flush, never from
    a load: that would run under the new tenant (a spurious ObjectDeletedError
    under RLS, or another tenant's row read unscoped on SQLite).
    """
    try:
        session = db.session()
    except RuntimeError:  # no application context: nothing to keep consistent
        return
    if old_tenant_id is not None:
        # Reached with pending objects only when the old tenant's block failed:
        # pin them to it, so a later flush refuses them instead of stamping them
        # with the new tenant's id.
        for obj in list(session.new):
            if is_tenant_owned(type(obj)) and inspect(obj).dict.get("tenant_id") is None:
                obj.tenant_id = old_tenant_id
    for state in list(session.identity_map.all_states()):
        obj = state.obj()
        if obj is None or not is_tenant_owned(type(obj)):
            continue
        if (new_tenant_id is None or _owner_of(state) != new_tenant_id) and obj in session:
            try:
                session.expunge(obj)
            except InvalidRequestError:  # already gone with a cascade from its parent
                pass
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return  # nothing open, or a failed one; after_begin scopes the next transaction
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    driver = connection.connection.driver_connection
    status = getattr(getattr(driver, "info", None), "transaction_status", None)
    if getattr(status, "name", None) == "INERROR":
        return  # the aborted transaction can only be rolled back
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
