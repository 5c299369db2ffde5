"""Usage per firm, readable across firms without reading any firm's books.

Operators must see how much each firm uses (users, storage, documents per
month, last activity) for thousands of firms, yet every tenant-owned table is
walled by row-level security: the application cannot count another firm's
rows outside that firm's context. So usage lives in two *global* tables,
keyed by firm, that hold figures and never business data:

* ``tenant_stats``: one row per firm: members, bytes of stored files, an
  estimate of its rows, enabled modules, last activity, last collection;
* ``tenant_usage``: documents created per firm, month (UTC, ``YYYY-MM``) and
  document type.

They are maintained as things happen: a session listener notes, at each flush,
the documents started (workflow history ``create`` rows), audit entries
(activity), memberships, stored files and module switches. Documents are
counted inside the transaction that creates them, just before it commits (one
upsert per firm, month and type, taken last so the row lock is brief and no
deadlock forms), so a rolled-back change counts nothing. Recounts (members,
storage, modules) and the last activity (at most every few minutes per firm)
are written after the commit in a short transaction of their own. What a
crash between those two commits loses, or what changed behind the ORM's back,
``distretto usage collect`` recomputes exactly, visiting firms one by one in
their own tenant context (a job for cron, not for a page).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from distretto.platform.db import BigId, db, tenant_tables, utcnow

log = logging.getLogger(__name__)

#: Months of history the firm usage page shows.
HISTORY_MONTHS = 12


class TenantStats(db.Model):
    """Current figures of one firm. Global: numbers only, no firm data."""

    __tablename__ = "tenant_stats"

    firm_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    users: Mapped[int] = mapped_column(Integer, default=0)
    storage_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_estimate: Mapped[int] = mapped_column(BigInteger, default=0)
    modules: Mapped[str] = mapped_column(String(500), default="")
    last_activity_at: Mapped[datetime | None] = mapped_column()
    collected_at: Mapped[datetime | None] = mapped_column()

    @property
    def module_names(self) -> list[str]:
        return [m for m in (self.modules or "").split(",") if m]


class TenantUsage(db.Model):
    """Documents one firm created in one month, per document type. Global."""

    __tablename__ = "tenant_usage"
    __table_args__ = (Index("ix_tenant_usage_month", "month"),)

    firm_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11", UTC
    document_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)


def month_key(moment: datetime | None = None) -> str:
    return (moment or utcnow()).strftime("%Y-%m")


def last_months(count: int = HISTORY_MONTHS, now: datetime | None = None) -> list[str]:
    """The ``count`` months ending with the current one, oldest first."""
    year, month = (now or utcnow()).year, (now or utcnow()).month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


# --- maintained as things happen -------------------------------------------------------

_PENDING = "distretto.usage_pending"


@dataclass
class _Pending:
    documents: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    active: dict[int, datetime] = field(default_factory=dict)
    recount: dict[int, set[str]] = field(default_factory=dict)

    def mark(self, tenant_id: int, what: str) -> None:
        self.recount.setdefault(tenant_id, set()).add(what)


#: table -> what to recount for the firm when a row is added, changed or removed
_RECOUNT = {"memberships": "users", "stored_files": "storage", "tenant_modules": "modules"}


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context: Any) -> None:
    pending: _Pending | None = session.info.get(_PENDING)
    now = utcnow()

    def get() -> _Pending:
        nonlocal pending
        if pending is None:
            pending = session.info[_PENDING] = _Pending()
        return pending

    for obj in session.new:
        table = getattr(type(obj), "__tablename__", None)
        tenant_id = getattr(obj, "tenant_id", None)
        if tenant_id is None or table is None:
            continue
        if table == "workflow_history" and obj.transition == "create":
            get().documents[(tenant_id, month_key(obj.created_at or now), obj.document_type)] += 1
            if _activity_due(tenant_id, now):
                get().active[tenant_id] = now
        elif table == "audit_entries":
            if _activity_due(tenant_id, now):
                get().active[tenant_id] = now
        elif table in _RECOUNT:
            get().mark(tenant_id, _RECOUNT[table])
    for obj in list(session.deleted) + list(session.dirty):
        table = getattr(type(obj), "__tablename__", None)
        tenant_id = getattr(obj, "tenant_id", None)
        if tenant_id is not None and table in _RECOUNT:
            get().mark(tenant_id, _RECOUNT[table])


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "before_commit")
def _count_documents(session: Session) -> None:
    """Count the documents inside the transaction that creates them.

    One upsert per firm, month and type, on the same connection: no second
    transaction (on SQLite, a second write after every commit halved the
    throughput of the sales cycle), and a rollback takes the count with it.
    The row lock is taken last, just before the commit, so it is held briefly
    and after every other lock of the transaction (no deadlock between firms'
    clerks). Figures that need reading firm rows (recounts) and the
    throttled last activity are still written after the commit.
    """
    if session.get_nested_transaction() is not None:
        return
    session.flush()  # the commit's own flush comes after this hook: note it now
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None or not pending.documents:
        return
    documents, pending.documents = pending.documents, Counter()
    connection = session.connection()
    usage = TenantUsage.__table__
    for (tenant_id, month, document_type), count in sorted(documents.items()):
        _upsert(
            connection,
            usage,
            ["firm_id", "month", "document_type"],
            {
                "firm_id": tenant_id,
                "month": month,
                "document_type": document_type,
                "documents": count,
            },
            lambda excluded: {"documents": usage.c.documents + excluded.documents},
        )


_COMMITTED = "distretto.usage_committed"


@event.listens_for(Session, "after_commit")
def _changes_committed(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT released: the work is not committed until the root is
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is not None and (pending.documents or pending.active or pending.recount):
        session.info[_COMMITTED] = pending


@event.listens_for(Session, "after_transaction_end")
def _write_changes(session: Session, transaction: Any) -> None:
    """Write the figures once the transaction is over and its connection released.

    Not in ``after_commit``: the session still holds its connection there (on
    SQLite, the write lock; in the pool, the connection the next transaction
    should get back).
    """
    if transaction.parent is not None:
        return
    pending: _Pending | None = session.info.pop(_COMMITTED, None)
    if pending is None:
        return
    try:
        engine = session.get_bind()
        with engine.begin() as connection:
            _apply(connection, pending)
    except Exception:  # the change itself is committed; `usage collect` repairs the figures
        log.exception("usage figures not updated (run `distretto usage collect`)")


def _upsert(
    connection: Any, table: Any, keys: list[str], values: dict[str, Any], update: Any
) -> None:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values)
    connection.execute(
        statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded))
    )


def _scope(connection: Any, tenant_id: int | None) -> None:
    """Row-level security: let this connection read ``tenant_id``'s rows (PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"),
            {"t": "" if tenant_id is None else str(tenant_id)},
        )


