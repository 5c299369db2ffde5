"""Imports of large CSV files, run by the worker in batches, with a per-row error report.

A module declares what it imports as an :class:`ImportKind` (its columns and a
function that writes one row). The request only stores the file
(:func:`distretto.platform.files.save_file`), records an :class:`ImportJob` and
enqueues an outbox message; ``distretto worker`` then reads the file a batch of
rows at a time. Each batch is one delivery of one outbox message, committed
with the job's progress, and the next batch is a new message: the page polling
the job sees the progress grow, and a worker that dies mid-batch leaves that
batch's message due again, so nothing is written twice (a repeated delivery of
a batch already counted is ignored).

A row that fails (bad value, unknown code, a database refusal) is undone on its
own (a SAVEPOINT per row) and reported with its row number, column and
message; the good rows are imported. Anything else that goes wrong (the file
unreadable, a missing column, a bug) marks the job failed with the reason.

The worker runs each batch inside the firm's context (the outbox re-enters the
message's firm), so a job sees and writes only its own firm's rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform import audit, outbox
from distretto.platform.context import current_actor_id
from distretto.platform.db import BigId, TenantOwned, db, tenant_ref, utcnow
from distretto.platform.files import StoredFile, save_file

TOPIC = "imports.batch"
DEFAULT_BATCH_ROWS = 500
MAX_ROWS = 100_000
#: Errors kept per job: a file wrong on every row still gets a readable report.
MAX_ERRORS = 5_000


class Status:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    FINISHED = (DONE, FAILED)


class ImportJob(TenantOwned, db.Model):
    """One uploaded file being imported, and how far it got."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_list", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    file_id: Mapped[int] = tenant_ref("stored_files")
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[list] = mapped_column(JSON, default=list)
    failure: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    @property
    def percent(self) -> int:
        if self.status == Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed * 100 / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in Status.FINISHED


class RowProblem(ValueError):
    """What a row writer raises for a row it refuses: the column and the message."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class ImportKind:
    """Something a module imports from CSV.

    ``prepare()`` runs once per batch and returns what every row needs (codes
    already taken, look-up tables); ``write_row(prepared, values)`` validates
    and writes one row (``values``: column -> text, column names lower-case),
    raising :class:`RowProblem` or marshmallow's ``ValidationError`` for a row
    it refuses. ``columns`` are documented on the upload page; ``required``
    must be in the header. ``result_endpoint`` is the page that shows what
    was imported.
    """

    key: str
    module: str
    label: Any
    permission: str
    columns: Sequence[str]
    required: Sequence[str]
    write_row: Callable[[Any, dict[str, str]], Any]
    prepare: Callable[[], Any] = lambda: None
    result_endpoint: str | None = None
    help: Any = ""


_kinds: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    _kinds[kind.key] = kind
    return kind


def lookup(key: str) -> ImportKind | None:
    return _kinds.get(key)


def kinds() -> list[ImportKind]:
    return list(_kinds.values())


# --- reading the file ---------------------------------------------------------------


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _unguard(value: str) -> str:
    """Undo the quote an export puts before a formula-like cell."""
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def header_of(data: bytes) -> list[str]:
    """The column names of a CSV file, from its first line only."""
    first = decode(data[:8192]).lstrip("\ufeff").split("\n", 1)[0].strip("\r")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    row = next(csv.reader([first], delimiter=delimiter), [])
    return [h.strip().lower() for h in row]


def read_rows(
    data: bytes, stop: int | None = None
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line number, values)`` rows (the first ``stop`` only, if given).

    The separator is ``;`` or ``,``, whichever the header uses (Italian sheets
    write ``;``). The number is the row a spreadsheet shows (the header is 1).
    """
    content = decode(data).lstrip("\ufeff")
    first = content.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        values = {k: _unguard((v or "").strip()) for k, v in row.items() if k}
        rows.append((reader.line_num, values if any(values.values()) else {}))
        if len(rows) > MAX_ROWS or (stop is not None and len(rows) >= stop):
            break
    return header, rows


def parse_decimal(text: str, column: str, *, positive: bool = False) -> Decimal:
    """``1.234,5`` or ``1234.5`` as a Decimal, or a :class:`RowProblem` naming the column."""
    value = (text or "").strip().replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RowProblem(column, _("%(value)s is not a number.", value=text)) from None
    if not number.is_finite():
        raise RowProblem(column, _("%(value)s is not a number.", value=text))
    if positive and number <= 0:
        raise RowProblem(column, _("It must be more than zero."))
    return number


# --- starting a job ---------------------------------------------------------------------


class ImportRefused(ValueError):
    """The upload cannot become a job (no rows, a missing column, too large)."""


def start(kind: ImportKind, filename: str, content_type: str, data: bytes) -> ImportJob:
    """Store the file, record the job and enqueue its first batch; nothing is imported yet.

    Only the header is read here (a missing column is refused at once); the
    rows are the worker's.
    """
    header = header_of(data)
    if not data.strip() or not header:
        raise ImportRefused(_("The file is empty."))
    missing = [c for c in kind.required if c not in header]
    if missing:
        raise ImportRefused(_("Missing columns: %(columns)s", columns=", ".join(missing)))
    stored = save_file("import", filename or f"{kind.key}.csv", content_type or "text/csv", data)
    job = ImportJob(
        kind=kind.key,
        file_id=stored.id,
        filename=(filename or f"{kind.key}.csv")[:200],
        created_by_id=current_actor_id(),
        error_rows=[],
    )
    db.session.add(job)
    db.session.flush()
    outbox.enqueue(TOPIC, {"job_id": job.id, "start": 0})
    audit.record("import.queued", job, summary={"kind": kind.key, "file": job.filename})
    return job


