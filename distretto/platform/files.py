"""Files a firm keeps on the platform (its logo, imported documents, exports).

Files live in the database, in the firm's own rows, rather than on a disk of
the web host: the web tier keeps no state (more hosts can be added behind a
load balancer), a database backup holds everything, row-level security walls
them like any other row, and a firm's export and its storage quota read one
table. The files a small firm keeps are small (a logo, a few XML documents);
``MAX_FILE_BYTES`` refuses anything that would make the table a blob store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import Index, Integer, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Mapped, deferred, mapped_column

from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.platform.quotas import QuotaExceeded, check_storage

__all__ = [
    "FileTooLarge",
    "QuotaExceeded",
    "StoredFile",
    "files_bytes",
    "latest_file",
    "max_file_bytes",
    "save_file",
]

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024


class FileTooLarge(ValueError):
    """The file is larger than the platform accepts (``MAX_FILE_BYTES``)."""


class StoredFile(TenantOwned, db.Model):
    """One file of a firm. ``purpose`` says what it is for (``logo``, ``import``, ...)."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_purpose", "tenant_id", "purpose"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: listing a firm's files never drags their bytes along.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def max_file_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))
    return DEFAULT_MAX_FILE_BYTES


def save_file(
    purpose: str, filename: str, content_type: str, data: bytes, *, replace: bool = False
) -> StoredFile:
    """Store ``data`` for the current firm; with ``replace`` the firm keeps one file per purpose.

    Raises :class:`FileTooLarge` before writing anything when the file is too big,
    and :class:`QuotaExceeded` (its message names the firm, the quota and what to
    do) when the firm's storage quota cannot hold it.
    """
    if len(data) > max_file_bytes():
        raise FileTooLarge(filename)
    check_storage(len(data), replacing_purpose=purpose if replace else None)
    if replace:
        db.session.execute(delete(StoredFile).where(StoredFile.purpose == purpose))
    stored = StoredFile(
        purpose=purpose,
        filename=filename[:200],
        content_type=content_type[:100] or "application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def latest_file(purpose: str) -> StoredFile | None:
    """The newest file of the current firm for ``purpose``, or None."""
    return db.session.execute(
        select(StoredFile)
        .where(StoredFile.purpose == purpose)
        .order_by(StoredFile.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def files_bytes() -> int:
    """How many bytes the current firm's files take (for quotas and usage)."""
    return int(db.session.execute(select(func.coalesce(func.sum(StoredFile.size), 0))).scalar())