def _apply(connection: Any, pending: _Pending) -> None:
    from distretto.tenants.models import Tenant

    stats = TenantStats.__table__
    usage = TenantUsage.__table__
    named = set(pending.active) | set(pending.recount) | {key[0] for key in pending.documents}
    table = Tenant.__table__
    # a firm purged meanwhile has no figures to keep
    existing = set(connection.execute(select(table.c.id).where(table.c.id.in_(named))).scalars())
    tenants = sorted((set(pending.active) | set(pending.recount)) & existing)
    for tenant_id in tenants:  # one order for every writer: no deadlock between them
        values: dict[str, Any] = {"firm_id": tenant_id}
        if tenant_id in pending.active:
            values["last_activity_at"] = pending.active[tenant_id]
        what = pending.recount.get(tenant_id, set())
        if what:
            _scope(connection, tenant_id)
            values.update(_recount(connection, tenant_id, what))
            _scope(connection, None)
        columns = [k for k in values if k != "firm_id"]
        _upsert(
            connection,
            stats,
            ["firm_id"],
            values,
            lambda excluded, columns=columns: {c: excluded[c] for c in columns},
        )
    for (tenant_id, month, document_type), count in sorted(pending.documents.items()):
        if tenant_id not in existing:
            continue
        _upsert(
            connection,
            usage,
            ["firm_id", "month", "document_type"],
            {
                "firm_id": tenant_id,
                "month": month,
                "document_type": document_type,
                "documents": count,
            },
            lambda excluded: {"documents": usage.c.documents + excluded.documents},
        )


