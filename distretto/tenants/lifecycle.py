"""A firm leaving the platform: deletion asked, a grace period, then the purge.

The owner (or an operator) asks for the deletion; the firm keeps working until
``delete_after`` (``FIRM_DELETION_GRACE_DAYS``, 30 by default), every page
shows the date and offers the final export, and the owner can change their
mind. ``distretto firms purge`` (run from cron) then deletes every row of each
firm past its date: every table that refers to ``tenants`` (found in the
metadata, modules included), children before parents, then the firm's own row.
People's accounts stay: they may serve other firms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Column, Table

from distretto.platform import audit
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.tenants.models import Tenant
from distretto.tenants.services import TenantError

logger = logging.getLogger("distretto.lifecycle")

DEFAULT_GRACE_DAYS = 30


def grace_days() -> int:
    return int(current_app.config.get("FIRM_DELETION_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def request_deletion(tenant: Tenant, confirmation: str, *, by_operator: bool = False) -> Tenant:
    """Schedule the firm's deletion after the grace period; ``confirmation`` must be its slug."""
    if (confirmation or "").strip().lower() != tenant.slug:
        raise TenantError(
            _("Type the firm's address name, %(slug)s, to confirm.", slug=tenant.slug),
            "confirmation",
        )
    if tenant.delete_after is not None:
        raise TenantError(_("The deletion of this firm is already scheduled."), "confirmation")
    now = utcnow()
    tenant.deletion_requested_at = now
    tenant.delete_after = now + timedelta(days=grace_days())
    db.session.flush()
    with tenant_context(tenant):
        audit.record(
            "firm.deletion_requested",
            tenant,
            summary={
                "delete_after": tenant.delete_after.isoformat(timespec="seconds"),
                "by": "operator" if by_operator else "owner",
            },
        )
    logger.info("firm deletion requested slug=%s delete_after=%s", tenant.slug, tenant.delete_after)
    return tenant


def cancel_deletion(tenant: Tenant, *, by_operator: bool = False) -> Tenant:
    if tenant.delete_after is None:
        raise TenantError(_("No deletion is scheduled for this firm."), "confirmation")
    scheduled = tenant.delete_after
    tenant.deletion_requested_at = None
    tenant.delete_after = None
    db.session.flush()
    with tenant_context(tenant):
        audit.record(
            "firm.deletion_cancelled",
            tenant,
            summary={
                "delete_after": scheduled.isoformat(timespec="seconds"),
                "by": "operator" if by_operator else "owner",
            },
        )
    logger.info("firm deletion cancelled slug=%s", tenant.slug)
    return tenant


def pending_deletions() -> list[Tenant]:
    return list(
        db.session.execute(
            select(Tenant).where(Tenant.delete_after.is_not(None)).order_by(Tenant.delete_after)
        ).scalars()
    )


def firm_references() -> list[tuple[Table, Column]]:
    """Every column that refers to a firm, children before parents (from the metadata)."""
    found = []
    for table in reversed(db.metadata.sorted_tables):
        for constraint in table.foreign_key_constraints:
            if constraint.referred_table.name != "tenants":
                continue
            for element in constraint.elements:
                found.append((table, element.parent))
    return found


@dataclass
class PurgeResult:
    slug: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def purge_due(now: datetime | None = None) -> list[PurgeResult]:
    """Delete every firm whose grace period is over; each firm in its own transaction."""
    now = now or utcnow()
    due = db.session.execute(
        select(Tenant.id, Tenant.slug).where(
            Tenant.delete_after.is_not(None), Tenant.delete_after <= now
        )
    ).all()
    db.session.rollback()  # the purge writes through the owner's connection
    return [purge_firm(tenant_id, slug) for tenant_id, slug in due]


def purge_firm(tenant_id: int, slug: str) -> PurgeResult:
    """Delete every row of one firm, as the database owner (the trail is append-only for the app).

    On PostgreSQL the owner is held to row-level security like the app (FORCE):
    the firm is set as the transaction's scope, so the statements reach only its rows.
    """
    result = PurgeResult(slug=slug)
    engine = create_engine(current_app.config["MIGRATION_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            _scope(connection, tenant_id)
            existing = set(_table_names(connection))
            for table, column in firm_references():
                if table.name not in existing:
                    continue
                deleted = connection.execute(delete(table).where(column == tenant_id)).rowcount
                if deleted:
                    result.rows[table.name] = result.rows.get(table.name, 0) + deleted
            connection.execute(delete(Tenant.__table__).where(Tenant.__table__.c.id == tenant_id))
            result.rows["tenants"] = 1
    finally:
        engine.dispose()
    logger.warning("firm purged slug=%s id=%s rows=%d", slug, tenant_id, result.total)
    return result


def _scope(connection: Connection, tenant_id: int) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
        )


def _table_names(connection: Connection) -> list[str]:
    from sqlalchemy import inspect

    return inspect(connection).get_table_names()


def firm_row_count(tenant_id: int) -> int:
    """How many rows refer to the firm, across every table (tests and the console)."""
    total = 0
    engine = create_engine(current_app.config["MIGRATION_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            _scope(connection, tenant_id)
            existing = set(_table_names(connection))
            for table, column in firm_references():
                if table.name in existing:
                    total += connection.execute(
                        select(func.count()).select_from(table).where(column == tenant_id)
                    ).scalar_one()
    finally:
        engine.dispose()
    return total
