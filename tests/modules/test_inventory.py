"""Inventory through its pages: stock counts, negative stock, reservations kept whole."""

from __future__ import annotations

import html
from decimal import Decimal

from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.inventory.models import Shipment, StockCount, StockMove
from distretto.modules.orders import services as orders
from distretto.modules.orders.models import Order
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import enable_module, invalidate_enabled_cache
from distretto.testing.plugin import csrf_token

ALL = ["catalog", "orders", "inventory"]


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _customer():
    return catalog.create_party(
        {"legal_name": "Tessitura Lario S.r.l.", "is_customer": True, "vat_number": "03777120167"}
    )


def _product(code: str, *, on_hand: str | None = None, **fields):
    rate = catalog.vat_rate_by_code("22")
    product = catalog.create_product(
        {
            "code": code,
            "description": f"Articolo {code}",
            "vat_rate_id": rate.id,
            "sale_price": "10",
            **fields,
        }
    )
    if on_hand is not None:
        inventory.receive(lines=[(product.id, Decimal(on_hand), Decimal("2"), None)])
    return product


def _moves(kind: str | None = None) -> list[StockMove]:
    query = select(StockMove).order_by(StockMove.id)
    if kind:
        query = query.where(StockMove.move_type == kind)
    return list(db.session.execute(query).scalars())


# --- stock counts --------------------------------------------------------------------------


def test_stock_count_entered_reviewed_and_posted_through_the_pages(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=ALL)
    with tenant_context(tenant):
        bolts = _product("BUL-8", on_hand="10").id
        nuts = _product("DAD-8", on_hand="4").id
        washers = _product("ROS-8").id  # never received: expected 0
        _product("SRV-1", is_service=True)  # services are not counted
        location = inventory.default_location().id
        db.session.commit()
    counts = f"/{tenant.slug}/inventory/counts"
    response = client.post(
        counts,
        data={
            "csrf_token": csrf_token(client, counts),
            "location_id": str(location),
            "note": "inventario di fine anno",
        },
    )
    assert response.status_code == 302
    count_page = response.headers["Location"]
    with tenant_context(tenant):
        count = db.session.execute(select(StockCount)).scalar_one()
        assert {line.product_id: line.expected for line in count.lines} == {
            bolts: Decimal("10"),
            nuts: Decimal("4"),
            washers: Decimal("0"),
        }

    # a wrong entry is answered on the line, nothing saved
    bad = client.post(
        count_page,
        data={
            "csrf_token": csrf_token(client, count_page),
            f"counted_{bolts}": "-1",
            f"counted_{nuts}": "quattro",
        },
    )
    assert bad.status_code == 400
    assert text_of(bad).count("Enter a quantity (0 or more).") == 2
    with tenant_context(tenant):
        assert all(line.counted is None for line in db.session.get(StockCount, count.id).lines)

    # enter and review: nothing moves yet
    response = client.post(
        count_page,
        data={
            "csrf_token": csrf_token(client, count_page),
            f"counted_{bolts}": "8",
            f"counted_{nuts}": "4",
            f"counted_{washers}": "2,5",
        },
    )
    assert response.status_code == 302
    review = client.get(count_page)
    assert review.status_code == 200
    assert "table-warning" in text_of(review)
    with tenant_context(tenant):
        assert _moves("adjustment") == []
        differences = {
            line.product_id: line.difference for line in db.session.get(StockCount, count.id).lines
        }
        assert differences == {bolts: Decimal("-2"), nuts: Decimal("0"), washers: Decimal("2.5")}

    # post: one adjustment per difference
    response = client.post(
        count_page,
        data={
            "csrf_token": csrf_token(client, count_page),
            f"counted_{bolts}": "8",
            f"counted_{nuts}": "4",
            f"counted_{washers}": "2,5",
            "post": "1",
        },
    )
    assert response.status_code == 302
    assert "2 adjustments posted." in text_of(client.get(response.headers["Location"]))
    with tenant_context(tenant):
        moves = _moves("adjustment")
        assert [
            (m.product_id, m.quantity, m.from_location_id, m.to_location_id) for m in moves
        ] == [
            (bolts, Decimal("2"), location, None),
            (washers, Decimal("2.5"), None, location),
        ]
        assert [inventory.stock_of(p).on_hand for p in (bolts, nuts, washers)] == [
            Decimal("8"),
            Decimal("4"),
            Decimal("2.5"),
        ]
        assert inventory.ledger_check() == []
        posted = db.session.get(StockCount, count.id)
        assert posted.status == "posted"
        assert posted.posted_at is not None

    # a posted count cannot be posted again
    again = client.post(
        count_page,
        data={"csrf_token": csrf_token(client, count_page), f"counted_{bolts}": "0", "post": "1"},
    )
    assert again.status_code == 303
    assert "This count is already posted." in text_of(client.get(again.headers["Location"]))
    with tenant_context(tenant):
        assert len(_moves("adjustment")) == 2
        assert inventory.stock_of(bolts).on_hand == Decimal("8")
        count = db.session.get(StockCount, count.id)
        try:
            inventory.post_count(count)
        except inventory.StockError:
            pass
        else:
            raise AssertionError("a posted count was posted again")
        assert len(_moves("adjustment")) == 2
    assert f'name="counted_{bolts}"' not in text_of(client.get(count_page))


