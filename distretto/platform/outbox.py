"""The transactional outbox: anything that leaves the process goes through here.

A message is written in the same transaction as the change that caused it, so
it exists exactly when the change does; ``distretto worker`` delivers it later
with retries and exponential backoff (at least once: handlers must tolerate a
repeat). Nothing that talks to the network runs inside a web request.

Messages of a firm carry its ``tenant_id``; platform messages (a password reset
e-mail) carry none. On PostgreSQL the table has row-level security like every
other table with a ``tenant_id``; the drain alone reads across firms, by setting
``app.scope = 'outbox'`` in each message's transaction, and then re-enters the
message's firm (without that scope) to run its handler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform.context import current_tenant_id, tenant_context
from distretto.platform.db import BigId, db, utcnow

logger = logging.getLogger("distretto.outbox")

MAX_ATTEMPTS = 12
Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, Handler] = {}
_give_up_hooks: dict[str, Handler] = {}


class Retry(Exception):  # noqa: N818 - read as "raise outbox.Retry(...)"
    """Raised by a handler to be retried later *keeping* what it wrote.

    Any other exception undoes the handler's writes; a handler that keeps a log
    of its own attempts (webhook deliveries: status, response, time) raises
    this instead, so the attempt it recorded commits with the retry schedule.
    """


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


def handler(topic: str, *, on_give_up: Handler | None = None) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of ``topic``.

    It receives the payload and runs in the message's firm (no firm for a
    platform message). Delivery is at least once, so it must tolerate a repeat.
    It must not commit: its database writes commit together with the delivery
    mark, and are undone if it raises (the message is then retried).

    ``on_give_up(payload)`` runs, in the firm's context, when the message has
    failed for good, so that whatever waits on it (an import's progress bar, a
    delivery log) can say so instead of waiting forever.
    """

    def decorator(func: Handler) -> Handler:
        _handlers[topic] = func
        if on_give_up is not None:
            _give_up_hooks[topic] = on_give_up
        else:
            _give_up_hooks.pop(topic, None)
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


def _set_scope(scope: str) -> None:
    """PostgreSQL: ``'outbox'`` lets this transaction see every firm's messages."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('app.scope', :scope, true)"), {"scope": scope})


def _claim_next() -> OutboxMessage | None:
    """Lock the oldest due message in the session's transaction (None: nothing is due).

    On PostgreSQL the row stays locked (``FOR UPDATE SKIP LOCKED``) until that
    transaction ends, so a concurrent drain passes over it to the next message,
    and a worker that dies mid-delivery leaves it due again at once: the
    database aborts the dead connection's transaction. SQLite has no row locks:
    run a single worker there.
    """
    session = db.session
    _set_scope("outbox")
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
        .where(OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).scalar_one_or_none()


def _deliver(message: OutboxMessage) -> None:
    """Run the message's handler in its firm's context and record the outcome on it.

    The handler runs in a SAVEPOINT: its own writes commit together with the
    delivery mark, or, if it fails (a database error included), are undone
    while the failure is still recorded. It sees only its firm's rows: the
    drain's cross-firm scope is lifted while it runs.
    """
    from distretto.tenants.models import Tenant

    session = db.session
    try:
        func = _handlers.get(message.topic)
        if func is None:
            raise LookupError(f"no handler for topic {message.topic!r}")
        payload = dict(message.payload)
        firm = (
            nullcontext()
            if message.tenant_id is None
            else tenant_context(session.get(Tenant, message.tenant_id))
        )
        _set_scope("")
        # the SAVEPOINT inside the firm's context: it is rolled back before the
        # context is left, so leaving it never meets an aborted transaction
        kept: Retry | None = None
        with firm, session.begin_nested():
            try:
                func(payload)
            except Retry as exc:
                kept = exc  # the SAVEPOINT is released: the handler's log stays
        if kept is not None:
            raise kept
    except Exception as exc:  # noqa: BLE001 - recorded and retried
        _set_scope("outbox")
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.failed_at = utcnow()
            logger.error("outbox message %s failed for good: %s", message.id, message.last_error)
            _give_up(message)
        else:
            message.next_attempt_at = utcnow() + backoff(message.attempts)
            logger.warning("outbox message %s will be retried: %s", message.id, message.last_error)
    else:
        _set_scope("outbox")
        message.attempts += 1
        message.delivered_at = utcnow()


def _give_up(message: OutboxMessage) -> None:
    """Tell the topic's ``on_give_up`` hook; its failure is logged, never fatal to the drain."""
    from distretto.tenants.models import Tenant

    hook = _give_up_hooks.get(message.topic)
    if hook is None:
        return
    session = db.session
    try:
        firm = (
            nullcontext()
            if message.tenant_id is None
            else tenant_context(session.get(Tenant, message.tenant_id))
        )
        _set_scope("")
        with firm, session.begin_nested():
            hook(dict(message.payload))
    except Exception:  # noqa: BLE001 - the message is failed either way
        logger.exception("give-up hook of outbox message %s failed", message.id)
    finally:
        _set_scope("outbox")


def drain(batch: int = 50) -> int:
    """Deliver up to ``batch`` due messages; returns how many were handled this pass.

    Each message is claimed, delivered and marked in one transaction of its
    own, in an application context of its own (a fresh session and ``g``, as a
    request has), so nothing cached for one delivery leaks into the next and
    the caller's session is left alone.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    handled = 0
    while handled < batch:
        with app.app_context():
            message = _claim_next()
            if message is None:
                db.session.rollback()
                break
            _deliver(message)
            db.session.commit()
        handled += 1
    return handled


def run_worker(poll_seconds: float = 2.0, once: bool = False) -> None:
    """Drain forever (or once); a crash loses nothing: undelivered rows stay due.

    Losing the database for a while (a restart, a failover, a cut connection)
    is logged and waited out instead of ending the worker, which nothing may be
    there to restart (``distretto serve`` does not).
    """
    while True:
        try:
            handled = drain()
        except DBAPIError as exc:
            if once:
                raise
            error = exc.orig or exc  # first line only: no SQL, no parameters in the log
            reason = (str(error).strip().splitlines() or [""])[0]
            logger.warning(
                "outbox worker: database error (%s: %s); trying again in %s s",
                type(error).__name__,
                reason,
                poll_seconds,
            )
            handled = 0
        if once:
            return
        if not handled:
            time.sleep(poll_seconds)
