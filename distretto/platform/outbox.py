"""The transactional outbox: anything that leaves the process goes through here.

A message is written in the same transaction as the change that caused it, so
it exists exactly when the change does; ``distretto worker`` delivers it later
with retries and exponential backoff (at least once: handlers must tolerate a
repeat). Nothing that talks to the network runs inside a web request.

Messages of a firm carry its ``tenant_id``; platform messages (a password reset
e-mail) carry none. On PostgreSQL the table has row-level security like every
other table with a ``tenant_id``; the drain alone reads across firms, by setting
``app.scope = 'outbox'`` for its claim transaction, and then re-enters each
message's firm to deliver it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform.context import current_tenant_id, tenant_context
from distretto.platform.db import BigId, db, utcnow

logger = logging.getLogger("distretto.outbox")

MAX_ATTEMPTS = 12
Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tenants.id"))
    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of ``topic``."""

    def decorator(func: Handler) -> Handler:
        _handlers[topic] = func
        return func

    return decorator


def enqueue(topic: str, payload: dict[str, Any], *, platform: bool = False) -> OutboxMessage:
    """Add a message to the caller's transaction (for the current firm unless ``platform``)."""
    if topic not in _handlers:
        raise KeyError(f"no outbox handler for topic {topic!r}")
    message = OutboxMessage(
        tenant_id=None if platform else current_tenant_id(), topic=topic, payload=payload
    )
    db.session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def _claim(batch: int) -> list[int]:
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('app.scope', 'outbox', true)"))
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
        .where(OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def drain(batch: int = 50) -> int:
    """Deliver what is due; returns how many messages were handled this pass."""
    from distretto.tenants.models import Tenant

    handled = 0
    ids = _claim(batch)
    db.session.commit()
    for message_id in ids:
        session = db.session
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT set_config('app.scope', 'outbox', true)"))
        message = session.execute(
            select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
            if session.get_bind().dialect.name == "postgresql"
            else select(OutboxMessage).where(OutboxMessage.id == message_id)
        ).scalar_one_or_none()
        if message is None or message.delivered_at is not None:
            session.commit()
            continue
        func = _handlers.get(message.topic)
        try:
            if func is None:
                raise LookupError(f"no handler for topic {message.topic!r}")
            if message.tenant_id is not None:
                tenant = session.get(Tenant, message.tenant_id)
                with tenant_context(tenant):
                    func(dict(message.payload))
            else:
                func(dict(message.payload))
        except Exception as exc:  # noqa: BLE001 - recorded and retried
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.failed_at = utcnow()
                logger.error(
                    "outbox message %s failed for good: %s", message.id, message.last_error
                )
            else:
                message.next_attempt_at = utcnow() + backoff(message.attempts)
                logger.warning(
                    "outbox message %s will be retried: %s", message.id, message.last_error
                )
        else:
            message.attempts += 1
            message.delivered_at = utcnow()
        session.commit()
        handled += 1
    return handled


def run_worker(poll_seconds: float = 2.0, once: bool = False) -> None:
    """Drain forever (or once); a crash loses nothing: undelivered rows stay due."""
    while True:
        handled = drain()
        if once:
            return
        if not handled:
            time.sleep(poll_seconds)