def test_viewer_cannot_start_or_post_a_count(tenant_client, make_user, login):
    _client, tenant, _owner = tenant_client("owner", modules=ALL)
    viewer = login(make_user(tenant, "viewer"))
    with tenant_context(tenant):
        location = inventory.default_location().id
    counts = f"/{tenant.slug}/inventory/counts"
    response = viewer.post(
        counts, data={"csrf_token": csrf_token(viewer, counts), "location_id": str(location)}
    )
    assert response.status_code == 403
    with tenant_context(tenant):
        assert db.session.execute(select(StockCount)).first() is None


# --- stock never negative unless allowed --------------------------------------------------------


def _confirmed_order(customer_id: int, product_id: int, quantity: str) -> Order:
    order = orders.create_order(
        "sale",
        {"party_id": customer_id, "lines": [{"product_id": product_id, "quantity": quantity}]},
    )
    workflow.apply(order, "sales_order", "confirm", role="staff")
    return order


def test_stock_going_negative_is_refused_unless_the_firm_allows_it(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=ALL)
    with tenant_context(tenant):
        customer = _customer()
        product = _product("BUL-8", on_hand="5")
        order = _confirmed_order(customer.id, product.id, "5")
        # the count found only 2: goods reserved for the order are missing
        inventory.adjust(product.id, inventory.default_location().id, Decimal("2"))
        db.session.commit()
        product_id, order_id, line_id = product.id, order.id, order.lines[0].id
    ship = f"/{tenant.slug}/inventory/ship/sales_order/{order_id}"
    refused = client.post(
        ship, data={"csrf_token": csrf_token(client, ship), f"qty_{line_id}": "5"}
    )
    assert refused.status_code == 400
    assert "Not enough BUL-8 in that location." in text_of(refused)
    with tenant_context(tenant):
        assert db.session.execute(select(Shipment)).first() is None
        assert inventory.stock_of(product_id).on_hand == Decimal("2")
        assert _moves("shipment") == []

    adjust = f"/{tenant.slug}/inventory/adjust"
    negative = client.post(
        adjust,
        data={
            "csrf_token": csrf_token(client, adjust),
            "product_code": "BUL-8",
            "location_id": str(inventory_location(tenant)),
            "quantity": "-3",
        },
    )
    assert negative.status_code == 400
    assert "Enter a quantity (0 or more)." in text_of(negative)

    settings = f"/{tenant.slug}/inventory/settings"
    response = client.post(
        settings, data={"csrf_token": csrf_token(client, settings), "allow_negative_stock": "y"}
    )
    assert response.status_code == 302
    shipped = client.post(
        ship, data={"csrf_token": csrf_token(client, ship), f"qty_{line_id}": "5"}
    )
    assert shipped.status_code == 302, text_of(shipped)[-2000:]
    with tenant_context(tenant):
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("-3"), Decimal("0"))
        assert db.session.get(Order, order_id).state == "shipped"
        assert inventory.ledger_check() == []
    assert "-3" in text_of(client.get(f"/{tenant.slug}/inventory/stock"))


