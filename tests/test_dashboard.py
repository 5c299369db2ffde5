"""The firm's dashboard: today's work counts, cards per enabled module, charts, query bound."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import force_locale

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.invoicing import services as invoicing
from distretto.modules.orders import services as orders
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.formatting import money
from tests.modules.test_invoicing_xml import FISCAL
from tests.modules.test_query_bounds import _data_statements, _vat, counting_statements

ALL = ["catalog", "orders", "inventory", "invoicing"]
BOUND = 30


def _firm(tenant_client, modules=ALL, **fields):
    client, tenant, user = tenant_client("owner", modules=modules, **fields)
    if "invoicing" in modules:
        with tenant_context(tenant):
            invoicing.update_fiscal_settings(dict(FISCAL))
            db.session.commit()
    return client, tenant


ADDRESS = {
    "street": "Via Verdi 2",
    "postcode": "24100",
    "city": "Bergamo",
    "province": "BG",
    "sdi_code": "ABC1234",
}


def _customer(name="Officine Rossi S.p.A.", n=1):
    return catalog.create_party(
        {"legal_name": name, "is_customer": True, "vat_number": _vat(n), **ADDRESS}
    )


def _product(code="VITE-8", price="10", reorder="0"):
    return catalog.create_product(
        {
            "code": code,
            "description": f"Articolo {code}",
            "vat_rate_id": catalog.vat_rate_by_code("22").id,
            "sale_price": price,
            "reorder_point": reorder,
        }
    )


def _order(customer, product, quantity="2"):
    return orders.create_order(
        "sale",
        {"party_id": customer.id, "lines": [{"product_id": product.id, "quantity": quantity}]},
    )


def card(html: str, name: str) -> str | None:
    """The HTML of the card ``name`` (e.g. "orders-to_confirm"), or None if absent."""
    match = re.search(
        rf'<article class="card[^"]*" id="widget-{re.escape(name)}".*?</article>', html, re.S
    )
    return match.group(0) if match else None


def count_of(html: str, name: str) -> int:
    found = card(html, name)
    assert found is not None, f"no card {name}"
    return int(re.search(r'data-count="(\d+)"', found).group(1))


def test_todays_work_counts_follow_orders_through_confirmation_shipping_and_invoicing(
    tenant_client,
):
    client, tenant = _firm(tenant_client)
    with tenant_context(tenant):
        customer = _customer()
        product = _product()
        inventory.receive(lines=[(product.id, Decimal("100"), Decimal("4"), None)])
        draft_order = _order(customer, product)
        confirmed = _order(customer, product)
        shipped = _order(customer, product)
        workflow.apply(confirmed, "sales_order", "confirm", role="owner")
        workflow.apply(shipped, "sales_order", "confirm", role="owner")
        workflow.apply(shipped, "sales_order", "ship", role="owner")
        db.session.commit()
        numbers = (draft_order.number, confirmed.number, shipped.number)
        shipped_id = shipped.id

    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert count_of(html, "orders-to_confirm") == 1
    assert numbers[0] in card(html, "orders-to_confirm")
    assert count_of(html, "orders-to_ship") == 1
    assert numbers[1] in card(html, "orders-to_ship")
    assert count_of(html, "invoicing-to_invoice") == 1
    assert numbers[2] in card(html, "invoicing-to_invoice")
    assert count_of(html, "invoicing-drafts") == 0
    assert f'href="/{tenant.slug}/orders/sales?state=draft"' in card(html, "orders-to_confirm")

    with tenant_context(tenant):
        invoicing.invoice_from_orders([shipped_id])
        db.session.commit()
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert count_of(html, "invoicing-to_invoice") == 0
    assert count_of(html, "invoicing-drafts") == 1
    assert "Officine Rossi S.p.A." in card(html, "invoicing-drafts")


def test_overdue_payments_and_low_stock_are_counted(tenant_client):
    client, tenant = _firm(tenant_client)
    with tenant_context(tenant):
        customer = _customer()
        low = _product("LOW-1", reorder="5")
        _product("FULL-1", reorder="5")
        inventory.receive(lines=[(low.id, Decimal("3"), Decimal("2"), None)])
        rate = catalog.vat_rate_by_code("22").id
        old = invoicing.create_invoice(
            {
                "party_id": customer.id,
                "issue_date": date.today() - timedelta(days=40),
                "lines": [
                    {
                        "description": "Lavoro",
                        "quantity": "1",
                        "unit_price": "100",
                        "vat_rate_id": rate,
                    }
                ],
            }
        )
        workflow.apply(old, "invoice", "issue", role="owner")
        db.session.commit()
        number = old.number

    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert count_of(html, "invoicing-overdue") == 1
    assert number in card(html, "invoicing-overdue")
    # FULL-1 has no stock at all: below its reorder point too
    assert count_of(html, "inventory-low_stock") == 2
    assert "LOW-1" in card(html, "inventory-low_stock")


def test_a_firm_without_inventory_or_invoicing_has_no_stock_or_invoice_cards(tenant_client):
    client, tenant = _firm(tenant_client, modules=["catalog", "orders"])
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert card(html, "orders-to_confirm") is not None
    assert 'id="widget-inventory-' not in html
    assert 'id="widget-invoicing-' not in html


def test_a_viewer_without_invoicing_rights_sees_no_invoice_cards(tenant_client, make_user, login):
    _client, tenant = _firm(tenant_client, modules=["catalog", "orders"])
    html = login(make_user(tenant, "viewer")).get(f"/{tenant.slug}/").get_data(as_text=True)
    assert card(html, "orders-to_confirm") is not None  # viewers may see orders


def test_revenue_chart_holds_each_months_total_and_top_customers(tenant_client):
    client, tenant = _firm(tenant_client)
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with tenant_context(tenant):
        rossi = _customer("Officine Rossi S.p.A.", 1)
        bianchi = _customer("Bianchi & Figli S.n.c.", 2)
        rate = catalog.vat_rate_by_code("22").id

        def issue(party, on, price):
            invoice = invoicing.create_invoice(
                {
                    "party_id": party.id,
                    "issue_date": on,
                    "lines": [
                        {
                            "description": "Lavoro",
                            "quantity": "1",
                            "unit_price": price,
                            "vat_rate_id": rate,
                        }
                    ],
                }
            )
            workflow.apply(invoice, "invoice", "issue", role="owner")

        issue(rossi, last_month, "1000")
        issue(bianchi, last_month, "234.5")
        issue(rossi, today, "300")
        invoicing.create_invoice(  # a draft counts for nothing
            {
                "party_id": bianchi.id,
                "lines": [
                    {"description": "X", "quantity": "1", "unit_price": "9999", "vat_rate_id": rate}
                ],
            }
        )
        db.session.commit()

    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    revenue = card(html, "invoicing-revenue")
    assert 'role="img"' in revenue
    assert "<title id=" in revenue
    assert "<desc id=" in revenue
    with force_locale("en"):
        assert money(Decimal("1234.50")) in revenue  # last month: 1,000.00 + 234.50
        assert money(Decimal("300")) in revenue
        assert money(Decimal("1534.50")) in revenue  # the description's total
        assert money(Decimal("9999")) not in revenue
    assert revenue.count('<tr><th scope="row"') == 12  # the table: one row per month
    top = card(html, "invoicing-top_customers")
    assert top.index("Officine Rossi S.p.A.") < top.index("Bianchi &amp; Figli S.n.c.")


def test_stock_value_chart_lists_products_by_value(tenant_client):
    client, tenant = _firm(tenant_client, modules=["catalog", "inventory"])
    with tenant_context(tenant):
        cheap, dear = _product("CHEAP"), _product("DEAR")
        inventory.receive(
            lines=[
                (cheap.id, Decimal("10"), Decimal("1"), None),
                (dear.id, Decimal("10"), Decimal("50"), None),
            ]
        )
        db.session.commit()
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    chart = card(html, "inventory-stock_value")
    assert chart.index("DEAR") < chart.index("CHEAP")
    with force_locale("en"):
        assert money(Decimal("510")) in chart  # the total in the description


def test_a_chart_escapes_what_a_firm_wrote():
    from distretto.platform.charts import Chart, ChartPoint, render_svg

    svg = str(render_svg(Chart("<b>T</b>", [ChartPoint('<script>"x"</script>', Decimal(5))])))
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;" in svg


def _busy_firm(tenant_client, size: int):
    client, tenant = _firm(tenant_client)
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22").id
        products = [_product(f"P-{n:03d}", reorder="5") for n in range(size)]
        inventory.receive(lines=[(p.id, Decimal("3"), Decimal("2"), None) for p in products])
        for n in range(size):
            customer = _customer(f"Cliente {n}", n + 1)
            for step in range(3):
                order = _order(customer, products[n], "1")
                if step:
                    workflow.apply(order, "sales_order", "confirm", role="owner")
                if step == 2:
                    workflow.apply(order, "sales_order", "ship", role="owner")
            invoice = invoicing.create_invoice(
                {
                    "party_id": customer.id,
                    "issue_date": date.today() - timedelta(days=40),
                    "lines": [
                        {
                            "description": "L",
                            "quantity": "1",
                            "unit_price": "10",
                            "vat_rate_id": rate,
                        }
                    ],
                }
            )
            workflow.apply(invoice, "invoice", "issue", role="owner")
            invoicing.create_invoice(
                {
                    "party_id": customer.id,
                    "lines": [
                        {
                            "description": "D",
                            "quantity": "1",
                            "unit_price": "5",
                            "vat_rate_id": rate,
                        }
                    ],
                }
            )
        db.session.commit()
    return client, tenant


def _home_statements(client, tenant) -> list[str]:
    assert client.get(f"/{tenant.slug}/").status_code == 200  # caches filled
    with counting_statements() as statements:
        response = client.get(f"/{tenant.slug}/")
    assert response.status_code == 200
    return statements


def test_the_dashboard_runs_the_same_few_statements_for_3_or_12_of_everything(tenant_client):
    small = _home_statements(*_busy_firm(tenant_client, 3))
    client, tenant = _busy_firm(tenant_client, 12)
    many = _home_statements(client, tenant)
    assert len(small) == len(many), "\n".join(many)
    assert len(_data_statements(many)) <= BOUND, "\n".join(many)
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert count_of(html, "orders-to_confirm") == 12
    assert count_of(html, "orders-to_ship") == 12
    assert count_of(html, "invoicing-overdue") == 12
    assert count_of(html, "invoicing-drafts") == 12
    assert count_of(html, "inventory-low_stock") == 12


def test_the_reports_page_draws_the_years_revenue_with_the_same_chart(tenant_client):
    client, tenant = _firm(tenant_client, modules=["catalog", "invoicing"])
    today = date.today()
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22").id
        invoice = invoicing.create_invoice(
            {
                "party_id": _customer().id,
                "issue_date": today,
                "lines": [
                    {"description": "L", "quantity": "1", "unit_price": "777", "vat_rate_id": rate}
                ],
            }
        )
        workflow.apply(invoice, "invoice", "issue", role="owner")
        db.session.commit()
    html = client.get(f"/{tenant.slug}/invoicing/reports?year={today.year}").get_data(as_text=True)
    assert 'id="revenue-chart"' in html
    assert "<desc id=" in html
    with force_locale("en"):
        assert html.count(money(Decimal("777"))) >= 2  # the bar's tooltip and the table
    assert html.count('<tr><th scope="row"') == 12


def _with_approval_above(limit: str) -> dict:
    """The default sales-order workflow with an approval step for orders above ``limit``."""
    import copy

    from distretto.modules.orders.workflows import SALES_ORDER_WORKFLOW

    data = copy.deepcopy(SALES_ORDER_WORKFLOW)
    data["states"].insert(
        1, {"name": "to_approve", "label": {"it": "Da approvare", "en": "To approve"}}
    )
    confirm = next(t for t in data["transitions"] if t["name"] == "confirm")
    confirm["conditions"] = {"field": "total", "op": "<=", "value": limit}
    data["transitions"] += [
        {
            "name": "submit",
            "label": {"it": "Chiedi approvazione", "en": "Ask for approval"},
            "from": ["draft"],
            "to": "to_approve",
            "conditions": {"field": "total", "op": ">", "value": limit},
        },
        {
            "name": "approve",
            "label": {"it": "Approva", "en": "Approve"},
            "from": ["to_approve"],
            "to": "confirmed",
            "permission": "orders.cancel",
            "actions": [{"name": "inventory.reserve_stock"}],
        },
    ]
    cancel = next(t for t in data["transitions"] if t["name"] == "cancel")
    cancel["from"] = [*cancel["from"], "to_approve"]
    return data


def test_orders_waiting_at_a_firms_own_approval_step_are_among_those_to_confirm(tenant_client):
    client, tenant = _firm(tenant_client, modules=["catalog", "orders", "inventory"])
    with tenant_context(tenant):
        workflow.publish("sales_order", _with_approval_above("1000"))
        customer = _customer()
        product = _product(price="600")
        inventory.receive(lines=[(product.id, Decimal("10"), Decimal("4"), None)])
        big = _order(customer, product, "2")
        workflow.apply(big, "sales_order", "submit", role="owner")
        _order(customer, product, "1")  # a draft
        db.session.commit()
        number = big.number
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert count_of(html, "orders-to_confirm") == 2
    assert number in card(html, "orders-to_confirm")
    assert count_of(html, "orders-to_ship") == 0
