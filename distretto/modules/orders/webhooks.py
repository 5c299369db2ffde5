"""The orders module's public webhook events and their payloads.

Payloads are the stable JSON firms' receivers read: the order exactly as the REST
API shows it (``schemas.SalesOrderOut`` / ``PurchaseOrderOut``: ids, number, state,
dates, totals as decimal strings, custom fields, lines), plus the counterpart. New
keys may be added; existing ones keep their meaning.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from distretto.modules.catalog.webhooks import counterpart
from distretto.modules.orders.models import DOCUMENT_TYPES, SALE, Order
from distretto.modules.orders.schemas import PurchaseOrderOut, SalesOrderOut
from distretto.sdk import WebhookEvent


def dump_order(order: Order) -> dict[str, Any]:
    """The order as the API shows it (same schema, custom fields included), plus its
    document ``type`` and the ``counterpart`` spelled out."""
    schema = SalesOrderOut if order.kind == SALE else PurchaseOrderOut
    data = schema().dump(order)
    data["type"] = order.document_type
    data["counterpart"] = counterpart(order.party_id)
    return data


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
