"""A purchase order end to end through the pages: send, receive in parts, close."""

from __future__ import annotations

import html
from decimal import Decimal

from sqlalchemy import select

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.inventory.models import Receipt, StockMove
from distretto.modules.orders.models import Order
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token

ALL = ["catalog", "orders", "inventory"]


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _supplier_and_products(tenant) -> str:
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        supplier = catalog.create_party(
            {
                "legal_name": "Acciaierie Bresciane S.p.A.",
                "is_supplier": True,
                "vat_number": "03777120167",
            }
        )
        for code in ("LAM-2", "TUB-40"):
            catalog.create_product(
                {
                    "code": code,
                    "description": f"Materiale {code}",
                    "vat_rate_id": rate.id,
                    "purchase_cost": "9,99",
                }
            )
        db.session.commit()
        return supplier.code


def _order(tenant, order_id: int) -> Order:
    return db.session.get(Order, order_id)


def _receive(client, tenant, order_id: int, quantities: dict[int, str]):
    page = f"/{tenant.slug}/inventory/receive/purchase_order/{order_id}"
    data = {"csrf_token": csrf_token(client, page), "supplier_document": "DDT 77/A"}
    data.update({f"qty_{line_id}": qty for line_id, qty in quantities.items()})
    return client.post(page, data=data)


def test_full_purchase_cycle_with_partial_receipts_and_weighted_average_cost(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=ALL)
    supplier = _supplier_and_products(tenant)
    base = f"/{tenant.slug}/orders/purchases"
    token = csrf_token(client, base + "/new")
    response = client.post(
        base + "/new",
        data={
            "csrf_token": token,
            "party_code": supplier,
            "lines-0-product_code": "LAM-2",
            "lines-0-quantity": "4",
            "lines-0-unit_price": "1,20",
            "lines-1-product_code": "LAM-2",
            "lines-1-description": "Lamiera 2 mm, nuovo listino",
            "lines-1-quantity": "3",
            "lines-1-unit_price": "1,56",
            "lines-2-product_code": "TUB-40",
            "lines-2-quantity": "5",
            "lines-2-unit_price": "3",
            "lines-2-discount_percent": "10",
        },
    )
    assert response.status_code == 302, text_of(response)[-3000:]
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with tenant_context(tenant):
        order = _order(tenant, order_id)
        assert order.number.startswith("OA-")
        # 4.80 + 4.68 + 13.50 = 22.98; VAT 22% = 5.0556 -> 5.06
        assert (order.taxable_total, order.vat_total, order.total) == (
            Decimal("22.98"),
            Decimal("5.06"),
            Decimal("28.04"),
        )
        first, second, tube = (line.id for line in order.lines)

    # the receive page refuses while the order can still change
    path = f"/{tenant.slug}/orders/purchases/{order_id}"
    refused = _receive(client, tenant, order_id, {first: "4"})
    assert refused.status_code == 409
    with tenant_context(tenant):
        assert db.session.execute(select(Receipt)).first() is None

    response = client.post(
        f"{path}/transitions/send", data={"csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert _order(tenant, order_id).state == "sent"
    receive_page = f"/{tenant.slug}/inventory/receive/purchase_order/{order_id}"
    assert f'id="goods-link" href="{receive_page}"' in text_of(client.get(path))

    # more than expected: refused with the line's message, nothing received
    too_many = _receive(client, tenant, order_id, {first: "5"})
    assert too_many.status_code == 400
    assert "More than the 4 still expected" in text_of(too_many)

    # first receipt: all of the first line at 1.20, 2 tubes at 2.70 net
    response = _receive(client, tenant, order_id, {first: "4", second: "0", tube: "2"})
    assert response.status_code == 302, text_of(response)[-3000:]
    with tenant_context(tenant):
        order = _order(tenant, order_id)
        assert order.state == "partially_received"
        assert [line.quantity_delivered for line in order.lines] == [
            Decimal("4"),
            Decimal("0"),
            Decimal("2"),
        ]
        lam = catalog.product_query("LAM-2").with_only_columns(catalog.Product.id)
        lam_id = db.session.execute(lam).scalar_one()
        tube_id = db.session.execute(
            catalog.product_query("TUB-40").with_only_columns(catalog.Product.id)
        ).scalar_one()
        stock = inventory.stock_of(lam_id)
        assert (stock.on_hand, stock.average_cost) == (Decimal("4"), Decimal("1.2"))
        assert inventory.stock_of(tube_id).average_cost == Decimal("2.7")

    # second receipt: the rest; LAM-2 gets 3 more at 1.56
    page = client.get(f"/{tenant.slug}/inventory/receive/purchase_order/{order_id}")
    assert f'name="qty_{first}"' not in text_of(page)  # nothing left on the first line
    response = _receive(client, tenant, order_id, {second: "3", tube: "3"})
    assert response.status_code == 302, text_of(response)[-3000:]
    with tenant_context(tenant):
        order = _order(tenant, order_id)
        assert order.state == "received"
        stock = inventory.stock_of(lam_id)
        # (4 x 1.20 + 3 x 1.56) / 7 = 9.48 / 7 = 1.3542857... -> 1.354286
        assert stock.on_hand == Decimal("7")
        assert stock.average_cost == Decimal("1.354286")
        tube = inventory.stock_of(tube_id)
        assert (tube.on_hand, tube.average_cost) == (Decimal("5"), Decimal("2.7"))
        receipts = db.session.execute(select(Receipt).order_by(Receipt.id)).scalars().all()
        assert len(receipts) == 2
        assert {r.supplier_document for r in receipts} == {"DDT 77/A"}
        assert receipts[1].source_number == order.number
        costs = sorted(
            (m.quantity, m.unit_cost)
            for m in db.session.execute(
                select(StockMove).where(StockMove.product_id == lam_id)
            ).scalars()
        )
        assert costs == [(Decimal("3"), Decimal("1.56")), (Decimal("4"), Decimal("1.2"))]
        assert inventory.ledger_check() == []

    assert "Nothing is left to receive" in text_of(
        client.get(f"/{tenant.slug}/inventory/receive/purchase_order/{order_id}")
    )
    listing = client.get(f"/{tenant.slug}/inventory/receipts")
    assert listing.status_code == 200
    assert "Acciaierie Bresciane" in text_of(listing)

    response = client.post(
        f"{path}/transitions/close", data={"csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert _order(tenant, order_id).state == "done"
    pdf = client.get(f"{path}.pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"


def test_receiving_everything_with_the_workflow_button(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=ALL)
    supplier = _supplier_and_products(tenant)
    with tenant_context(tenant):
        from distretto.modules.orders import services as orders

        party_id = db.session.execute(
            catalog.party_query(supplier).with_only_columns(catalog.Party.id)
        ).scalar_one()
        product_id = db.session.execute(
            catalog.product_query("LAM-2").with_only_columns(catalog.Product.id)
        ).scalar_one()
        order = orders.create_order(
            "purchase",
            {"party_id": party_id, "lines": [{"product_id": product_id, "quantity": "8"}]},
        )
        db.session.commit()
        order_id = order.id
    path = f"/{tenant.slug}/orders/purchases/{order_id}"
    for step in ("send", "receive"):
        response = client.post(
            f"{path}/transitions/{step}", data={"csrf_token": csrf_token(client, path)}
        )
        assert response.status_code == 302
    with tenant_context(tenant):
        assert _order(tenant, order_id).state == "received"
        stock = inventory.stock_of(product_id)
        # no price on the line: the product's purchase cost
        assert (stock.on_hand, stock.average_cost) == (Decimal("8"), Decimal("9.99"))