def inventory_location(tenant) -> int:
    with tenant_context(tenant):
        return inventory.default_location().id


def test_transfer_of_more_than_the_location_holds_is_refused(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=ALL)
    with tenant_context(tenant):
        from distretto.modules.inventory.models import Location

        product = _product("BUL-8", on_hand="3")
        main = inventory.default_location()
        shelf = Location(warehouse_id=main.warehouse_id, code="SCAF-1", name="Scaffale 1")
        db.session.add(shelf)
        db.session.commit()
        main_id, shelf_id, product_id = main.id, shelf.id, product.id
    page = f"/{tenant.slug}/inventory/transfer"
    data = {
        "csrf_token": csrf_token(client, page),
        "product_code": "BUL-8",
        "from_location_id": str(main_id),
        "to_location_id": str(shelf_id),
    }
    refused = client.post(page, data={**data, "quantity": "4"})
    assert refused.status_code == 400
    assert "Not enough BUL-8 in that location." in text_of(refused)
    moved = client.post(page, data={**data, "quantity": "2,5"})
    assert moved.status_code == 302
    with tenant_context(tenant):
        assert inventory.stock_of(product_id).on_hand == Decimal("3")
        assert inventory.ledger_check() == []
        assert [m.move_type for m in _moves()] == ["receipt", "transfer"]


# --- reservations are never taken by someone else --------------------------------------------


def test_a_shipment_cannot_take_goods_reserved_for_another_order(tenant_client):
    """A firm confirms an order before switching inventory on: that order has no reservation,
    and shipping it must not carry off what a later order reserved."""
    client, tenant, _user = tenant_client("owner", modules=["catalog", "orders"])
    with tenant_context(tenant):
        customer = _customer()
        product = _product("BUL-8")
        early = _confirmed_order(customer.id, product.id, "5")
        enable_module("inventory")
        invalidate_enabled_cache()
        inventory.receive(lines=[(product.id, Decimal("10"), Decimal("1"), None)])
        _confirmed_order(customer.id, product.id, "8")
        db.session.commit()
        early_id, line_id, product_id = early.id, early.lines[0].id, product.id
    ship = f"/{tenant.slug}/inventory/ship/sales_order/{early_id}"
    refused = client.post(
        ship, data={"csrf_token": csrf_token(client, ship), f"qty_{line_id}": "5"}
    )
    assert refused.status_code == 400
    assert "Not enough BUL-8: 2 available, 5 needed." in text_of(refused)
    partial = client.post(
        ship, data={"csrf_token": csrf_token(client, ship), f"qty_{line_id}": "2"}
    )
    assert partial.status_code == 302, text_of(partial)[-2000:]
    with tenant_context(tenant):
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("8"), Decimal("8"))
        assert db.session.get(Order, early_id).state == "partially_shipped"


def test_goods_move_only_for_agreed_open_orders(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=ALL)
    with tenant_context(tenant):
        customer = _customer()
        product = _product("BUL-8", on_hand="10")
        draft = orders.create_order(
            "sale",
            {"party_id": customer.id, "lines": [{"product_id": product.id, "quantity": "1"}]},
        )
        cancelled = _confirmed_order(customer.id, product.id, "2")
        workflow.apply(
            cancelled, "sales_order", "cancel", role="owner", comment="cliente ha disdetto"
        )
        db.session.commit()
        ids = {"draft": draft.id, "cancelled": cancelled.id}
        lines = {"draft": draft.lines[0].id, "cancelled": cancelled.lines[0].id}
        product_id = product.id
    for name, message in (
        ("draft", "can still be changed: goods move once it is confirmed."),
        ("cancelled", "is closed: no goods can move for it."),
    ):
        ship = f"/{tenant.slug}/inventory/ship/sales_order/{ids[name]}"
        assert client.get(ship).status_code == 409
        response = client.post(
            ship,
            data={
                "csrf_token": csrf_token(client, f"/{tenant.slug}/inventory/stock"),
                f"qty_{lines[name]}": "1",
            },
        )
        assert response.status_code == 409
        assert message in text_of(response)
    # a sales order is never received, nor a purchase order shipped
    assert (
        client.get(f"/{tenant.slug}/inventory/receive/sales_order/{ids['draft']}").status_code
        == 404
    )
    with tenant_context(tenant):
        assert db.session.execute(select(func.count(Shipment.id))).scalar_one() == 0
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("10"), Decimal("0"))


