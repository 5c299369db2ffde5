"""Sales orders end to end through the pages, totals and rounding, and refused input."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party, Product
from distretto.modules.inventory import services as inventory
from distretto.modules.inventory.models import Reservation, Shipment, StockMove
from distretto.modules.orders.models import Order
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token

ALL = ["catalog", "orders", "inventory"]


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rate_id(tenant, code: str) -> int:
    with tenant_context(tenant):
        return catalog.vat_rate_by_code(code).id


def create_customer_via_form(client, tenant, name: str, vat: str) -> str:
    base = f"/{tenant.slug}/catalog"
    token = csrf_token(client, base + "/parties/new?kind=customer")
    response = client.post(
        base + "/parties/new?kind=customer",
        data={
            "csrf_token": token,
            "legal_name": name,
            "is_customer": "y",
            "vat_number": vat,
            "street": "Via Roma 1",
            "postcode": "24100",
            "city": "Bergamo",
            "province": "bg",
            "sdi_code": "abc1234",
            "payment_terms_id": "",
            "vat_rate_id": "",
        },
    )
    assert response.status_code == 302, text_of(response)[-2000:]
    with tenant_context(tenant):
        party = db.session.execute(select(Party).where(Party.legal_name == name)).scalar_one()
        assert party.province == "BG"
        assert party.sdi_code == "ABC1234"
        return party.code


def create_product_via_form(client, tenant, code: str, price: str, vat: str = "22") -> int:
    base = f"/{tenant.slug}/catalog"
    token = csrf_token(client, base + "/products/new")
    response = client.post(
        base + "/products/new",
        data={
            "csrf_token": token,
            "code": code,
            "description": f"Articolo {code}",
            "unit": "pz",
            "sale_price": price,
            "purchase_cost": "0",
            "vat_rate_id": str(rate_id(tenant, vat)),
            "stocked": "y",
            "reorder_point": "0",
        },
    )
    assert response.status_code == 302, text_of(response)[-2000:]
    with tenant_context(tenant):
        return db.session.execute(select(Product.id).where(Product.code == code)).scalar_one()


def order_form(token: str, party_code: str, lines: list[dict[str, str]], **extra: str) -> dict:
    data = {"csrf_token": token, "party_code": party_code, **extra}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def create_sales_order_via_form(client, tenant, party_code: str, lines: list[dict]) -> int:
    base = f"/{tenant.slug}/orders"
    token = csrf_token(client, base + "/sales/new")
    response = client.post(base + "/sales/new", data=order_form(token, party_code, lines))
    assert response.status_code == 302, text_of(response)[-3000:]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def transition(client, tenant, order_id: int, name: str, comment: str = "", segment="sales"):
    path = f"/{tenant.slug}/orders/{segment}/{order_id}"
    token = csrf_token(client, path)
    return client.post(f"{path}/transitions/{name}", data={"csrf_token": token, "comment": comment})


def state_of(tenant, order_id: int) -> str:
    with tenant_context(tenant):
        return db.session.get(Order, order_id).state


def line_ids(tenant, order_id: int) -> list[int]:
    with tenant_context(tenant):
        return [line.id for line in db.session.get(Order, order_id).lines]


# --- the full sales cycle through the pages -----------------------------------------------


def test_full_sales_cycle_through_the_pages(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=ALL)
    customer = create_customer_via_form(client, tenant, "Rossi Meccanica S.r.l.", "03777120167")
    product_id = create_product_via_form(client, tenant, "BUL-M8", "1,25")

    # 20 units into the warehouse through the adjustment page
    with tenant_context(tenant):
        location_id = inventory.default_location().id
    adjust = f"/{tenant.slug}/inventory/adjust"
    response = client.post(
        adjust,
        data={
            "csrf_token": csrf_token(client, adjust),
            "product_code": "BUL-M8",
            "location_id": str(location_id),
            "quantity": "20",
            "note": "apertura",
        },
    )
    assert response.status_code == 302, text_of(response)[-2000:]

    order_id = create_sales_order_via_form(
        client, tenant, customer, [{"product_code": "BUL-M8", "quantity": "12"}]
    )
    detail = client.get(f"/{tenant.slug}/orders/sales/{order_id}")
    assert detail.status_code == 200
    assert "18,30" in text_of(detail) or "18.30" in text_of(detail)  # 12 x 1.25 + 22%
    assert 'id="goods-link"' not in text_of(detail)  # a draft ships nothing

    assert transition(client, tenant, order_id, "confirm").status_code == 302
    assert state_of(tenant, order_id) == "confirmed"
    with tenant_context(tenant):
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("20"), Decimal("12"))

    # part of it through the inventory ship page
    (line_id,) = line_ids(tenant, order_id)
    ship = f"/{tenant.slug}/inventory/ship/sales_order/{order_id}"
    detail = text_of(client.get(f"/{tenant.slug}/orders/sales/{order_id}"))
    assert f'id="goods-link" href="{ship}"' in detail
    page = client.get(ship)
    assert page.status_code == 200
    assert f'name="qty_{line_id}"' in text_of(page)
    response = client.post(
        ship,
        data={
            "csrf_token": csrf_token(client, ship),
            f"qty_{line_id}": "5",
            "reason": "Vendita",
            "carrier": "vettore",
            "packages": "2",
            "weight_kg": "12,5",
            "appearance": "scatole",
        },
    )
    assert response.status_code == 302, text_of(response)[-2000:]
    first_ddt = response.headers["Location"]
    assert state_of(tenant, order_id) == "partially_shipped"
    with tenant_context(tenant):
        shipment = db.session.execute(select(Shipment)).scalar_one()
        year = shipment.shipment_date.year
        assert shipment.number == f"DDT-{year}-00001"
        assert shipment.state == "shipped"
        assert shipment.weight_kg == Decimal("12.50")
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("15"), Decimal("7"))
        reservation = db.session.execute(select(Reservation)).scalar_one()
        assert reservation.quantity == Decimal("7")
        assert db.session.get(Order, order_id).lines[0].quantity_delivered == Decimal("5")
    ddt_page = client.get(first_ddt)
    assert ddt_page.status_code == 200
    assert f"DDT-{year}-00001" in text_of(ddt_page)

    # the rest: the page offers only what is still to ship
    page = client.get(ship)
    assert 'value="7"' in text_of(page)
    response = client.post(
        ship, data={"csrf_token": csrf_token(client, ship), f"qty_{line_id}": "7"}
    )
    assert response.status_code == 302, text_of(response)[-2000:]
    assert state_of(tenant, order_id) == "shipped"
    with tenant_context(tenant):
        numbers = sorted(db.session.execute(select(Shipment.number)).scalars())
        assert numbers == [f"DDT-{year}-00001", f"DDT-{year}-00002"]
        stock = inventory.stock_of(product_id)
        assert (stock.on_hand, stock.reserved) == (Decimal("8"), Decimal("0"))
        assert db.session.execute(select(Reservation.quantity)).scalar_one() == Decimal("0")
        shipped = db.session.execute(
            select(func.sum(StockMove.quantity)).where(StockMove.move_type == "shipment")
        ).scalar_one()
        assert shipped == Decimal("12")
        assert inventory.ledger_check() == []
    assert "Nothing is left to ship" in text_of(client.get(ship))
    assert 'id="goods-link"' not in text_of(client.get(f"/{tenant.slug}/orders/sales/{order_id}"))

    assert transition(client, tenant, order_id, "close").status_code == 302
    assert state_of(tenant, order_id) == "done"

    pdf = client.get(first_ddt + ".pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
    assert pdf.mimetype == "application/pdf"
    pdf = client.get(f"/{tenant.slug}/orders/sales/{order_id}.pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
    history = text_of(client.get(f"/{tenant.slug}/orders/sales/{order_id}"))
    assert re.search(r'id="order-state">Done<', history)


# --- totals and rounding ----------------------------------------------------------------------


def test_totals_round_each_line_half_up_and_vat_once_per_rate(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog", "orders"])
    with tenant_context(tenant):
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        db.session.commit()
        code = customer.code

    def free(description: str, quantity: str, price: str, vat: str, discount: str = "") -> dict:
        return {
            "description": description,
            "quantity": quantity,
            "unit_price": price,
            "vat_code": vat,
            "discount_percent": discount,
        }

    order_id = create_sales_order_via_form(
        client,
        tenant,
        code,
        [
            free("Rondelle", "3", "0,333", "22"),  # 0.999 -> 1.00
            free("Viti", "7", "1,15", "22", "12,5"),  # 8.05 less 12.5% = 7.04375 -> 7.04
            free("Tappo", "1", "0,35", "22"),  # 0.35 (VAT alone 0.077 -> 0.08)
            free("Tappo", "1", "0,35", "22"),  # 0.35
            free("Pane", "1", "2,345", "10"),  # 2.345 -> 2.35 (half up, not half even)
            free("Pasta", "3", "3,335", "10"),  # 10.005 -> 10.01
            free("Libro", "1", "19,99", "4"),  # 19.99
            free("Servizio fuori campo", "1", "50", "N2.2"),  # 50.00, no VAT
        ],
    )
    with tenant_context(tenant):
        order = db.session.get(Order, order_id)
        assert [line.amount for line in order.lines] == [
            Decimal(x) for x in ("1.00", "7.04", "0.35", "0.35", "2.35", "10.01", "19.99", "50.00")
        ]
        assert order.lines[-1].natura == "N2.2"
        assert order.lines[-1].vat_rate == Decimal("0")
        # 22%: 8.74 -> 1.9228 -> 1.92 (per-line VAT would sum to 1.93)
        # 10%: 12.36 -> 1.236 -> 1.24;  4%: 19.99 -> 0.7996 -> 0.80;  N2.2: 50.00 -> 0
        assert order.taxable_total == Decimal("91.09")
        assert order.vat_total == Decimal("3.96")
        assert order.total == Decimal("95.05")
        from distretto.modules.catalog.pricing import TaxedAmount, totals

        summary = totals(TaxedAmount(x.amount, x.vat_rate, x.natura) for x in order.lines).summary
        assert [(row.rate, row.natura, row.taxable, row.vat) for row in summary] == [
            (Decimal("22.00"), None, Decimal("8.74"), Decimal("1.92")),
            (Decimal("10.00"), None, Decimal("12.36"), Decimal("1.24")),
            (Decimal("4.00"), None, Decimal("19.99"), Decimal("0.80")),
            (Decimal("0.00"), "N2.2", Decimal("50.00"), Decimal("0.00")),
        ]
    page = text_of(client.get(f"/{tenant.slug}/orders/sales/{order_id}"))
    assert re.search(r'id="order-total">[^<]*95\.05', page)
    pdf = client.get(f"/{tenant.slug}/orders/sales/{order_id}.pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"


# --- a firm without inventory ----------------------------------------------------------------


def test_firm_without_inventory_confirms_and_ships_orders(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "orders"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        supplier = catalog.create_party(
            {"legal_name": "Fornitore S.r.l.", "is_supplier": True, "tax_code": "RSSMRA80A01H501U"}
        )
        catalog.create_product(
            {"code": "BUL-8", "description": "Bullone", "vat_rate_id": rate.id, "sale_price": "2"}
        )
        db.session.commit()
        customer_code, supplier_code = customer.code, supplier.code

    order_id = create_sales_order_via_form(
        client, tenant, customer_code, [{"product_code": "BUL-8", "quantity": "100"}]
    )
    detail = client.get(f"/{tenant.slug}/orders/sales/{order_id}")
    assert detail.status_code == 200
    assert "/inventory/" not in text_of(detail)
    for step, state in (("confirm", "confirmed"), ("ship", "shipped"), ("close", "done")):
        response = transition(client, tenant, order_id, step)
        assert response.status_code == 302, (step, text_of(client.get(detail.request.path)))
        assert state_of(tenant, order_id) == state
    assert client.get(f"/{tenant.slug}/orders/sales/{order_id}").status_code == 200

    base = f"/{tenant.slug}/orders/purchases"
    token = csrf_token(client, base + "/new")
    response = client.post(
        base + "/new",
        data=order_form(
            token, supplier_code, [{"product_code": "BUL-8", "quantity": "10", "unit_price": "1"}]
        ),
    )
    assert response.status_code == 302
    purchase_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for step, state in (("send", "sent"), ("receive", "received"), ("close", "done")):
        assert transition(client, tenant, purchase_id, step, segment="purchases").status_code == 302
        assert state_of(tenant, purchase_id) == state

    for path in (
        "/inventory/stock",
        "/inventory/shipments",
        "/inventory/receipts",
        "/inventory/counts",
        f"/inventory/ship/sales_order/{order_id}",
        f"/inventory/receive/purchase_order/{purchase_id}",
    ):
        assert client.get(f"/{tenant.slug}{path}").status_code == 404, path
    with tenant_context(tenant):
        assert db.session.execute(select(Shipment)).first() is None
        assert db.session.execute(select(StockMove)).first() is None
        assert db.session.execute(select(Reservation)).first() is None


# --- bad input: answered with messages, nothing written ------------------------------------------


def _firm_with_parties(tenant_client, role="staff"):
    client, tenant, user = tenant_client(role, modules=ALL)
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        supplier = catalog.create_party(
            {
                "legal_name": "Solo Fornitore S.r.l.",
                "is_supplier": True,
                "tax_code": "RSSMRA80A01H501U",
            }
        )
        catalog.create_product(
            {"code": "BUL-8", "description": "Bullone", "vat_rate_id": rate.id, "sale_price": "2"}
        )
        catalog.create_product(
            {"code": "OLD-1", "description": "Fuori produzione", "vat_rate_id": rate.id}
        )
        db.session.commit()
        codes = customer.code, supplier.code
    return client, tenant, *codes


def _orders_count(tenant) -> int:
    with tenant_context(tenant):
        return db.session.execute(select(func.count(Order.id))).scalar_one()


def test_bad_orders_are_refused_with_messages_and_nothing_is_written(tenant_client):
    client, tenant, customer, supplier = _firm_with_parties(tenant_client)
    with tenant_context(tenant):
        old = db.session.execute(select(Product).where(Product.code == "OLD-1")).scalar_one()
        catalog.set_archived(old, True)
        db.session.commit()
    new = f"/{tenant.slug}/orders/sales/new"
    token = csrf_token(client, new)
    good_line = {"product_code": "BUL-8", "quantity": "1"}
    cases = [
        ({"party_code": customer}, "An order needs at least one line."),
        (
            {"party_code": "", "lines-0-product_code": "BUL-8", "lines-0-quantity": "1"},
            "Choose the counterpart.",
        ),
        (order_form(token, "NOBODY", [good_line]), "No customer or supplier with code or name"),
        (
            order_form(token, customer, [{"product_code": "BUL-8", "quantity": "0"}]),
            "The quantity must be more than zero.",
        ),
        (
            order_form(token, customer, [{"product_code": "BUL-8", "quantity": "-3"}]),
            "The quantity must be more than zero.",
        ),
        (
            order_form(token, customer, [{"product_code": "BUL-8", "quantity": "tre"}]),
            "Not a valid number.",
        ),
        (
            order_form(token, customer, [{"product_code": "NOPE", "quantity": "1"}]),
            "Unknown product NOPE.",
        ),
        (
            order_form(token, customer, [{**good_line, "discount_percent": "101"}]),
            "The discount is between 0 and 100%.",
        ),
        (
            order_form(token, customer, [{**good_line, "discount_percent": "-5"}]),
            "The discount is between 0 and 100%.",
        ),
        (
            order_form(token, customer, [{**good_line, "unit_price": "-1"}]),
            "The price cannot be negative.",
        ),
        (order_form(token, customer, [{**good_line, "vat_code": "99"}]), "Unknown VAT code 99."),
        (
            order_form(token, customer, [{"description": "Riga libera", "quantity": "1"}]),
            "A line without a product needs a price.",
        ),
        (order_form(token, supplier, [good_line]), "Solo Fornitore S.r.l. is not a customer."),
        (
            order_form(token, customer, [{"product_code": "OLD-1", "quantity": "1"}]),
            "OLD-1 is archived.",
        ),
        (
            order_form(token, customer, [{**good_line, "quantity": "1e20"}]),
            "The quantity is too large.",
        ),
        (order_form(token, customer, [{**good_line, "quantity": "1e30"}]), "Not a valid number."),
        (order_form(token, customer, [{**good_line, "quantity": "NaN"}]), "are not permitted"),
        (
            order_form(token, customer, [{**good_line, "unit_price": "99999999999"}]),
            "The price is too large.",
        ),
        (
            order_form(
                token, customer, [{**good_line, "quantity": "99999999", "unit_price": "9999999"}]
            ),
            "The line amount is too large.",
        ),
        (
            order_form(
                token,
                customer,
                [{**good_line, "quantity": "999999", "unit_price": "9999"} for _ in range(11)],
            ),
            "The order total is too large.",
        ),
        (
            order_form(
                token, customer, [good_line], expected_date="2020-01-01", order_date="2024-05-01"
            ),
            "The expected date is before the order date.",
        ),
    ]
    for data, message in cases:
        data = {"csrf_token": token, **data}
        response = client.post(new, data=data)
        assert response.status_code == 400, (data, response.status_code)
        assert message in text_of(response), (message, text_of(response)[-4000:])
    assert _orders_count(tenant) == 0


def test_archived_customer_cannot_be_used_in_a_new_order(tenant_client):
    client, tenant, customer, _supplier = _firm_with_parties(tenant_client)
    with tenant_context(tenant):
        party = db.session.execute(select(Party).where(Party.code == customer)).scalar_one()
        catalog.set_archived(party, True)
        db.session.commit()
    new = f"/{tenant.slug}/orders/sales/new"
    response = client.post(
        new,
        data=order_form(
            csrf_token(client, new), customer, [{"product_code": "BUL-8", "quantity": "1"}]
        ),
    )
    assert response.status_code == 400
    assert "Cliente S.r.l. is archived." in text_of(response)
    assert _orders_count(tenant) == 0


def _edit_data(token: str, customer: str, quantity: str, version: str, **extra) -> dict:
    return order_form(
        token,
        customer,
        [{"product_code": "BUL-8", "quantity": quantity}],
        version=version,
        **extra,
    )


def test_confirmed_order_lines_are_locked_and_stale_edits_refused(tenant_client):
    client, tenant, customer, _supplier = _firm_with_parties(tenant_client)
    with tenant_context(tenant):
        product_id = db.session.execute(
            select(Product.id).where(Product.code == "BUL-8")
        ).scalar_one()
        inventory.receive(lines=[(product_id, Decimal("50"), Decimal("1"), None)])
        db.session.commit()
    order_id = create_sales_order_via_form(
        client, tenant, customer, [{"product_code": "BUL-8", "quantity": "5"}]
    )
    edit = f"/{tenant.slug}/orders/sales/{order_id}/edit"
    page = text_of(client.get(edit))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = csrf_token(client, edit)

    # a draft can change; an edit made on an old copy is refused
    response = client.post(edit, data=_edit_data(token, customer, "6", version))
    assert response.status_code == 302
    stale = client.post(edit, data=_edit_data(token, customer, "7", version))
    assert stale.status_code == 400
    assert "Someone changed this order meanwhile" in text_of(stale)
    junk = client.post(edit, data=_edit_data(token, customer, "7", "abc"))
    assert junk.status_code == 400
    with tenant_context(tenant):
        order = db.session.get(Order, order_id)
        assert order.lines[0].quantity == Decimal("6")
        version = str(order.version)

    assert transition(client, tenant, order_id, "confirm").status_code == 302
    with tenant_context(tenant):
        version = str(db.session.get(Order, order_id).version)
    locked = client.post(edit, data=_edit_data(token, customer, "9", version))
    assert locked.status_code == 400
    assert "these cannot change: lines" in text_of(locked)
    # what the state leaves open still changes
    response = client.post(
        edit, data=_edit_data(token, customer, "6", version, customer_reference="PO-778")
    )
    assert response.status_code == 302, text_of(response)[-3000:]
    with tenant_context(tenant):
        order = db.session.get(Order, order_id)
        assert order.lines[0].quantity == Decimal("6")
        assert order.customer_reference == "PO-778"
        assert inventory.stock_of(product_id).reserved == Decimal("6")


def test_refused_and_unknown_steps_answer_with_a_message(tenant_client):
    client, tenant, customer, _supplier = _firm_with_parties(tenant_client)
    order_id = create_sales_order_via_form(
        client, tenant, customer, [{"product_code": "BUL-8", "quantity": "5"}]
    )
    # nothing in stock: confirming cannot reserve
    response = transition(client, tenant, order_id, "confirm")
    assert response.status_code == 303
    assert "Not enough BUL-8: 0 available, 5 needed." in text_of(
        client.get(response.headers["Location"])
    )
    assert state_of(tenant, order_id) == "draft"
    response = transition(client, tenant, order_id, "teleport")
    assert response.status_code == 303
    assert "Unknown step teleport." in text_of(client.get(response.headers["Location"]))
    response = transition(client, tenant, order_id, "cancel", comment="cliente ha disdetto")
    assert response.status_code == 303
    assert "Your role does not allow this step." in text_of(
        client.get(response.headers["Location"])
    )
    assert state_of(tenant, order_id) == "draft"
    assert client.get(f"/{tenant.slug}/orders/elsewhere/{order_id}/edit").status_code == 404
    assert client.get(f"/{tenant.slug}/orders/purchases/{order_id}").status_code == 404
