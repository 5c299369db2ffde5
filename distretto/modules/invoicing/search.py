"""What global search finds among invoices: by number or customer's name."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party
from distretto.modules.invoicing.models import Invoice
from distretto.sdk import (
    SearchGroup,
    SearchResult,
    can,
    contains_pattern,
    db,
    money,
    short_date,
    starts_first,
)


def search(query: str, limit: int) -> list[SearchGroup]:
    if not can("invoicing.view"):
        return []
    pattern = contains_pattern(query)
    rows = db.session.execute(
        select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.total, Party.legal_name)
        .join(Party, Party.id == Invoice.party_id)
        .where(
            or_(
                Invoice.number.ilike(pattern, escape="\\"),
                Party.legal_name.ilike(pattern, escape="\\"),
                Party.vat_number.ilike(pattern, escape="\\"),
            )
        )
        .order_by(starts_first(Invoice.number, query), Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(limit + 1)
    ).all()
    results = [
        SearchResult(
            label=f"{row.number or _('Draft')} · {row.legal_name}",
            url=url_for("invoicing.invoice_detail", document_id=row.id),
            detail=f"{short_date(row.issue_date)} · {money(row.total)}",
        )
        for row in rows[:limit]
    ]
    return [
        SearchGroup(
            name="invoicing.invoices",
            title=_l("Invoices"),
            results=results,
            more_url=url_for("invoicing.invoices", q=query),
            has_more=len(rows) > limit,
            order=50,
        )
    ]