def test_low_stock_list_shows_products_at_or_below_their_reorder_point(tenant_client):
    client, tenant, _user = tenant_client("viewer", modules=ALL)
    with tenant_context(tenant):
        _product("LOW-1", on_hand="3", reorder_point="5")
        _product("OK-1", on_hand="30", reorder_point="5")
        _product("NONE-1", reorder_point="1")
        db.session.commit()
    page = text_of(client.get(f"/{tenant.slug}/inventory/stock?low=1"))
    assert "LOW-1" in page
    assert "NONE-1" in page
    assert "OK-1" not in page
    assert "OK-1" in text_of(client.get(f"/{tenant.slug}/inventory/stock"))


# --- absurd input: a message, never a database error ----------------------------------------------


def test_ship_receive_and_adjust_pages_answer_absurd_input_with_messages(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=ALL)
    with tenant_context(tenant):
        customer = _customer()
        supplier = catalog.create_party(
            {"legal_name": "Fornitore S.r.l.", "is_supplier": True, "tax_code": "RSSMRA80A01H501U"}
        )
        product = _product("BUL-8", on_hand="10")
        sale = _confirmed_order(customer.id, product.id, "5")
        purchase = orders.create_order(
            "purchase",
            {"party_id": supplier.id, "lines": [{"product_id": product.id, "quantity": "5"}]},
        )
        workflow.apply(purchase, "purchase_order", "send", role="owner")
        db.session.commit()
        sale_id, sale_line = sale.id, sale.lines[0].id
        purchase_id, purchase_line = purchase.id, purchase.lines[0].id
        location, product_id = inventory.default_location().id, product.id
    ship = f"/{tenant.slug}/inventory/ship/sales_order/{sale_id}"
    ok = {"csrf_token": csrf_token(client, ship), f"qty_{sale_line}": "1"}
    for change in (
        {f"qty_{sale_line}": "NaN"},
        {f"qty_{sale_line}": "Infinity"},
        {f"qty_{sale_line}": "1e30"},
        {f"qty_{sale_line}": "6"},  # more than ordered
        {"reason": "R" * 61},
        {"appearance": "A" * 61},
        {"destination": "D" * 301},
        {"carrier": "a carrier nobody offers"},
        {"packages": "99999999999"},
        {"packages": "-1"},
        {"weight_kg": "1e9"},
        {"weight_kg": "-3"},
        {"weight_kg": "pesante"},
        {"shipment_date": "31/02/2024"},
    ):
        response = client.post(ship, data={**ok, **change})
        assert response.status_code == 400, (change, response.status_code)
        assert 'class="invalid-feedback' in text_of(response) or "alert-danger" in text_of(
            response
        ), change
    receive = f"/{tenant.slug}/inventory/receive/purchase_order/{purchase_id}"
    ok = {"csrf_token": csrf_token(client, receive), f"qty_{purchase_line}": "1"}
    for change in (
        {f"qty_{purchase_line}": "NaN"},
        {f"qty_{purchase_line}": "1e30"},
        {"supplier_document": "S" * 61},
    ):
        response = client.post(receive, data={**ok, **change})
        assert response.status_code == 400, (change, response.status_code)
    adjust = f"/{tenant.slug}/inventory/adjust"
    ok = {
        "csrf_token": csrf_token(client, adjust),
        "product_code": "BUL-8",
        "location_id": str(location),
        "quantity": "7",
    }
    for change in (
        {"quantity": "1e12"},
        {"quantity": "sNaN"},
        {"note": "N" * 301},
        {"product_code": "NOPE"},
        {"location_id": "999999"},
    ):
        response = client.post(adjust, data={**ok, **change})
        assert response.status_code == 400, (change, response.status_code)
    with tenant_context(tenant):
        assert db.session.execute(select(Shipment)).first() is None
        assert inventory.stock_of(product_id).on_hand == Decimal("10")
        assert [m.move_type for m in _moves()] == ["receipt"]
