"""How the cross-firm route sweep exercises the inventory pages (see ``distretto.testing.routes``).

Stock is built the way a firm builds it, through the inventory services:
goods received (:func:`stocked_product`), sales orders confirmed (stock
reserved) and shipped with a DDT, purchase orders sent and received, counts
started. The pages that ship or receive against an order need the orders
module as well. ``document_type`` in a URL (``sales_order``) and a transition's
``name`` are not ids; locations are, in the forms that take them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from distretto.modules.catalog.route_cases import code, customer, product, supplier
from distretto.modules.orders.route_cases import advance, purchase_order, sales_order
from distretto.testing.routes import RouteRequest, SweepFirm, response_text, route_case

CATALOG = ("catalog",)
ORDERS = ("catalog", "orders")


def stocked_product(firm: SweepFirm, quantity: str = "20", **extra: Any) -> Any:
    """A product of ``firm`` with ``quantity`` received from a supplier into the default
    location, flushed."""
    from distretto.modules.inventory import services

    item = product(firm, **extra)
    services.receive(
        lines=[(item.id, Decimal(quantity), Decimal("0.40"), None)],
        party_id=supplier(firm).id,
        supplier_document=firm.unique("bolla"),
    )
    return item


def default_location_id() -> int:
    from distretto.modules.inventory import services

    return services.default_location().id


def second_location(firm: SweepFirm) -> Any:
    """Another location in the firm's main warehouse (no page creates locations yet)."""
    from distretto.modules.inventory import services
    from distretto.modules.inventory.models import Location
    from distretto.platform.db import db

    location = Location(
        warehouse_id=services.default_location().warehouse_id,
        code=code(firm, "S"),
        name=firm.unique("Scaffale"),
    )
    db.session.add(location)
    db.session.flush()
    return location


def confirmed_order(firm: SweepFirm, quantity: str = "4") -> Any:
    """A confirmed sales order (stock received first, then reserved), flushed."""
    return advance(
        sales_order(firm, products=[stocked_product(firm)], quantity=quantity), "confirm"
    )


def draft_shipment(firm: SweepFirm) -> Any:
    """A DDT being prepared for one unit of a confirmed sales order, flushed."""
    from distretto.modules.inventory import services
    from distretto.platform.db import db

    order = confirmed_order(firm)
    line = next(line for line in order.stock_lines() if line.product_id)
    shipment = services.create_shipment(
        party_id=order.party_id,
        lines=[(line, Decimal("1"))],
        source=("sales_order", order.id, order.number),
        details={"destination": firm.unique("Cantiere"), "packages": 1},
    )
    db.session.flush()
    return shipment


def shipped(firm: SweepFirm) -> Any:
    """A shipped, numbered DDT, flushed."""
    from distretto.modules.inventory import services
    from distretto.platform.db import db

    shipment = draft_shipment(firm)
    services.ship(shipment)
    db.session.flush()
    return shipment


def _get(model: Any, row_id: int) -> Any:
    from distretto.platform.db import db

    return db.session.get(model, row_id)


def _level(product_id: int, location_id: int) -> Decimal:
    from distretto.modules.inventory.models import StockLevel
    from distretto.platform.db import db

    found = db.session.execute(
        select(StockLevel.on_hand).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id
        )
    ).scalar_one_or_none()
    return Decimal(found or 0)


def _product_by_code(product_code: str) -> Any:
    from distretto.modules.catalog.models import Product
    from distretto.platform.db import db

    return db.session.execute(select(Product).where(Product.code == product_code)).scalar_one()


def _ledger_consistent() -> None:
    from distretto.modules.inventory import services

    assert services.ledger_check() == []


# --- stock and ledger -------------------------------------------------------------------------


@route_case("inventory.stock", "GET", modules=CATALOG)
def _stock(firm: SweepFirm) -> None:
    stocked_product(firm)
    stocked_product(firm, quantity="2", reorder_point="5")  # low on stock
    product(firm)  # nothing received yet


