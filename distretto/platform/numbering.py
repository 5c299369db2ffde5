"""Document numbering per firm and document type.

A firm chooses a format per document type (``SO-{year}-{seq:05}``), whether
numbers restart every year, and - for document types the law wants gapless,
such as invoices and transport documents - gets numbers with no gaps and no
duplicates even under concurrent requests: the counter row is incremented with
``UPDATE ... RETURNING`` inside the issuing transaction, so a concurrent issuer
waits for the row lock and a rollback gives the number back.

Formats are parsed by a small whitelist formatter, never by ``str.format`` on
user input (which would allow attribute access).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from distretto.platform import audit
from distretto.platform.db import BigId, TenantOwned, db, utcnow

PLACEHOLDER_RE = re.compile(r"\{([a-z]+)(?::(0?)(\d{1,2}))?\}")
BRACED_RE = re.compile(r"\{[^{}]*\}")
ALLOWED = {"seq", "year", "yy", "month", "series"}
MAX_WIDTH = 12
SERIES_RE = re.compile(r"^[A-Za-z0-9_/-]{0,20}$")


class NumberingError(ValueError):
    pass


class NumberingRule(TenantOwned, db.Model):
    """The firm's chosen format for a document type."""

    __tablename__ = "numbering_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "document_type"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(60))
    format: Mapped[str] = mapped_column(String(80))
    yearly_reset: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NumberingCounter(TenantOwned, db.Model):
    """The last number given per document type, series and year (0 when not yearly)."""

    __tablename__ = "numbering_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "document_type", "series", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(60))
    series: Mapped[str] = mapped_column(String(20), default="")
    year: Mapped[int] = mapped_column(default=0)
    last: Mapped[int] = mapped_column(BigId, default=0)


def check_format(fmt: Any) -> str:
    """The format, stripped, or NumberingError naming what is wrong with it.

    Only ``{seq}`` (optionally ``{seq:05}``), ``{year}``, ``{yy}``, ``{month}``
    and ``{series}`` are placeholders; anything else in braces is refused,
    so a format is never handed to ``str.format``-like machinery.
    """
    if not isinstance(fmt, str):
        raise NumberingError(str(_l("The format must be text.")))
    fmt = fmt.strip()
    if not fmt or len(fmt) > 80:
        raise NumberingError(str(_l("The format is required (up to 80 characters).")))
    used: list[str] = []
    for braced in BRACED_RE.findall(fmt):
        match = PLACEHOLDER_RE.fullmatch(braced)
        if match is None or match.group(1) not in ALLOWED:
            raise NumberingError(
                str(
                    _l(
                        "Unknown placeholder %(placeholder)s: use {seq}, {seq:05}, {year}, "
                        "{yy}, {month} or {series}.",
                        placeholder=braced,
                    )
                )
            )
        if match.group(3) and int(match.group(3)) > MAX_WIDTH:
            raise NumberingError(
                str(
                    _l(
                        "%(placeholder)s: at most %(width)d digits.",
                        placeholder=braced,
                        width=MAX_WIDTH,
                    )
                )
            )
        used.append(match.group(1))
    if "{" in BRACED_RE.sub("", fmt) or "}" in BRACED_RE.sub("", fmt):
        raise NumberingError(str(_l("The format has an unbalanced { or }.")))
    if "seq" not in used:
        raise NumberingError(str(_l("The format must contain {seq}.")))
    return fmt


def check_series(series: Any) -> str:
    if not isinstance(series, str) or not SERIES_RE.match(series):
        raise NumberingError(str(_l("A series is up to 20 letters, digits, -, _ or /.")))
    return series


def render(fmt: str, *, seq: int, on: date, series: str = "") -> str:
    values: dict[str, Any] = {
        "seq": seq,
        "year": on.year,
        "yy": on.year % 100,
        "month": on.month,
        "series": series,
    }

    def substitute(match: re.Match[str]) -> str:
        name, zero, width = match.groups()
        value = values[name]
        if width and isinstance(value, int):
            return f"{value:{'0' if zero else ''}{int(width)}d}"
        if name in ("yy", "month"):
            return f"{value:02d}"
        return str(value)

    return PLACEHOLDER_RE.sub(substitute, fmt)


@dataclass(frozen=True)
class Rule:
    format: str
    yearly_reset: bool
    gapless: bool


def rule_for(document_type: str) -> Rule:
    from distretto.platform.workflow.engine import document_type as lookup

    doc_type = lookup(document_type)
    default = doc_type.numbering
    row = db.session.execute(
        select(NumberingRule).where(NumberingRule.document_type == document_type)
    ).scalar_one_or_none()
    gapless = bool(default and default.gapless)
    if row is not None:
        return Rule(row.format, row.yearly_reset, gapless)
    if default is None:
        return Rule("{seq}", True, gapless)
    return Rule(default.format, default.yearly_reset, gapless)


def set_rule(document_type: str, fmt: str, yearly_reset: bool) -> NumberingRule:
    """Choose the firm's format; counters carry on (a new format does not restart them)."""
    from distretto.platform.workflow.engine import document_type as lookup

    lookup(document_type)
    fmt = check_format(fmt)
    yearly_reset = bool(yearly_reset)
    row = db.session.execute(
        select(NumberingRule).where(NumberingRule.document_type == document_type)
    ).scalar_one_or_none()
    if row is None:
        row = NumberingRule(document_type=document_type, format=fmt, yearly_reset=yearly_reset)
        db.session.add(row)
    else:
        row.format, row.yearly_reset, row.updated_at = fmt, yearly_reset, utcnow()
    db.session.flush()
    audit.record(
        "numbering.changed",
        row,
        summary={"document_type": document_type, "format": fmt, "yearly_reset": yearly_reset},
    )
    return row


def next_number(document_type: str, on: date | None = None, series: str = "") -> tuple[int, str]:
    """Take the next number: (sequence, formatted). Call inside the issuing transaction.

    The counter row stays locked until the transaction ends, so numbers are
    gapless and unique; a rollback returns the number.
    """
    on = on or date.today()
    series = check_series(series)
    rule = rule_for(document_type)
    year = on.year if rule.yearly_reset else 0
    seq = _increment(document_type, series, year)
    if seq is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    NumberingCounter(document_type=document_type, series=series, year=year, last=0)
                )
        except IntegrityError:
            pass  # created concurrently: fine, increment it
        seq = _increment(document_type, series, year)
        if seq is None:  # pragma: no cover - the row exists by now
            raise NumberingError("numbering counter could not be created")
    return seq, render(rule.format, seq=seq, on=on, series=series)


def _increment(document_type: str, series: str, year: int) -> int | None:
    return db.session.execute(
        update(NumberingCounter)
        .where(
            NumberingCounter.document_type == document_type,
            NumberingCounter.series == series,
            NumberingCounter.year == year,
        )
        .values(last=NumberingCounter.last + 1)
        .returning(NumberingCounter.last)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def preview(fmt: str, on: date | None = None, series: str = "", seq: int = 1) -> str:
    """What a number in ``fmt`` looks like (raises NumberingError for a bad format)."""
    return render(check_format(fmt), seq=seq, on=on or date.today(), series=check_series(series))
