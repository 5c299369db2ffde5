"""Firms (tenants) and who belongs to them."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distretto.platform.db import BigId, TenantOwned, db, utcnow

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")

#: First path segments the platform uses itself; a firm cannot take them.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "district",
        "docs",
        "favicon.ico",
        "healthz",
        "help",
        "invitations",
        "login",
        "logout",
        "metrics",
        "operator",
        "operators",
        "password",
        "platform",
        "readyz",
        "robots.txt",
        "select-firm",
        "settings",
        "signup",
        "static",
        "status",
        "support",
        "www",
        "firms",
        "account",
        "me",
        "new",
        "switch",
    }
)


class TenantStatus:
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ALL = (ACTIVE, SUSPENDED)


class Tenant(db.Model):
    """A firm. Global (not tenant-owned): it is what tenant-owned rows point to."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str] = mapped_column(String(13))
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE)
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    default_locale: Mapped[str] = mapped_column(String(8), default="it")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Quotas set by operators; None = the platform default (distretto.platform.quotas).
    max_users: Mapped[int | None] = mapped_column()
    max_storage_mb: Mapped[int | None] = mapped_column()
    api_requests_per_minute: Mapped[int | None] = mapped_column()
    # Deletion asked by the owner (or an operator): purged once delete_after is past.
    deletion_requested_at: Mapped[datetime | None] = mapped_column()
    delete_after: Mapped[datetime | None] = mapped_column()

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Role:
    OWNER = "owner"
    ADMIN = "admin"
    STAFF = "staff"
    VIEWER = "viewer"
    ALL = (OWNER, ADMIN, STAFF, VIEWER)


ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Staff"),
    Role.VIEWER: _l("Viewer"),
}


def role_label(role: str) -> str:
    """A role's name in the reader's language (what pages and e-mails show, never the code)."""
    return str(ROLE_LABELS.get(role, role))


class Membership(TenantOwned, db.Model):
    """One person's role in one firm; a person may serve several firms."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        Index("ix_memberships_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", lazy="joined", innerjoin=True)

    @property
    def role_label(self) -> str:
        return role_label(self.role)


class Invitation(TenantOwned, db.Model):
    """An offer to join a firm with a role, redeemed once through a signed link."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_tenant_id_email", "tenant_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    nonce_hash: Mapped[str] = mapped_column(String(64))
    invited_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    accepted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def role_label(self) -> str:
        return role_label(self.role)