@route_case("inventory.product_moves", "GET", modules=CATALOG)
def _moves(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.inventory import services

    item = stocked_product(firm)
    services.adjust(item.id, default_location_id(), Decimal("18"), note=firm.unique("rotti"))
    return {"product_id": item.id}


# --- shipments (DDT) ----------------------------------------------------------------------------


@route_case("inventory.shipments", "GET", modules=ORDERS)
def _shipments(firm: SweepFirm) -> None:
    shipped(firm)
    draft_shipment(firm)


@route_case("inventory.shipment_detail", "GET", modules=ORDERS)
def _shipment_page(firm: SweepFirm) -> dict[str, Any]:
    return {"shipment_id": shipped(firm).id}


def _ddt_printed(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party
    from distretto.modules.inventory.models import Shipment

    shipment = _get(Shipment, request.url["shipment_id"])
    assert response.mimetype == "application/pdf"
    printed = response_text(response)
    assert shipment.number in printed
    assert _get(Party, shipment.party_id).legal_name in printed
    assert shipment.lines[0].description in printed


@route_case("inventory.shipment_pdf", "GET", modules=ORDERS, verify=_ddt_printed)
def _shipment_pdf(firm: SweepFirm) -> dict[str, Any]:
    return {"shipment_id": shipped(firm).id}


def _ddt_issued(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory import services
    from distretto.modules.inventory.models import Shipment
    from distretto.modules.orders.models import Order

    shipment = _get(Shipment, request.url["shipment_id"])
    assert shipment.state == "shipped"
    assert shipment.number
    assert shipment.number.startswith("DDT-")
    order = _get(Order, shipment.source_id)
    assert order.state == "partially_shipped"
    stock = services.stock_of(shipment.lines[0].product_id)
    assert (stock.on_hand, stock.reserved) == (Decimal("19"), Decimal("3"))
    _ledger_consistent()


# a refused step answers 303: only 302 is a shipment issued
@route_case(
    "inventory.shipment_transition",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"name"},
    verify=_ddt_issued,
)
def _ship_shipment(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        url={"shipment_id": draft_shipment(firm).id, "name": "ship"},
        data={"comment": firm.unique("ritira il corriere")},
    )


@route_case("inventory.ship_document", "GET", modules=ORDERS, shared_values={"document_type"})
def _ship_form(firm: SweepFirm) -> dict[str, Any]:
    return {"document_type": "sales_order", "document_id": confirmed_order(firm).id}


def _order_shipped_in_part(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory.models import Shipment
    from distretto.modules.orders.models import Order
    from distretto.platform.db import db

    assert request.data is not None
    order = _get(Order, request.url["document_id"])
    assert order.state == "partially_shipped"
    shipment = db.session.execute(
        select(Shipment).where(Shipment.source_id == order.id)
    ).scalar_one()
    assert shipment.state == "shipped"
    assert shipment.number
    assert shipment.destination == request.data["destination"]
    assert [line.quantity for line in shipment.lines] == [Decimal("3")]
    assert response.headers["Location"].endswith(f"/shipments/{shipment.id}")
    _ledger_consistent()


@route_case(
    "inventory.ship_document",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"document_type"},
    verify=_order_shipped_in_part,
)
def _ship_order(firm: SweepFirm) -> RouteRequest:
    order = confirmed_order(firm)
    line = next(line for line in order.stock_lines() if line.product_id)
    return RouteRequest(
        url={"document_type": "sales_order", "document_id": order.id},
        data={
            f"qty_{line.line_id}": "3",
            "reason": "Vendita",
            "carrier": "vettore",
            "packages": "2",
            "weight_kg": "3,5",
            "appearance": "scatole",
            "destination": firm.unique("Cantiere"),
        },
    )


# --- receipts -------------------------------------------------------------------------------------


@route_case("inventory.receipts", "GET", modules=CATALOG)
def _receipts(firm: SweepFirm) -> None:
    stocked_product(firm)


@route_case("inventory.receive_document", "GET", modules=ORDERS, shared_values={"document_type"})
def _receive_form(firm: SweepFirm) -> dict[str, Any]:
    return {
        "document_type": "purchase_order",
        "document_id": advance(purchase_order(firm), "send").id,
    }


def _order_received_in_part(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory import services
    from distretto.modules.inventory.models import Receipt
    from distretto.modules.orders.models import Order
    from distretto.platform.db import db

    assert request.data is not None
    order = _get(Order, request.url["document_id"])
    assert order.state == "partially_received"
    receipt = db.session.execute(select(Receipt).where(Receipt.source_id == order.id)).scalar_one()
    assert receipt.supplier_document == request.data["supplier_document"]
    assert services.stock_of(order.lines[0].product_id).on_hand == Decimal("4")
    _ledger_consistent()


@route_case(
    "inventory.receive_document",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"document_type"},
    verify=_order_received_in_part,
)
def _receive_order(firm: SweepFirm) -> RouteRequest:
    order = advance(purchase_order(firm), "send")
    line = next(line for line in order.stock_lines() if line.product_id)
    return RouteRequest(
        url={"document_type": "purchase_order", "document_id": order.id},
        data={f"qty_{line.line_id}": "4", "supplier_document": firm.unique("DDT fornitore")},
    )


# --- adjustments and transfers -----------------------------------------------------------------


@route_case("inventory.adjust", "GET", modules=CATALOG)
@route_case("inventory.transfer", "GET", modules=CATALOG)
def _stock_forms(firm: SweepFirm) -> None:
    second_location(firm)
    stocked_product(firm)


def _adjusted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert request.data is not None
    item = _product_by_code(request.data["product_code"])
    assert _level(item.id, int(request.data["location_id"])) == Decimal("7")
    _ledger_consistent()


# The product is typed as a code: B's code in A's form is unknown in A (400).
@route_case(
    "inventory.adjust",
    "POST",
    modules=CATALOG,
    expect_ok={302},
    id_fields={"product_code"},
    expect_denied={400},
    verify=_adjusted,
)
def _adjust(firm: SweepFirm) -> RouteRequest:
    item = stocked_product(firm)
    return RouteRequest(
        data={
            "product_code": item.code,
            "location_id": str(default_location_id()),
            "quantity": "7",
            "note": firm.unique("inventario a vista"),
        }
    )


def _transferred(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert request.data is not None
    item = _product_by_code(request.data["product_code"])
    assert _level(item.id, int(request.data["from_location_id"])) == Decimal("15")
    assert _level(item.id, int(request.data["to_location_id"])) == Decimal("5")
    _ledger_consistent()


# A's own product moved into B's location: refused (400), nothing moves.
@route_case(
    "inventory.transfer",
    "POST",
    modules=CATALOG,
    expect_ok={302},
    id_fields={"to_location_id"},
    expect_denied={400},
    verify=_transferred,
)
def _transfer(firm: SweepFirm) -> RouteRequest:
    item = stocked_product(firm)
    return RouteRequest(
        data={
            "product_code": item.code,
            "quantity": "5",
            "from_location_id": str(default_location_id()),
            "to_location_id": str(second_location(firm).id),
        }
    )


# --- counts -------------------------------------------------------------------------------------


def _count(firm: SweepFirm) -> Any:
    from distretto.modules.inventory import services

    stocked_product(firm)
    return services.start_count(default_location_id(), note=firm.unique("inventario annuale"))


@route_case("inventory.counts", "GET", modules=CATALOG)
def _counts(firm: SweepFirm) -> None:
    _count(firm)


def _count_started(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory.models import StockCount
    from distretto.platform.db import db

    assert request.data is not None
    count = db.session.execute(
        select(StockCount).where(StockCount.note == request.data["note"])
    ).scalar_one()
    assert count.location_id == int(request.data["location_id"])
    assert count.status == "open"
    assert [line.expected for line in count.lines] == [Decimal("20")]
    assert response.headers["Location"].endswith(f"/counts/{count.id}")


# A count of B's location, asked in A: refused (400), nothing started.
@route_case(
    "inventory.counts",
    "POST",
    modules=CATALOG,
    expect_ok={302},
    id_fields={"location_id"},
    expect_denied={400},
    verify=_count_started,
)
def _start_count(firm: SweepFirm) -> RouteRequest:
    stocked_product(firm)
    return RouteRequest(
        data={"location_id": str(default_location_id()), "note": firm.unique("conta")}
    )


@route_case("inventory.count_detail", "GET", modules=CATALOG)
def _count_page(firm: SweepFirm) -> dict[str, Any]:
    return {"count_id": _count(firm).id}


def _count_posted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory.models import StockCount

    count = _get(StockCount, request.url["count_id"])
    assert count.status == "posted"
    line = count.lines[0]
    assert line.counted == Decimal("18")
    assert _level(line.product_id, count.location_id) == Decimal("18")
    _ledger_consistent()


# a refused posting answers 303: only 302 is a count posted
@route_case(
    "inventory.count_detail", "POST", modules=CATALOG, expect_ok={302}, verify=_count_posted
)
def _post_count(firm: SweepFirm) -> RouteRequest:
    count = _count(firm)
    line = count.lines[0]
    return RouteRequest(
        url={"count_id": count.id}, data={f"counted_{line.product_id}": "18", "post": "1"}
    )


# --- settings -----------------------------------------------------------------------------------


@route_case("inventory.settings", "GET", modules=CATALOG)
def _settings_page(firm: SweepFirm) -> None:
    return None


def _negative_stock_allowed(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.models import Tenant

    tenant = db.session.get(Tenant, firm.tenant_id)
    db.session.refresh(tenant)
    assert tenant.settings["inventory"]["allow_negative_stock"] is True


@route_case(
    "inventory.settings", "POST", modules=CATALOG, expect_ok={302}, verify=_negative_stock_allowed
)
def _settings(firm: SweepFirm) -> RouteRequest:
    customer(firm)
    return RouteRequest(data={"allow_negative_stock": "y"})


# the API endpoints (inventory_api.*)
import distretto.modules.inventory.api_route_cases  # noqa: E402, F401 - registers on import
