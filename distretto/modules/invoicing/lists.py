"""The invoice list as a declared list view (filters, columns, saved views, exports)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import defer

from distretto.modules.catalog.models import Party
from distretto.modules.invoicing.models import Invoice
from distretto.platform.listing import like_pattern
from distretto.sdk import db, listviews, workflow

Column = listviews.Column


def _related(invoices: Any) -> dict[str, Any]:
    """Parties and state labels of the listed invoices, one query each."""
    party_ids = {i.party_id for i in invoices}
    parties = (
        {
            p.id: p
            for p in db.session.execute(select(Party).where(Party.id.in_(party_ids))).scalars()
        }
        if party_ids
        else {}
    )
    return {"parties": parties, "states": listviews.workflow_states(invoices)}


def _search(query: Any, text: str) -> Any:
    pattern = like_pattern(text)
    parties = select(Party.id).where(Party.legal_name.ilike(pattern, escape="\\"))
    return query.where(
        or_(Invoice.number.ilike(pattern, escape="\\"), Invoice.party_id.in_(parties))
    )


def _state_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "it")
    states = workflow.engine.parsed(workflow.current_definition("invoice")).states
    return [(s.name, workflow.label_text(s.label, locale)) for s in states]


def _party(invoice: Invoice, related: Any) -> Party | None:
    return related["parties"].get(invoice.party_id)


INVOICES = listviews.register(
    listviews.ListView(
        key="invoicing.invoices",
        endpoint="invoicing.invoices",
        title=_l("Invoices and credit notes"),
        permission="invoicing.view",
        query=lambda: select(Invoice).options(defer(Invoice.xml_content)),
        search=_search,
        search_placeholder=_l("Number or customer"),
        columns=[
            Column(
                "number",
                _l("Number"),
                lambda i, r: i.number,
                sort=[Invoice.year, Invoice.sequence],
                link=lambda i: url_for("invoicing.invoice_detail", document_id=i.id),
            ),
            Column(
                "date", _l("Date"), lambda i, r: i.issue_date, kind="date", sort=Invoice.issue_date
            ),
            Column("type", _l("Type"), lambda i, r: i.document_kind),
            Column(
                "party_code",
                _l("Customer code"),
                lambda i, r: getattr(_party(i, r), "code", None),
                default=False,
            ),
            Column("party", _l("Customer"), lambda i, r: getattr(_party(i, r), "legal_name", None)),
            Column(
                "state",
                _l("State"),
                listviews.state_label,
                sort=Invoice.state,
            ),
            Column(
                "taxable",
                _l("Taxable amount"),
                lambda i, r: i.taxable_total,
                kind="money",
                default=False,
            ),
            Column("vat", _l("VAT"), lambda i, r: i.vat_total, kind="money", default=False),
            Column("total", _l("Total"), lambda i, r: i.total, kind="money", sort=Invoice.total),
            Column("paid", _l("Paid"), lambda i, r: i.paid_total, kind="money", default=False),
            Column("due", _l("Amount due"), lambda i, r: i.amount_due, kind="money", default=False),
        ],
        filters=[
            listviews.Filter(
                "state",
                _l("State"),
                lambda query, value: query.where(Invoice.state == value),
                choices=_state_choices,
            ),
            listviews.Filter(
                "kind",
                _l("Type"),
                lambda query, value: query.where(Invoice.document_kind == value),
                choices=lambda: [
                    ("TD01", _l("Invoice")),
                    ("TD04", _l("Credit note")),
                    ("TD24", _l("Deferred invoice")),
                ],
            ),
        ],
        default_sort="-date",
        tiebreak=Invoice.id,
        related=_related,
        model=Invoice,
        document_type="invoice",
        export_name="invoices",
        empty_text=_l("No invoices yet."),
    )
)