def _recount(connection: Any, tenant_id: int, what: Iterable[str]) -> dict[str, Any]:
    """Exact figures of one firm, read through ``connection`` (scoped to the firm)."""
    from distretto.platform.files import StoredFile
    from distretto.platform.modules import TenantModule
    from distretto.tenants.models import Membership

    values: dict[str, Any] = {}
    if "users" in what:
        table = Membership.__table__
        values["users"] = connection.execute(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
        ).scalar_one()
    if "storage" in what:
        table = StoredFile.__table__
        values["storage_bytes"] = connection.execute(
            select(func.coalesce(func.sum(table.c.size), 0)).where(table.c.tenant_id == tenant_id)
        ).scalar_one()
    if "modules" in what:
        table = TenantModule.__table__
        names = connection.execute(
            select(table.c.module)
            .where(table.c.tenant_id == tenant_id, table.c.enabled.is_(True))
            .order_by(table.c.module)
        ).scalars()
        values["modules"] = ",".join(names)[:500]
    return values


# --- collected exactly, firm by firm -------------------------------------------------------


def _month_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _existing_tenant_tables(connection: Any) -> list[Any]:
    """Tenant-owned tables present in the database (a broken module's may be missing)."""
    from sqlalchemy import inspect

    present = set(inspect(connection).get_table_names())
    return [table for table in tenant_tables() if table.name in present]


def collect(tenant: Any, *, tables: list[Any] | None = None) -> TenantStats:
    """Recompute one firm's figures exactly, inside its own tenant context.

    Replaces its ``tenant_usage`` rows and its ``tenant_stats`` row, and the
    district-template versions it adopted. Flushes; the caller commits.
    """
    from distretto.platform.audit import AuditEntry
    from distretto.platform.context import tenant_context
    from distretto.platform.workflow.engine import WorkflowHistory
    from distretto.tenants import district_templates

    session = db.session
    with tenant_context(tenant):
        connection = session.connection()
        figures = _recount(connection, tenant.id, ("users", "storage", "modules"))
        rows = 0
        for table in tables if tables is not None else _existing_tenant_tables(connection):
            rows += session.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.tenant_id == tenant.id)
                .execution_options(all_tenants=True)
            ).scalar_one()
        month = _month_of(WorkflowHistory.created_at, connection.dialect.name)
        documents = session.execute(
            select(WorkflowHistory.document_type, month, func.count())
            .where(WorkflowHistory.transition == "create")
            .group_by(WorkflowHistory.document_type, month)
        ).all()
        last_audit = session.execute(select(func.max(AuditEntry.created_at))).scalar_one()
        adopted = district_templates.adopted_by_current_firm()
    stats = session.get(TenantStats, tenant.id) or TenantStats(firm_id=tenant.id)
    session.add(stats)
    stats.users = figures["users"]
    stats.storage_bytes = int(figures["storage_bytes"])
    stats.modules = figures["modules"]
    stats.rows_estimate = rows
    stats.last_activity_at = max(
        [d for d in (stats.last_activity_at, last_audit) if d is not None], default=None
    )
    stats.collected_at = utcnow()
    session.execute(TenantUsage.__table__.delete().where(TenantUsage.firm_id == tenant.id))
    for document_type, month_text, count in documents:
        session.add(
            TenantUsage(
                firm_id=tenant.id, month=month_text, document_type=document_type, documents=count
            )
        )
    district_templates.record_adoptions(tenant.id, adopted)
    session.flush()
    return stats


def collect_all(slugs: Iterable[str] | None = None, *, batch: int = 200) -> int:
    """Collect every firm (or the named ones), committing after each; returns how many."""
    from distretto.tenants.models import Tenant

    wanted = list(slugs or [])
    tables = _existing_tenant_tables(db.session.connection())
    done = 0
    last_id = 0
    while True:
        query = select(Tenant).where(Tenant.id > last_id).order_by(Tenant.id).limit(batch)
        if wanted:
            query = query.where(Tenant.slug.in_(wanted))
        tenants = db.session.execute(query).scalars().all()
        if not tenants:
            return done
        for tenant in tenants:
            last_id = tenant.id
            collect(tenant, tables=tables)
            db.session.commit()
            done += 1


