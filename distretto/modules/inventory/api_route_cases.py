"""How the cross-firm route sweep exercises the inventory API (``inventory_api.*``).

Builders come from :mod:`distretto.modules.inventory.route_cases`; each firm's
JSON bodies name its own products and orders. A transition's ``name`` is not an id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from distretto.modules.catalog.route_cases import supplier
from distretto.modules.inventory.route_cases import (
    CATALOG,
    ORDERS,
    confirmed_order,
    draft_shipment,
    shipped,
    stocked_product,
)
from distretto.testing.routes import RouteRequest, SweepFirm, response_text, route_case


def _count(firm: SweepFirm) -> Any:
    from distretto.modules.inventory import services

    return services.start_count(
        services.default_location().id, [stocked_product(firm).id], firm.unique("conta")
    )


def _on_hand(product_id: int) -> Decimal:
    from distretto.modules.inventory import services

    stock = services.stock_of(product_id)
    return Decimal(stock.on_hand) if stock else Decimal(0)


@route_case("inventory_api.list_stock", "GET", modules=CATALOG)
@route_case("inventory_api.list_moves", "GET", modules=CATALOG)
@route_case("inventory_api.list_receipts", "GET", modules=CATALOG)
def _stock_lists(firm: SweepFirm) -> None:
    stocked_product(firm, description=firm.unique("Bullone"))


@route_case("inventory_api.list_locations", "GET", modules=CATALOG)
def _locations(firm: SweepFirm) -> None:
    stocked_product(firm)


@route_case("inventory_api.get_stock", "GET", modules=CATALOG)
def _stock(firm: SweepFirm) -> dict[str, Any]:
    return {"product_id": stocked_product(firm).id}


def _adjusted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _on_hand(request.json["product_id"]) == Decimal("7"), response_text(response)


@route_case("inventory_api.adjust", "POST", modules=CATALOG, verify=_adjusted)
def _adjust(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        json={"product_id": stocked_product(firm).id, "quantity": "7", "note": firm.unique("n")}
    )


@route_case("inventory_api.list_shipments", "GET", modules=ORDERS)
def _shipments(firm: SweepFirm) -> None:
    shipped(firm)


def _shipped_now(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert body["state"] == "shipped", body
    assert body["number"], body


@route_case("inventory_api.create_shipment", "POST", modules=ORDERS, verify=_shipped_now)
def _create_shipment(firm: SweepFirm) -> RouteRequest:
    order = confirmed_order(firm)
    return RouteRequest(
        json={
            "source": {"document_type": "sales_order", "document_id": order.id},
            "destination": firm.unique("Cantiere"),
            "ship": True,
        }
    )


@route_case("inventory_api.get_shipment", "GET", modules=ORDERS)
@route_case("inventory_api.shipment_pdf", "GET", modules=ORDERS)
def _shipment(firm: SweepFirm) -> dict[str, Any]:
    return {"shipment_id": shipped(firm).id}


def _etag(shipment: Any) -> str:
    from distretto.modules.inventory.api import ShipmentOut
    from distretto.platform.api import etag_of
    from distretto.platform.db import db

    db.session.flush()
    db.session.expire_all()
    return f'"{etag_of(ShipmentOut().dump(shipment))}"'


def _details_changed(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert body["destination"] == request.json["destination"], body
    assert body["packages"] == 3, body


@route_case("inventory_api.update_shipment", "PATCH", modules=ORDERS, verify=_details_changed)
def _update_shipment(firm: SweepFirm) -> RouteRequest:
    shipment = draft_shipment(firm)
    return RouteRequest(
        url={"shipment_id": shipment.id},
        json={"destination": firm.unique("Magazzino cliente"), "packages": 3},
        headers={"If-Match": _etag(shipment)},
    )


@route_case(
    "inventory_api.shipment_transition",
    "POST",
    modules=ORDERS,
    shared_values={"name"},
    verify=_shipped_now,
)
def _ship(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"shipment_id": draft_shipment(firm).id, "name": "ship"}, json={})


def _received(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    product_id = request.json["lines"][0]["product_id"]
    assert _on_hand(product_id) == Decimal("23"), response_text(response)


@route_case("inventory_api.create_receipt", "POST", modules=CATALOG, verify=_received)
def _create_receipt(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        json={
            "supplier_document": firm.unique("bolla"),
            "lines": [{"product_id": stocked_product(firm).id, "quantity": "3"}],
        }
    )


@route_case("inventory_api.get_receipt", "GET", modules=CATALOG)
def _receipt(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.inventory import services

    receipt = services.receive(
        lines=[(stocked_product(firm).id, Decimal("2"), None, None)],
        party_id=supplier(firm).id,
        supplier_document=firm.unique("bolla"),
    )
    return {"receipt_id": receipt.id}


@route_case("inventory_api.list_counts", "GET", modules=CATALOG)
def _counts(firm: SweepFirm) -> None:
    _count(firm)


@route_case("inventory_api.create_count", "POST", modules=CATALOG, expect_ok={201})
def _create_count(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(json={"product_ids": [stocked_product(firm).id], "note": firm.unique("c")})


@route_case("inventory_api.get_count", "GET", modules=CATALOG)
def _get_count(firm: SweepFirm) -> dict[str, Any]:
    return {"count_id": _count(firm).id}


def _posted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert body["status"] == "posted", body


@route_case("inventory_api.record_counted", "POST", modules=CATALOG, verify=_posted)
def _record_counted(firm: SweepFirm) -> RouteRequest:
    count = _count(firm)
    return RouteRequest(
        url={"count_id": count.id},
        json={"lines": [{"product_id": count.lines[0].product_id, "counted": "3"}], "post": True},
    )


@route_case("inventory_api.post_count", "POST", modules=CATALOG, verify=_posted)
def _post_count(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.inventory import services

    count = _count(firm)
    services.record_counted(count, {count.lines[0].product_id: Decimal("1")})
    return RouteRequest(url={"count_id": count.id}, json={})