def batch_rows() -> int:
    if has_app_context():
        return int(current_app.config.get("IMPORT_BATCH_ROWS", DEFAULT_BATCH_ROWS))
    return DEFAULT_BATCH_ROWS


# --- the worker's side -----------------------------------------------------------------------


def _problems(exc: Exception) -> list[tuple[str, str]]:
    if isinstance(exc, RowProblem):
        return [(exc.column, exc.message)]
    if isinstance(exc, ValidationError):
        found: list[tuple[str, str]] = []
        messages = exc.messages if isinstance(exc.messages, Mapping) else {"": exc.messages}
        for column, texts in messages.items():
            for text in texts if isinstance(texts, list) else [texts]:
                found.append((str(column), str(text)))
        return found
    return [("", str(exc) or type(exc).__name__)]


def _write_batch(
    kind: ImportKind, rows: Sequence[tuple[int, dict[str, str]]]
) -> tuple[int, list[dict[str, Any]]]:
    prepared = kind.prepare()
    created = 0
    errors: list[dict[str, Any]] = []
    for number, values in rows:
        if not values:
            continue  # a blank line
        try:
            with db.session.begin_nested():
                kind.write_row(prepared, values)
        except (RowProblem, ValidationError) as exc:
            errors += [{"row": number, "column": c, "message": m} for c, m in _problems(exc)]
        except DBAPIError:  # a database refusal of this row only
            errors.append(
                {"row": number, "column": "", "message": _("The database refused the row.")}
            )
        else:
            created += 1
    return created, errors


def _give_up(payload: dict[str, Any]) -> None:
    """The worker gave up on a batch (it failed every retry): the job fails, saying so."""
    from flask_babel import force_locale

    from distretto.platform.context import current_tenant

    job = db.session.get(ImportJob, int(payload["job_id"]))
    if job is None or job.finished:
        return
    job.status = Status.FAILED
    with force_locale(getattr(current_tenant, "default_locale", None) or "it"):
        job.failure = _("The import stopped: the worker could not process the rows.")
    job.finished_at = utcnow()
    audit.record("import.failed", job, summary={"kind": job.kind, "reason": job.failure})


@outbox.handler(TOPIC, on_give_up=_give_up)
def run_batch(payload: dict[str, Any]) -> None:
    """Import one batch of a job's rows, record the progress and enqueue the next batch.

    The report is written in the firm's language (the worker has no request to ask).
    """
    from flask_babel import force_locale

    from distretto.platform.context import current_tenant

    with force_locale(getattr(current_tenant, "default_locale", None) or "it"):
        _run_batch(payload)


def _run_batch(payload: dict[str, Any]) -> None:
    job = db.session.get(ImportJob, int(payload["job_id"]))
    start_at = int(payload.get("start", 0))
    if job is None or job.finished or job.processed != start_at:
        return  # another firm's id, a finished job or a batch already counted
    try:
        with db.session.begin_nested():
            kind = lookup(job.kind)
            if kind is None:
                raise LookupError(_("Nothing can import %(kind)s.", kind=job.kind))
            stored = db.session.get(StoredFile, job.file_id)
            if stored is None:
                raise LookupError(_("The uploaded file is no longer there."))
            size = batch_rows()
            # the first batch reads the whole file (to count it), the others up to their end
            header, rows = read_rows(stored.data, None if start_at == 0 else start_at + size)
            missing = [c for c in kind.required if c not in header]
            if missing:
                raise ValueError(_("Missing columns: %(columns)s", columns=", ".join(missing)))
            if len(rows) > MAX_ROWS:
                raise ValueError(
                    _(
                        "The file has more than %(max)d rows: split it into smaller files.",
                        max=MAX_ROWS,
                    )
                )
            if start_at == 0:
                job.status = Status.RUNNING
                job.started_at = utcnow()
                job.total_rows = len(rows)
            batch = rows[start_at : start_at + size]
            created, errors = _write_batch(kind, batch)
    except Exception as exc:  # noqa: BLE001 - the job fails with the reason, the worker goes on
        job.status = Status.FAILED
        job.failure = str(exc)[:2000] or type(exc).__name__
        job.finished_at = utcnow()
        audit.record("import.failed", job, summary={"kind": job.kind, "reason": job.failure})
        return
    job.processed = start_at + len(batch)
    job.created_rows += created
    job.error_count += len({e["row"] for e in errors})
    room = MAX_ERRORS - len(job.error_rows or [])
    if errors and room > 0:
        job.error_rows = [*(job.error_rows or []), *errors[:room]]
    if job.processed >= job.total_rows:
        job.status = Status.DONE
        job.finished_at = utcnow()
        audit.record(
            "import.done",
            job,
            summary={"kind": job.kind, "created": job.created_rows, "errors": job.error_count},
        )
    else:
        outbox.enqueue(TOPIC, {"job_id": job.id, "start": job.processed})
    db.session.flush()


def errors_csv(job: ImportJob) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["row", "column", "message"])
    for error in job.error_rows or []:
        message = str(error.get("message", ""))
        if message[:1] in ("=", "+", "-", "@"):
            message = "'" + message
        writer.writerow([error.get("row", ""), error.get("column", ""), message])
    return buffer.getvalue()
