"""inventory: warehouses, the stock ledger, reservations, shipments with DDT, receipts, counts."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from distretto.modules.inventory import dashboard as home_widgets
from distretto.modules.inventory import search as global_search
from distretto.modules.inventory import services
from distretto.modules.inventory.api import blp as api_bp
from distretto.modules.inventory.models import (
    Location,
    ProductStock,
    Receipt,
    ReceiptLine,
    Reservation,
    Shipment,
    ShipmentLine,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMove,
    Warehouse,
)
from distretto.modules.inventory.views import bp
from distretto.modules.inventory.webhooks import WEBHOOK_EVENTS
from distretto.modules.inventory.workflows import TRANSPORT_DOCUMENT_WORKFLOW
from distretto.sdk import (
    DocumentType,
    FieldSpec,
    MenuEntry,
    Module,
    NumberingDefault,
    WorkflowAction,
)

module = Module(
    name="inventory",
    version="1.0.0",
    label=_l("Inventory"),
    description=_l(
        "Warehouses, stock ledger, reservations, shipments with transport documents, "
        "receipts, counts."
    ),
    requires=("catalog",),
    models=(
        Warehouse,
        Location,
        StockMove,
        StockLevel,
        ProductStock,
        Reservation,
        Shipment,
        ShipmentLine,
        Receipt,
        ReceiptLine,
        StockCount,
        StockCountLine,
    ),
    blueprint=bp,
    api_blueprint=api_bp,
    permissions={
        "inventory.view": ("owner", "admin", "staff", "viewer"),
        "inventory.ship": ("owner", "admin", "staff"),
        "inventory.receive": ("owner", "admin", "staff"),
        "inventory.adjust": ("owner", "admin", "staff"),
        "inventory.settings": ("owner", "admin"),
    },
    menu=(
        MenuEntry(_l("Stock"), "inventory.stock", "inventory.view", order=30),
        MenuEntry(_l("Transport documents"), "inventory.shipments", "inventory.view", order=31),
    ),
    document_types=(
        DocumentType(
            name="transport_document",
            label=_l("Transport document (DDT)"),
            model=Shipment,
            fields={
                "shipment_date": FieldSpec("date", _l("Date")),
                "packages": FieldSpec("integer", _l("Packages")),
                "line_count": FieldSpec(
                    "integer", _l("Number of lines"), getter=lambda s: len(s.lines)
                ),
            },
            default_workflow=TRANSPORT_DOCUMENT_WORKFLOW,
            numbering=NumberingDefault("DDT-{year}-{seq:05}", yearly_reset=True, gapless=True),
            detail_endpoint="inventory.shipment_detail",
            lockable_fields=("lines", "packages", "weight_kg", "destination", "notes"),
        ),
    ),
    actions=(
        WorkflowAction(
            "inventory.reserve_stock", _l("Reserve stock"), services.reserve_stock_action
        ),
        WorkflowAction(
            "inventory.release_reservation",
            _l("Release reserved stock"),
            services.release_reservation_action,
        ),
        WorkflowAction(
            "inventory.create_shipment",
            _l("Ship everything outstanding (DDT)"),
            services.create_shipment_action,
        ),
        WorkflowAction(
            "inventory.create_receipt",
            _l("Receive everything outstanding"),
            services.create_receipt_action,
        ),
        WorkflowAction(
            "inventory.post_shipment",
            _l("Move the goods and number the DDT"),
            services.post_shipment_action,
            ("transport_document",),
        ),
    ),
    on_enable=services.seed_inventory,
    dashboard=home_widgets.widgets,
    search=global_search.search,
    webhook_events=WEBHOOK_EVENTS,
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
