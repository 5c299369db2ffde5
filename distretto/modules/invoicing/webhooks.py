"""The invoicing module's public webhook events and their payloads (stable JSON)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from distretto.modules.catalog.webhooks import counterpart
from distretto.modules.invoicing.models import Invoice, Payment
from distretto.sdk import WebhookEvent


def dump_invoice(invoice: Invoice, *, state: str | None = None) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "document_kind": invoice.document_kind,
        "credit_note": invoice.is_credit_note,
        "number": invoice.number,
        "series": invoice.series,
        "state": state or invoice.state,
        "issue_date": invoice.issue_date,
        "counterpart": counterpart(invoice.party_id),
        "taxable_total": invoice.taxable_total,
        "vat_total": invoice.vat_total,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "paid_total": invoice.paid_total,
        "outstanding": invoice.outstanding,
        "order_references": invoice.order_references or [],
        "ddt_references": invoice.ddt_references or [],
        "dues": [
            {"due_date": due.due_date, "amount": due.amount, "paid_amount": due.paid_amount}
            for due in invoice.dues
        ],
        "lines": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "product_code": line.product_code,
                "description": line.description,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "vat_rate": line.vat_rate,
                "amount": line.amount,
            }
            for line in invoice.lines
        ],
    }


def _issued(invoice: Any = None, **_: Any) -> dict[str, Any] | None:
    # sent from inside the issuing step, before the workflow moves the state on
    if not isinstance(invoice, Invoice):
        return None
    return dump_invoice(invoice, state="issued" if invoice.state == "draft" else None)


def _paid(invoice: Any = None, payment: Any = None, **_: Any) -> dict[str, Any] | None:
    if not isinstance(invoice, Invoice) or not isinstance(payment, Payment):
        return None
    return {
        "payment": {
            "id": payment.id,
            "payment_date": payment.payment_date,
            "amount": payment.amount,
            "method": payment.method,
            "note": payment.note,
        },
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "issue_date": invoice.issue_date,
            "counterpart": counterpart(invoice.party_id),
            "total": invoice.total,
            "amount_due": invoice.amount_due,
            "paid_total": invoice.paid_total,
            "outstanding": invoice.outstanding,
        },
    }


WEBHOOK_EVENTS = (
    WebhookEvent(
        "invoice.issued",
        _l("Invoice issued"),
        ("invoice.issued",),
        _issued,
        _l("An invoice or credit note was numbered and its e-invoice XML made."),
    ),
    WebhookEvent(
        "payment.received",
        _l("Payment received"),
        ("payment.received",),
        _paid,
        _l("A payment was registered on an issued invoice."),
    ),
)
