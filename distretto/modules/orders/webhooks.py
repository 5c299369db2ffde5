"""The orders module's public webhook events and their payloads.

Payloads are the stable JSON firms' receivers read: ids, number, state, dates,
totals (decimal strings), the counterpart and the lines. New keys may be added;
existing ones keep their meaning.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from distretto.modules.catalog.models import Party
from distretto.modules.orders.models import DOCUMENT_TYPES, Order
from distretto.sdk import WebhookEvent, db


def counterpart(party_id: int | None) -> dict[str, Any] | None:
    party = db.session.get(Party, party_id) if party_id else None
    if party is None:
        return None
    return {
        "id": party.id,
        "code": party.code,
        "name": party.legal_name,
        "vat_number": party.vat_number,
        "tax_code": party.tax_code,
        "country": party.country,
    }


def dump_order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "type": order.document_type,
        "number": order.number,
        "state": order.state,
        "order_date": order.order_date,
        "expected_date": order.expected_date,
        "counterpart": counterpart(order.party_id),
        "customer_reference": order.customer_reference,
        "taxable_total": order.taxable_total,
        "vat_total": order.vat_total,
        "total": order.total,
        "lines": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "description": line.description,
                "unit": line.unit,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "vat_rate": line.vat_rate,
                "amount": line.amount,
                "quantity_delivered": line.quantity_delivered,
            }
            for line in order.lines
        ],
    }


def _order(document: Any = None, **_: Any) -> dict[str, Any] | None:
    return dump_order(document) if isinstance(document, Order) else None


def _state_changed(
    document: Any = None,
    document_type: str = "",
    transition: str = "",
    from_state: str | None = None,
    to_state: str | None = None,
    **_: Any,
) -> dict[str, Any] | None:
    if not isinstance(document, Order) or document_type not in DOCUMENT_TYPES.values():
        return None
    return {
        **dump_order(document),
        "transition": transition,
        "from_state": from_state,
        "to_state": to_state,
    }


WEBHOOK_EVENTS = (
    WebhookEvent(
        "order.created",
        _l("Order created"),
        ("sales_order.created", "purchase_order.created"),
        _order,
        _l("A sales or purchase order was entered."),
    ),
    WebhookEvent(
        "order.confirmed",
        _l("Order confirmed"),
        ("sales_order.confirm", "purchase_order.send"),
        _order,
        _l("A sales order was confirmed, or a purchase order sent to the supplier."),
    ),
    WebhookEvent(
        "order.state_changed",
        _l("Order changed state"),
        ("workflow.transitioned",),
        _state_changed,
        _l("Any step of an order's workflow (the firm's own steps included)."),
    ),
)
