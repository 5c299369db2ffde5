"""Support access: a firm's owner lets a named district operator read its pages for a while.

Operators run the platform, not the firms' books: without a grant a firm's
pages answer them 404 (see :func:`distretto.platform.web._active_support_grant`,
which calls :func:`live_grant` through ``app.extensions["distretto.support_grant"]``).

What a grant allows, decided here and nowhere else:

* **read only**: under a grant the operator holds the *viewer* role's
  permissions (:func:`distretto.platform.permissions.current_role`), so the
  settings, members and audit pages stay closed, and any request that is not
  GET/HEAD/OPTIONS is refused with 403 before a view runs;
* **for a limited time**: 1 to 72 hours, chosen by the owner; the owner may
  revoke it at any moment, and an expired or revoked grant stops access at the
  very next request;
* **in plain sight**: every page the operator opens (refused writes included)
  is written to the firm's audit trail as ``support.page_viewed`` (or
  ``support.write_refused``), committed before the view runs so a failing page
  leaves its trace too; the firm's users see a banner while a grant is live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, abort, g, request
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distretto.platform import audit
from distretto.platform.auth.models import User
from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.tenants.models import Tenant

MIN_HOURS = 1
MAX_HOURS = 72
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: what a page loads along with itself (the header's logo): not a page of its own
NOT_PAGES = frozenset({"firm.logo"})


class SupportGrant(TenantOwned, db.Model):
    """A firm's consent that one operator reads its pages until ``expires_at``."""

    __tablename__ = "support_grants"
    __table_args__ = (
        Index("ix_support_grants_tenant_id_expires_at", "tenant_id", "expires_at"),
        Index("ix_support_grants_operator_id", "operator_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operator_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    granted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    operator = relationship("User", foreign_keys=[operator_id], lazy="joined", innerjoin=True)
    granted_by = relationship("User", foreign_keys=[granted_by_id], lazy="joined")

    def is_live(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "live" if self.expires_at > utcnow() else "expired"


class SupportError(ValueError):
    """A grant the rules refuse; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _live() -> Any:
    return (SupportGrant.revoked_at.is_(None), SupportGrant.expires_at > utcnow())


def grant_access(
    operator_email: str, hours: int, reason: str, *, granted_by: User | None
) -> SupportGrant:
    """Grant the operator with ``operator_email`` read access to the current firm.

    Only an operator account can be granted: a firm cannot use this to let an
    ordinary user of another firm in.
    """
    email = (operator_email or "").strip()
    operator = db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one_or_none()
    if operator is None or not operator.is_operator or not operator.is_active:
        raise SupportError(
            _("%(email)s is not an operator of the district platform.", email=email[:254]),
            "operator_email",
        )
    if not isinstance(hours, int) or not MIN_HOURS <= hours <= MAX_HOURS:
        raise SupportError(
            _("Choose between %(min)d and %(max)d hours.", min=MIN_HOURS, max=MAX_HOURS),
            "hours",
        )
    reason = (reason or "").strip()
    if not reason:
        raise SupportError(_("Say why the operator needs access."), "reason")
    now = utcnow()
    grant = SupportGrant(
        operator_id=operator.id,
        granted_by_id=granted_by.id if granted_by else None,
        reason=reason[:2000],
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "support.granted",
        grant,
        summary={
            "operator": operator.email,
            "hours": hours,
            "expires_at": grant.expires_at.isoformat(timespec="seconds"),
            "reason": grant.reason,
        },
    )
    return grant


def revoke(grant: SupportGrant, *, revoked_by: User | None) -> SupportGrant:
    """End a grant now; the operator's next request is refused."""
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = utcnow()
    grant.revoked_by_id = revoked_by.id if revoked_by else None
    db.session.flush()
    audit.record("support.revoked", grant, summary={"operator": grant.operator.email})
    return grant


def grants() -> list[SupportGrant]:
    """Every grant of the current firm, newest first (live ones and history)."""
    return list(
        db.session.execute(
            select(SupportGrant).order_by(SupportGrant.created_at.desc(), SupportGrant.id.desc())
        )
        .scalars()
        .all()
    )


def live_grant(tenant: Tenant, user: Any) -> SupportGrant | None:
    """The hook the kernel calls for a non-member operator (inside ``tenant``'s context)."""
    return db.session.execute(
        select(SupportGrant)
        .where(SupportGrant.operator_id == user.id, *_live())
        .order_by(SupportGrant.expires_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def live_until() -> datetime | None:
    """When the current firm's last live grant ends (the members' banner), or None."""
    return db.session.execute(
        select(func.max(SupportGrant.expires_at)).where(*_live())
    ).scalar_one_or_none()


@dataclass
class GrantedFirm:
    tenant: Tenant
    grant: SupportGrant


def firms_granting(operator: User) -> list[GrantedFirm]:
    """The firms whose live grant names ``operator`` (the operator console's list).

    A read across firms limited to the operator's own grants: on PostgreSQL the
    ``support_grants`` policy lets a row be read when it names ``app.user_id``.
    """
    from distretto.platform.auth.services import acting_as

    with acting_as(operator):
        rows = db.session.execute(
            select(SupportGrant, Tenant)
            .join(Tenant, Tenant.id == SupportGrant.tenant_id)
            .where(SupportGrant.operator_id == operator.id, *_live())
            .order_by(SupportGrant.expires_at, Tenant.legal_name)
            .execution_options(all_tenants=True)
        ).all()
    return [GrantedFirm(tenant, grant) for grant, tenant in rows]


# --- the request side ----------------------------------------------------------------


def _under_grant() -> None:
    """Write each page an operator opens under a grant to the firm's trail; refuse writes."""
    grant = g.get("support_grant")
    if grant is None or g.get("membership") is not None:
        return
    write = request.method not in SAFE_METHODS
    if not write and request.endpoint in NOT_PAGES:
        return
    audit.record(
        "support.write_refused" if write else "support.page_viewed",
        grant,
        summary={
            "method": request.method,
            "path": request.full_path.rstrip("?"),
            "endpoint": request.endpoint,
        },
    )
    # Committed now, not at the end of the request: a page that fails or is
    # refused (the writes below) must leave its trace all the same.
    db.session.commit()
    if write:
        abort(403)


def support_banner() -> dict[str, Any] | None:
    """What the layout's support banner shows on a firm's page, or None.

    Called from ``platform/base.html`` (so fragments rendered without the
    layout cost no query): an operator browsing under a grant reads until when;
    the firm's own users read that an operator has access, and until when.
    """
    if g.get("tenant") is None:
        return None
    grant = g.get("support_grant")
    if grant is not None and g.get("membership") is None:
        return {"operator": True, "until": grant.expires_at}
    if g.get("membership") is not None:
        until = live_until()
        if until is not None:
            return {"operator": False, "until": until}
    return None


def init_app(app: Flask) -> None:
    app.extensions["distretto.support_grant"] = live_grant
    app.before_request(_under_grant)
    app.jinja_env.globals["support_banner"] = support_banner
