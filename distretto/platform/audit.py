"""The audit trail: append-only, per firm, hash-chained.

Services call :func:`record` in the same transaction as the change they make,
so an entry exists exactly when the change does. Each entry's hash covers its
content and the previous entry's hash; the per-firm head row (updated with a
single ``UPDATE ... RETURNING``) serialises appends so the chain never forks
under concurrent requests. :func:`verify` recomputes the chain and reports any
entry that was altered, removed or cut off the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform.context import current_actor_id, current_tenant_id
from distretto.platform.db import BigId, TenantContextRequired, TenantOwned, db, utcnow

GENESIS = "0" * 64


class AuditHead(TenantOwned, db.Model):
    """The last sequence number and hash of a firm's chain."""

    __tablename__ = "audit_heads"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigId, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class AuditEntry(TenantOwned, db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_audit_entries_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str | None] = mapped_column(String(80))
    object_id: Mapped[str | None] = mapped_column(String(80))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def content(self) -> dict[str, Any]:
        """What the hash covers: everything but the row id and the hash itself."""
        return {
            "tenant_id": self.tenant_id,
            "seq": self.seq,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "summary": self.summary,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }


def compute_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    summary: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Append an entry to the current firm's trail, inside the caller's transaction.

    ``obj`` is the changed object (its class name and id are recorded) or None;
    ``summary`` is a small JSON-able dict describing the change (field -> [old, new]).
    """
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantContextRequired("audit.record needs a tenant context")
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    session = db.session
    session.flush()
    # synchronize_session=False: the head is read back with RETURNING, never as an
    # object, and sparing SQLAlchemy's evaluation of the session halves the cost of
    # an entry (the trail is written by every change).
    row = session.execute(
        update(AuditHead)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.id, AuditHead.last_seq, AuditHead.last_hash),
        execution_options={"synchronize_session": False},
    ).first()
    if row is None:  # firms get their head at onboarding; this covers older rows
        head = AuditHead(last_seq=1, last_hash=GENESIS)
        session.add(head)
        session.flush()
        head_pk, seq, prev_hash = head.id, 1, GENESIS
    else:
        head_pk, seq, prev_hash = row
    actor_id = current_actor_id()
    entry = AuditEntry(
        tenant_id=tenant_id,
        seq=seq,
        created_at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label or _actor_label(actor_id),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=_jsonable(summary or {}),
        request_id=g.get("request_id") if has_request_context() else None,
        prev_hash=prev_hash,
    )
    entry.hash = compute_hash(entry.content())
    session.add(entry)
    session.execute(
        update(AuditHead).where(AuditHead.id == head_pk).values(last_hash=entry.hash),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return entry


def _actor_label(actor_id: int | None) -> str:
    if actor_id is None:
        return "system"
    from distretto.platform.auth.models import User

    user = db.session.get(User, actor_id)
    return user.email if user else f"user:{actor_id}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problems: list[str] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS


def _missing(first: int, last: int, where: str) -> str:
    if first == last:
        return _("entry %(first)d: missing (%(why)s)", first=first, why=where)
    return _("entries %(first)d to %(last)d: missing (%(why)s)", first=first, last=last, why=where)


def verify() -> VerifyResult:
    """Recompute the current firm's chain; every problem names the entry.

    Problems are written in the current language (the firm's page shows them;
    the CLI asks for English, like the rest of its output).

    Detected: an entry whose content no longer matches its hash (altered), an
    entry that does not follow the one before it (altered, reordered or a
    neighbour rewritten), a gap in the sequence (deleted), and a trail shorter
    than the head row says was written (deleted from the end). Whoever can
    rewrite both the entries *and* the head row can cut the end undetected;
    keep :attr:`VerifyResult.head_hash` somewhere else to close that gap.
    """
    session = db.session
    problems: list[str] = []
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    rows = session.execute(
        # populate_existing: judge what the database holds, not what this session cached
        select(AuditEntry)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=1000, populate_existing=True)
    ).scalars()
    for entry in rows:
        count += 1
        if entry.seq > expected_seq:
            problems.append(_missing(expected_seq, entry.seq - 1, _("deleted")))
        elif entry.seq < expected_seq:  # cannot happen with UNIQUE (tenant_id, seq)
            problems.append(_("entry %(seq)d: duplicated or out of order", seq=entry.seq))
        if entry.prev_hash != expected_prev:
            previous = (
                _("entry %(seq)d", seq=expected_seq - 1)
                if expected_seq > 1
                else _("the start of the trail")
            )
            problems.append(
                _(
                    "entry %(seq)d: does not follow %(previous)s (chain broken)",
                    seq=entry.seq,
                    previous=previous,
                )
            )
        if compute_hash(entry.content()) != entry.hash:
            problems.append(_("entry %(seq)d: content altered since it was written", seq=entry.seq))
        expected_prev = entry.hash
        expected_seq = entry.seq + 1
    last_present = expected_seq - 1
    head = session.execute(
        select(AuditHead).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS
    if head_seq > last_present:
        problems.append(
            _missing(
                last_present + 1,
                head_seq,
                _(
                    "deleted from the end: %(written)d were written, the trail ends at %(last)d",
                    written=head_seq,
                    last=last_present,
                ),
            )
        )
    elif head_seq < last_present:
        problems.append(
            _(
                "entry %(seq)d: beyond the last entry written (%(written)d); "
                "the head row was altered",
                seq=last_present,
                written=head_seq,
            )
        )
    elif head_hash != expected_prev:
        problems.append(
            _("entry %(seq)d: does not match the hash recorded when it was written", seq=head_seq)
        )
    return VerifyResult(
        ok=not problems,
        entries=count,
        problems=problems,
        head_seq=head_seq,
        head_hash=head_hash,
    )
