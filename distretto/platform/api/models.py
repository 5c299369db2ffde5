"""What the API keeps in the database: per-firm tokens and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform.db import BigId, TenantOwned, db, utcnow


class ApiToken(TenantOwned, db.Model):
    """A firm's API token: only the SHA-256 of its secret is kept.

    The token acts for the member who created it, with the permissions chosen at
    creation, and never more than that member's role holds at the time of the
    request: a token stops working when its creator leaves the firm.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "secret_hash"),
        Index("ix_api_tokens_list", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(TenantOwned, db.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed on repeats.

    Written in the same transaction as the work it answers, so a key is stored
    if and only if that work was committed.
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "actor", "key"),
        Index("ix_api_idempotency_keys_expiry", "tenant_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