# --- what the console and /metrics read -------------------------------------------------


def stats_for(tenant_ids: Iterable[int]) -> dict[int, TenantStats]:
    ids = list(tenant_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(TenantStats).where(TenantStats.firm_id.in_(ids))).scalars()
    return {row.firm_id: row for row in rows}


def documents_this_month(tenant_ids: Iterable[int]) -> dict[int, int]:
    ids = list(tenant_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(TenantUsage.firm_id, func.sum(TenantUsage.documents))
        .where(TenantUsage.firm_id.in_(ids), TenantUsage.month == month_key())
        .group_by(TenantUsage.firm_id)
    ).all()
    return {tenant_id: int(total or 0) for tenant_id, total in rows}


@dataclass
class FirmUsage:
    months: list[str]
    document_types: list[str]
    documents: dict[str, dict[str, int]]  # document type -> month -> count
    totals: dict[str, int]  # month -> count
    active_users: int
    users: int
    storage_bytes: int
    rows_estimate: int
    stats: TenantStats | None


def firm_usage(tenant: Any) -> FirmUsage:
    """One firm's usage for the operator: 12 months of documents, users, storage.

    Active users are members who signed in during the last 30 days; memberships
    are the firm's own rows, so they are counted inside its context (one firm,
    a bounded count).
    """
    from distretto.platform.auth.models import User
    from distretto.platform.context import tenant_context
    from distretto.tenants.models import Membership

    months = last_months()
    rows = db.session.execute(
        select(TenantUsage.document_type, TenantUsage.month, TenantUsage.documents).where(
            TenantUsage.firm_id == tenant.id, TenantUsage.month >= months[0]
        )
    ).all()
    documents: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(months, 0)
    for document_type, month, count in rows:
        if month in totals:
            documents.setdefault(document_type, {})[month] = count
            totals[month] += count
    since = utcnow() - timedelta(days=30)
    with tenant_context(tenant):
        users, active = db.session.execute(
            select(
                func.count(),
                func.count().filter(
                    and_(User.last_login_at.is_not(None), User.last_login_at >= since)
                ),
            )
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
        ).one()
    stats = db.session.get(TenantStats, tenant.id)
    from distretto.platform.quotas import ROW_BYTES_ESTIMATE

    return FirmUsage(
        months=months,
        document_types=sorted(documents),
        documents=documents,
        totals=totals,
        active_users=int(active),
        users=int(users),
        storage_bytes=int(stats.storage_bytes) if stats else 0,
        rows_estimate=int(stats.rows_estimate) * ROW_BYTES_ESTIMATE if stats else 0,
        stats=stats,
    )


@dataclass
class Overview:
    firms_by_status: dict[str, int]
    firms: int
    users: int
    active_users: int
    documents_this_month: int
    documents_by_type: dict[str, int]
    storage_bytes: int
    outbox_pending: int
    outbox_failed: int


def overview() -> Overview:
    """Platform-wide figures: a handful of aggregate queries, whatever the number of firms."""
    from distretto.platform.auth.models import User
    from distretto.tenants.models import Tenant

    by_status = dict(
        db.session.execute(select(Tenant.status, func.count()).group_by(Tenant.status)).all()
    )
    since = utcnow() - timedelta(days=30)
    users, active = db.session.execute(
        select(
            func.count(),
            func.count().filter(and_(User.last_login_at.is_not(None), User.last_login_at >= since)),
        ).where(User.is_operator.is_(False))
    ).one()
    by_type = dict(
        db.session.execute(
            select(TenantUsage.document_type, func.sum(TenantUsage.documents))
            .where(TenantUsage.month == month_key())
            .group_by(TenantUsage.document_type)
        ).all()
    )
    storage = db.session.execute(
        select(func.coalesce(func.sum(TenantStats.storage_bytes), 0))
    ).scalar_one()
    pending, failed = outbox_counts()
    return Overview(
        firms_by_status={k: int(v) for k, v in by_status.items()},
        firms=sum(int(v) for v in by_status.values()),
        users=int(users),
        active_users=int(active),
        documents_this_month=sum(int(v or 0) for v in by_type.values()),
        documents_by_type={k: int(v or 0) for k, v in by_type.items()},
        storage_bytes=int(storage or 0),
        outbox_pending=pending,
        outbox_failed=failed,
    )


