"""The inventory API: stock in, an order shipped with its DDT, the ledger, counts; firms apart."""

from __future__ import annotations

from typing import Any

from tests.api.erp import (  # noqa: F401 - fixtures
    Erp,
    confirmed_order,
    customer,
    erp_fixture,
    make_erp_firm_fixture,
    ok,
    product,
    receive,
    shipped_order,
    supplier,
)


def test_receive_stock_then_ship_an_order_with_its_ddt(erp: Erp) -> None:
    api = erp.api
    party = customer(api)
    item = product(api)
    vendor = supplier(api)
    receipt = ok(
        api.post(
            "/inventory/receipts",
            {
                "party_id": vendor["id"],
                "supplier_document": "DDT 77/2026",
                "lines": [{"product_id": item["id"], "quantity": "20", "unit_cost": "3.5"}],
            },
        ),
        201,
    )
    assert receipt["lines"][0]["quantity"] == "20.000"
    assert ok(api.get(f"/inventory/receipts/{receipt['id']}"))["supplier_document"] == "DDT 77/2026"
    stock = ok(api.get(f"/inventory/stock/{item['id']}"))
    assert (stock["on_hand"], stock["available"], stock["average_cost"]) == (
        "20.000",
        "20.000",
        "3.500000",
    )

    order = confirmed_order(api, party["id"], item["id"], quantity="5")
    assert ok(api.get(f"/inventory/stock/{item['id']}"))["reserved"] == "5.000"
    shipment = ok(
        api.post(
            "/inventory/shipments",
            {
                "source": {"document_type": "sales_order", "document_id": order["id"]},
                "lines": [{"source_line_id": order["lines"][0]["id"], "quantity": "3"}],
                "packages": 1,
                "destination": "Cantiere di Gorle",
            },
        ),
        201,
    )
    assert shipment["state"] == "draft"
    assert shipment["number"] is None
    shipped = ok(api.post(f"/inventory/shipments/{shipment['id']}/transitions/ship", {}))
    assert shipped["state"] == "shipped"
    assert shipped["number"].startswith("DDT-")
    stock = ok(api.get(f"/inventory/stock/{item['id']}"))
    assert (stock["on_hand"], stock["reserved"]) == ("17.000", "2.000")
    pdf = api.get(f"/inventory/shipments/{shipment['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    # the order knows what was delivered
    assert ok(api.get(f"/orders/sales/{order['id']}"))["lines"][0]["quantity_delivered"] == "3.000"

    moves = ok(api.get(f"/inventory/moves?product_id={item['id']}&sort=created_at"))["items"]
    assert [(m["move_type"], m["quantity"]) for m in moves] == [
        ("receipt", "20.000"),
        ("shipment", "3.000"),
    ]
    assert ok(api.get("/inventory/moves?move_type=shipment"))["total"] == 1
    listed = ok(api.get(f"/inventory/shipments?state=shipped&party_id={party['id']}"))
    assert [s["id"] for s in listed["items"]] == [shipment["id"]]


def test_refusals_are_problems_and_change_nothing(erp: Erp) -> None:
    api = erp.api
    party = customer(api)
    item = product(api)
    receive(api, item["id"], "2")
    # a draft order: goods do not move yet
    draft = ok(
        api.post(
            "/orders/sales",
            {"party_id": party["id"], "lines": [{"product_id": item["id"], "quantity": "1"}]},
        ),
        201,
    )
    refused = api.post(
        "/inventory/shipments",
        {"source": {"document_type": "sales_order", "document_id": draft["id"]}},
    )
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    # standalone, more than on hand: the ship step is refused, nothing is kept
    short = api.post(
        "/inventory/shipments",
        {
            "party_id": party["id"],
            "lines": [{"product_id": item["id"], "quantity": "5"}],
            "ship": True,
        },
    )
    assert short.status_code == 409, short.get_json()
    assert "Not enough" in short.get_json()["detail"]
    assert ok(api.get("/inventory/shipments"))["total"] == 0
    assert ok(api.get(f"/inventory/stock/{item['id']}"))["on_hand"] == "2.000"
    bad = api.post("/inventory/receipts", {"lines": [{"product_id": item["id"], "quantity": "-1"}]})
    assert bad.status_code == 422
    assert "lines" in bad.get_json()["errors"]


def test_a_standalone_shipment_adjustments_and_a_count(erp: Erp) -> None:
    api = erp.api
    party = customer(api)
    item = product(api)
    receive(api, item["id"], "10")
    shipment = ok(
        api.post(
            "/inventory/shipments",
            {
                "party_id": party["id"],
                "reason": "Conto visione",
                "lines": [
                    {"product_id": item["id"], "quantity": "4"},
                    {"description": "Campionario", "quantity": "1"},
                ],
                "ship": True,
            },
        ),
        201,
    )
    assert shipment["state"] == "shipped"
    assert shipment["reason"] == "Conto visione"
    assert ok(api.get(f"/inventory/stock/{item['id']}"))["on_hand"] == "6.000"

    adjusted = ok(
        api.post(
            "/inventory/adjustments",
            {"product_id": item["id"], "quantity": "5", "note": "rotto"},
        ),
        201,
    )
    assert adjusted["move"]["move_type"] == "adjustment"
    assert adjusted["stock"]["on_hand"] == "5.000"

    count = ok(api.post("/inventory/counts", {"product_ids": [item["id"]]}), 201)
    assert count["status"] == "open"
    assert count["lines"][0]["expected"] == "5.000"
    posted = ok(
        api.post(
            f"/inventory/counts/{count['id']}/counted",
            {"lines": [{"product_id": item["id"], "counted": "7"}], "post": True},
        )
    )
    assert posted["status"] == "posted"
    assert posted["lines"][0]["difference"] == "2.000"
    assert api.post(f"/inventory/counts/{count['id']}/post").status_code == 409
    assert ok(api.get(f"/inventory/stock/{item['id']}"))["on_hand"] == "7.000"


def test_a_firm_never_reaches_another_firms_shipments(make_erp_firm: Any) -> None:
    a, b = make_erp_firm(), make_erp_firm()
    _party, _order, shipment = shipped_order(b.api)
    for path in (
        f"/inventory/shipments/{shipment['id']}",
        f"/inventory/shipments/{shipment['id']}/pdf",
        f"/inventory/stock/{shipment['lines'][0]['product_id']}",
    ):
        assert a.api.get(path).status_code == 404, path
    cancel = a.api.post(f"/inventory/shipments/{shipment['id']}/transitions/cancel", {})
    assert cancel.status_code == 404
    assert ok(a.api.get("/inventory/shipments"))["total"] == 0
    # A's token on B's address
    foreign = a.api.client.get(
        f"{b.firm.base}/inventory/shipments/{shipment['id']}", headers=a.api.headers()
    )
    assert foreign.status_code == 404
    assert ok(b.api.get(f"/inventory/shipments/{shipment['id']}"))["state"] == "shipped"


def test_a_draft_ddt_changes_with_if_match_and_is_locked_once_shipped(erp: Erp) -> None:
    api = erp.api
    party = customer(api)
    item = product(api)
    receive(api, item["id"], "10")
    order = confirmed_order(api, party["id"], item["id"], quantity="2")
    shipment = ok(
        api.post(
            "/inventory/shipments",
            {"source": {"document_type": "sales_order", "document_id": order["id"]}},
        ),
        201,
    )
    path = f"/inventory/shipments/{shipment['id']}"
    etag = api.get(path).headers["ETag"]
    assert api.patch(path, {"packages": 4}).status_code == 428
    changed = ok(api.patch(path, {"packages": 4, "weight_kg": "12.5"}, headers={"If-Match": etag}))
    assert changed["packages"] == 4
    assert changed["weight_kg"] == "12.50"
    stale = api.patch(path, {"packages": 9}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert ok(api.get(path))["packages"] == 4
    ok(api.post(f"{path}/transitions/ship", {}))
    fresh = api.get(path).headers["ETag"]
    locked = api.patch(path, {"notes": "troppo tardi"}, headers={"If-Match": fresh})
    assert locked.status_code == 409
    assert "no longer change" in locked.get_json()["detail"]
