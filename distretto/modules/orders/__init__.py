"""orders: sales orders to customers and purchase orders to suppliers."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from distretto.modules.orders import dashboard as home_widgets
from distretto.modules.orders import search as global_search
from distretto.modules.orders import services
from distretto.modules.orders.api import blp as api_bp
from distretto.modules.orders.models import Order, OrderLine
from distretto.modules.orders.views import bp
from distretto.modules.orders.webhooks import WEBHOOK_EVENTS
from distretto.modules.orders.workflows import (
    PURCHASE_ORDER_WORKFLOW,
    SALES_ORDER_WORKFLOW,
    notify,
    request_invoice,
)
from distretto.sdk import (
    DocumentType,
    FieldSpec,
    MenuEntry,
    Module,
    NumberingDefault,
    WorkflowAction,
)

ORDER_FIELDS = {
    "total": FieldSpec("decimal", _l("Total")),
    "taxable_total": FieldSpec("decimal", _l("Taxable amount")),
    "order_date": FieldSpec("date", _l("Order date")),
    "expected_date": FieldSpec("date", _l("Expected date")),
    "line_count": FieldSpec("integer", _l("Number of lines"), getter=lambda o: len(o.lines)),
    "customer_reference": FieldSpec("text", _l("Counterpart's reference")),
}
LOCKABLE = ("party_id", "lines", "order_date", "expected_date", "customer_reference", "notes")

module = Module(
    name="orders",
    version="1.0.0",
    label=_l("Orders"),
    description=_l("Sales orders to customers and purchase orders to suppliers."),
    requires=("catalog",),
    models=(Order, OrderLine),
    blueprint=bp,
    api_blueprint=api_bp,
    permissions={
        "orders.view": ("owner", "admin", "staff", "viewer"),
        "orders.edit": ("owner", "admin", "staff"),
        "orders.confirm": ("owner", "admin", "staff"),
        "orders.ship": ("owner", "admin", "staff"),
        "orders.receive": ("owner", "admin", "staff"),
        "orders.cancel": ("owner", "admin"),
    },
    menu=(
        MenuEntry(_l("Sales orders"), "orders.sales", "orders.view", order=20),
        MenuEntry(_l("Purchase orders"), "orders.purchases", "orders.view", order=21),
    ),
    document_types=(
        DocumentType(
            name="sales_order",
            label=_l("Sales order"),
            model=Order,
            fields=dict(ORDER_FIELDS),
            default_workflow=SALES_ORDER_WORKFLOW,
            numbering=NumberingDefault("OV-{year}-{seq:05}", yearly_reset=True, gapless=False),
            detail_endpoint="orders.sale_detail",
            lockable_fields=LOCKABLE,
            delivery_transitions=("ship", "mark_partially_shipped", "mark_shipped"),
        ),
        DocumentType(
            name="purchase_order",
            label=_l("Purchase order"),
            model=Order,
            fields=dict(ORDER_FIELDS),
            default_workflow=PURCHASE_ORDER_WORKFLOW,
            numbering=NumberingDefault("OA-{year}-{seq:05}", yearly_reset=True, gapless=False),
            detail_endpoint="orders.purchase_detail",
            lockable_fields=LOCKABLE,
            delivery_transitions=("receive", "mark_partially_received", "mark_received"),
        ),
    ),
    actions=(
        WorkflowAction(
            "orders.request_invoice", _l("Request an invoice"), request_invoice, ("sales_order",)
        ),
        WorkflowAction("orders.notify", _l("E-mail the counterpart"), notify),
    ),
    event_handlers={
        "shipment.posted": [services.on_goods_delivered],
        "receipt.posted": [services.on_goods_delivered],
    },
    dashboard=home_widgets.widgets,
    search=global_search.search,
    webhook_events=WEBHOOK_EVENTS,
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