def outbox_counts() -> tuple[int, int]:
    """(messages waiting to be delivered, messages that gave up)."""
    from distretto.platform.outbox import OutboxMessage

    pending, failed = db.session.execute(
        select(
            func.count().filter(
                and_(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
            ),
            func.count().filter(OutboxMessage.failed_at.is_not(None)),
        )
    ).one()
    return int(pending), int(failed)


def documents_by_type_total() -> Mapping[str, int]:
    rows = db.session.execute(
        select(TenantUsage.document_type, func.sum(TenantUsage.documents)).group_by(
            TenantUsage.document_type
        )
    ).all()
    return {k: int(v or 0) for k, v in rows}


def search_condition(q: str) -> Any:
    """Firms whose name, address or VAT number contains ``q``."""
    from distretto.platform.listing import like_pattern
    from distretto.tenants.models import Tenant

    pattern = like_pattern(q.strip())
    return or_(
        Tenant.legal_name.ilike(pattern, escape="\\"),
        Tenant.slug.ilike(pattern, escape="\\"),
        Tenant.vat_number.ilike(pattern, escape="\\"),
    )


def register_cli(app: Any) -> None:
    import click

    from distretto.platform.cli import transactional

    group = click.Group("usage", help="Usage figures per firm (quotas, console, /metrics).")

    @group.command("collect")
    @click.argument("slugs", nargs=-1)
    @transactional
    def collect_command(slugs: tuple[str, ...]) -> None:
        """Recompute the usage figures of every firm (or of the firms SLUGS) exactly."""
        count = collect_all(slugs)
        click.echo(f"usage collected for {count} firm(s)")

    app.cli.add_command(group)


#: A firm's pages being used is activity too, noted at most this often per process.
PAGE_ACTIVITY_EVERY = timedelta(minutes=5)
_page_activity: dict[int, datetime] = {}


def _activity_due(tenant_id: int, now: datetime) -> bool:
    """Whether the firm's last activity is worth writing again (at most every few minutes).

    Every change writes an audit entry; writing the firm's last activity for each
    of them would add a write to every transaction for a figure shown in minutes.
    """
    last = _page_activity.get(tenant_id)
    if last is not None and now - last < PAGE_ACTIVITY_EVERY:
        return False
    _page_activity[tenant_id] = now
    return True


def note_page_activity(tenant_id: int) -> None:
    """Someone used the firm's pages: its last activity moves on (throttled per process).

    Written with the request's commit, like every other figure, so a page view
    costs no query of its own and at most one small write every few minutes.
    """
    now = utcnow()
    last = _page_activity.get(tenant_id)
    if last is not None and now - last < PAGE_ACTIVITY_EVERY:
        return
    _page_activity[tenant_id] = now
    session = db.session()
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
    pending.active[tenant_id] = now


def init_app(app: Any) -> None:
    """Quota refusals as clear 413 answers, ``distretto usage``, ``/metrics``, page activity."""
    from flask import g

    _page_activity.clear()  # a new app (a new database, in tests) owes nothing to the last

    from distretto.platform import quotas
    from distretto.platform.metrics import bp as metrics_bp

    quotas.init_app(app)
    register_cli(app)
    app.register_blueprint(metrics_bp)

    @app.after_request
    def firm_page_used(response: Any) -> Any:
        # runs before the request's commit (after_request functions run last-registered first)
        tenant = g.get("tenant")
        if tenant is not None and response.status_code < 400:
            note_page_activity(int(tenant.id))
        return response
