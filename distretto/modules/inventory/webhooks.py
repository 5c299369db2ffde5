"""The inventory module's public webhook events and their payloads (stable JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from distretto.modules.catalog.models import Product
from distretto.modules.catalog.webhooks import counterpart
from distretto.modules.inventory.models import ProductStock, Receipt, Shipment
from distretto.sdk import WebhookEvent, db


def _source(kind: str | None, source_id: int | None, number: str | None) -> dict | None:
    return {"type": kind, "id": source_id, "number": number} if kind else None


def dump_shipment(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": shipment.id,
        "number": shipment.number,
        "state": shipment.state,
        "shipment_date": shipment.shipment_date,
        "counterpart": counterpart(shipment.party_id),
        "source": _source(shipment.source_type, shipment.source_id, shipment.source_number),
        "reason": shipment.reason,
        "carrier": shipment.carrier,
        "packages": shipment.packages,
        "weight_kg": shipment.weight_kg,
        "destination": shipment.destination,
        "lines": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "description": line.description,
                "unit": line.unit,
                "quantity": line.quantity,
                "order_line_id": line.source_line_id,
            }
            for line in shipment.lines
        ],
    }


def dump_receipt(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "receipt_date": receipt.receipt_date,
        "counterpart": counterpart(receipt.party_id),
        "source": _source(receipt.source_type, receipt.source_id, receipt.source_number),
        "supplier_document": receipt.supplier_document,
        "lines": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
                "order_line_id": line.source_line_id,
            }
            for line in receipt.lines
        ],
    }


def _shipped(document: Any = None, **_: Any) -> dict[str, Any] | None:
    return dump_shipment(document) if isinstance(document, Shipment) else None


def _received(receipt: Any = None, **_: Any) -> dict[str, Any] | None:
    return dump_receipt(receipt) if isinstance(receipt, Receipt) else None


def _low(
    product: Product, available: Decimal, reorder_point: Decimal, **_: Any
) -> dict[str, Any]:
    stock = db.session.execute(
        select(ProductStock).where(ProductStock.product_id == product.id)
    ).scalar_one_or_none()
    return {
        "product": {
            "id": product.id,
            "code": product.code,
            "description": product.description,
            "unit": product.unit,
        },
        "on_hand": stock.on_hand if stock else Decimal("0"),
        "reserved": stock.reserved if stock else Decimal("0"),
        "available": available,
        "reorder_point": reorder_point,
    }


WEBHOOK_EVENTS = (
    WebhookEvent(
        "shipment.shipped",
        _l("Goods shipped"),
        ("transport_document.ship",),
        _shipped,
        _l("A transport document (DDT) was posted and its goods left the warehouse."),
    ),
    WebhookEvent(
        "receipt.posted",
        _l("Goods received"),
        ("receipt.posted",),
        _received,
        _l("Goods were received into the warehouse."),
    ),
    WebhookEvent(
        "stock.low",
        _l("Stock low"),
        ("stock.low",),
        _low,
        _l("A product's available quantity fell to its reorder point or below."),
    ),
)
