"""Declared lists: saved views, column choice with custom fields, CSV and XLSX exports.

Driven through the pages a clerk uses (orders, invoices, customers, products).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from distretto.modules.catalog import services as catalog
from distretto.modules.orders import services as orders
from distretto.platform import customfields, listviews
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token
from tests.modules.test_query_bounds import counting_statements

VAT = "03777120167"


def _firm(tenant_client, role: str = "staff"):
    """A firm with a ``season`` custom field on sales orders and 6 orders (3 per season)."""
    client, tenant, user = tenant_client(role, modules=["catalog", "orders"])
    with tenant_context(tenant):
        customfields.define(
            "sales_order",
            {"name": "season", "label": "Season", "type": "choice", "choices": ["PE26", "AI26"]},
        )
        customfields.define("sales_order", {"name": "pieces", "label": "Pieces", "type": "integer"})
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Tessitura Rossi", "is_customer": True, "vat_number": VAT}
        )
        for n in range(6):
            season = "PE26" if n % 2 else "AI26"
            orders.create_order(
                "sale",
                {
                    "party_id": customer.id,
                    "order_date": date(2026, 3, n + 1).isoformat(),
                    "custom": {"season": season, "pieces": 10 * (n + 1)},
                    "lines": [
                        {
                            "description": f"Tessuto {n}",
                            "quantity": "1",
                            "unit_price": f"{100 + n}",
                            "vat_rate_id": rate.id,
                        }
                    ],
                },
            )
        db.session.commit()
    return client, tenant, user


def _numbers(html: str) -> list[str]:
    """The order numbers in the list's table, in order."""
    table = html.split('id="list-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td data-col="number"><a href="[^"]+">([^<]+)</a>', table)


def _headers(html: str) -> list[str]:
    head = html.split('id="list-table"', 1)[1].split("</thead>", 1)[0]
    return [
        re.sub(r"<[^>]+>|[▲▼]", "", h).strip()
        for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]


def _post(client, path: str, data: dict, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_a_saved_filter_reproduces_the_list(tenant_client):
    client, tenant, _user = _firm(tenant_client)
    page = f"/{tenant.slug}/orders/sales"
    filtered = client.get(f"{page}?cf_season=AI26&sort=number")
    assert filtered.status_code == 200
    wanted = _numbers(filtered.get_data(as_text=True))
    assert len(wanted) == 3

    response = _post(
        client,
        f"/{tenant.slug}/lists/orders.sales/views",
        {
            "name": "Autunno",
            "query": "cf_season=AI26&sort=number&page=2",
            "columns": "number,total",
        },
        page,
    )
    assert response.status_code == 303
    applied = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _numbers(applied) == wanted
    assert _headers(applied) == ["Number", "Total"]
    assert "Autunno" in applied  # the views menu names the view applied

    # the list page offers the view to its owner
    assert "Autunno" in client.get(page).get_data(as_text=True)


def test_shared_views_are_seen_by_the_firm_private_ones_only_by_their_owner(
    tenant_client, make_user, login
):
    client, tenant, _user = _firm(tenant_client)
    colleague = login(make_user(tenant, "staff"))
    page = f"/{tenant.slug}/orders/sales"
    views = f"/{tenant.slug}/lists/orders.sales/views"
    _post(client, views, {"name": "Mine only", "query": "cf_season=PE26"}, page)
    shared = _post(
        client, views, {"name": "For everyone", "query": "cf_season=AI26", "shared": "1"}, page
    )
    shared_id = int(re.search(r"view=(\d+)", shared.headers["Location"]).group(1))

    own_page = client.get(page).get_data(as_text=True)
    assert "Mine only" in own_page
    assert "For everyone" in own_page
    other_page = colleague.get(page).get_data(as_text=True)
    assert "For everyone" in other_page
    assert "Mine only" not in other_page

    with tenant_context(tenant):
        private = next(
            v
            for v in db.session.execute(db.select(listviews.SavedView)).scalars()
            if v.name == "Mine only"
        )
        private_id = private.id
    # a colleague can neither delete the private view nor a shared one they did not make
    assert _post(colleague, f"{views}/{private_id}/delete", {}, page).status_code == 404
    assert _post(colleague, f"{views}/{shared_id}/delete", {}, page).status_code == 403
    assert _post(client, f"{views}/{shared_id}/delete", {}, page).status_code == 303
    assert "For everyone" not in colleague.get(page).get_data(as_text=True)

    # another firm's member sees none of it
    other_client, other_firm, _other = tenant_client("owner", modules=["catalog", "orders"])
    assert "Mine only" not in other_client.get(f"/{other_firm.slug}/orders/sales").get_data(
        as_text=True
    )
    assert other_client.get(f"{page}").status_code == 404


def test_chosen_columns_with_a_custom_field_show_and_export_typed_values(
    tenant_client, make_user, login
):
    client, tenant, _user = _firm(tenant_client)
    colleague = login(make_user(tenant, "staff"))
    page = f"/{tenant.slug}/orders/sales"
    response = _post(
        client,
        f"/{tenant.slug}/lists/orders.sales/columns",
        {"columns": ["number", "date", "cf.season", "cf.pieces", "total"], "next": page},
        page,
    )
    assert response.status_code == 303
    html = client.get(f"{page}?sort=date").get_data(as_text=True)
    assert _headers(html) == ["Number", "Date", "Season", "Pieces", "Total"]
    cells = re.findall(r'<td data-col="cf.season">([^<]*)</td>', html)
    assert cells == ["AI26", "PE26", "AI26", "PE26", "AI26", "PE26"]
    # the choice is the user's: a colleague still sees the default columns
    assert "Season" not in _headers(colleague.get(page).get_data(as_text=True))

    csv_response = client.get(
        f"/{tenant.slug}/lists/orders.sales/export.csv?cf_season=AI26&sort=date"
    )
    assert csv_response.status_code == 200
    lines = csv_response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Number;Date;Season;Pieces;Total"
    assert len(lines) == 4
    assert lines[1].split(";")[1:] == ["2026-03-01", "AI26", "10", "122.00"]

    xlsx = client.get(f"/{tenant.slug}/lists/orders.sales/export.xlsx?sort=date")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Number", "Date", "Season", "Pieces", "Total")
    assert len(rows) == 7
    first = rows[1]
    assert isinstance(first[1], datetime)
    assert first[1].date() == date(2026, 3, 1)
    assert first[2] == "AI26"
    assert first[3] == 10
    assert isinstance(first[3], int | float)
    assert isinstance(first[4], int | float)
    assert first[4] == pytest.approx(122.0)
    assert sheet.cell(row=2, column=5).number_format == "#,##0.00"


def test_the_filter_form_updates_only_the_list_body(tenant_client):
    client, tenant, _user = _firm(tenant_client)
    body = client.get(
        f"/{tenant.slug}/orders/sales?cf_season=PE26",
        headers={"HX-Request": "true", "HX-Target": "list-body"},
    ).get_data(as_text=True)
    assert "<html" not in body
    assert len(_numbers(body)) == 3
    full = client.get(f"/{tenant.slug}/orders/sales?cf_season=PE26").get_data(as_text=True)
    assert 'hx-push-url="true"' in full
    assert 'id="list-body"' in full


def test_a_bad_filter_is_named_not_a_server_error(tenant_client):
    client, tenant, _user = _firm(tenant_client)
    response = client.get(f"/{tenant.slug}/orders/sales?cf_pieces=many&state=nonsense")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Pieces: many is not a valid filter." in text
    assert (
        client.get(f"/{tenant.slug}/lists/orders.sales/export.csv?cf_pieces=many").status_code
        == 400
    )
    assert client.get(f"/{tenant.slug}/lists/orders.sales/export.pdf").status_code == 404
    assert client.get(f"/{tenant.slug}/lists/nothing.here/export.csv").status_code == 404


def test_the_count_stops_at_the_cap(tenant_client, monkeypatch):
    monkeypatch.setattr(listviews, "COUNT_CAP", 4)
    client, tenant, _user = _firm(tenant_client)
    html = client.get(f"/{tenant.slug}/orders/sales").get_data(as_text=True)
    assert "More than 4 records" in html
    assert len(_numbers(html)) == 6


def test_customers_products_and_invoices_are_declared_lists(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        catalog.create_party(
            {
                "legal_name": "Filati Bianchi",
                "is_customer": True,
                "vat_number": VAT,
                "city": "Biella",
            }
        )
        catalog.create_product(
            {"code": "F-1", "description": "Filato", "vat_rate_id": rate.id, "sale_price": "12,5"}
        )
        catalog.create_product(
            {"code": "F-2", "description": "=SUM(A1:A9)", "vat_rate_id": rate.id}
        )
        db.session.commit()
    customers = client.get(f"/{tenant.slug}/catalog/customers?q=bianchi").get_data(as_text=True)
    assert "Filati Bianchi" in customers
    assert 'id="list-table"' in customers
    export = client.get(f"/{tenant.slug}/lists/catalog.customers/export.csv?q=bianchi")
    assert "Filati Bianchi" in export.get_data(as_text=True)
    products = load_workbook(
        io.BytesIO(client.get(f"/{tenant.slug}/lists/catalog.products/export.xlsx").data)
    ).active
    assert list(products.iter_rows(values_only=True))[1][:4] == ("F-1", "Filato", "pz", 12.5)
    # text that looks like a formula stays text in the spreadsheet
    formula = products.cell(row=3, column=2)
    assert (formula.value, formula.data_type) == ("=SUM(A1:A9)", "s")
    archived = client.get(f"/{tenant.slug}/catalog/customers?archived=1").get_data(as_text=True)
    assert "Filati Bianchi" not in archived
    assert client.get(f"/{tenant.slug}/invoicing/invoices").status_code == 200
    assert client.get(f"/{tenant.slug}/lists/invoicing.invoices/export.xlsx").status_code == 200
    # a module the firm does not use has no list to export
    assert client.get(f"/{tenant.slug}/lists/orders.sales/export.csv").status_code == 404


def test_list_pages_run_the_same_few_statements_however_many_orders(tenant_client):
    small_client, small, _u = _firm(tenant_client)
    big_client, big, _v = _firm(tenant_client)
    with tenant_context(big):
        customer = catalog.party_query("Rossi").limit(1)
        party = db.session.execute(customer).scalar_one()
        rate = catalog.vat_rate_by_code("22")
        for _n in range(60):
            orders.create_order(
                "sale",
                {
                    "party_id": party.id,
                    "custom": {"season": "AI26"},
                    "lines": [
                        {
                            "description": "x",
                            "quantity": "1",
                            "unit_price": "1",
                            "vat_rate_id": rate.id,
                        }
                    ],
                },
            )
        db.session.commit()
    counts = []
    for client, firm in ((small_client, small), (big_client, big)):
        page = f"/{firm.slug}/orders/sales"
        saved = _post(
            client,
            f"/{firm.slug}/lists/orders.sales/views",
            {
                "name": "A",
                "query": "cf_season=AI26&per_page=100",
                "columns": "number,cf.season,party",
            },
            page,
        )
        url = saved.headers["Location"]
        assert "Season" in _headers(client.get(url).get_data(as_text=True))
        with counting_statements() as statements:
            assert client.get(url).status_code == 200
        counts.append(
            len([s for s in statements if not s.lstrip().startswith("SELECT set_config(")])
        )
    assert counts[0] == counts[1]
    assert counts[1] <= 15


def _invoice_firm(tenant_client, count: int):
    from distretto.modules.invoicing import services as invoicing

    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing", "inventory"])
    with tenant_context(tenant):
        customfields.define("invoice", {"name": "agent", "label": "Agent", "type": "text"})
        rate = catalog.vat_rate_by_code("22")
        for n in range(count):
            customer = catalog.create_party(
                {"legal_name": f"Cliente {n}", "is_customer": True, "vat_number": VAT}
            )
            catalog.create_product(
                {"code": f"P-{n:03d}", "description": f"Articolo {n}", "vat_rate_id": rate.id}
            )
            invoicing.create_invoice(
                {
                    "party_id": customer.id,
                    "custom": {"agent": f"Agente {n}"},
                    "lines": [
                        {
                            "description": "Servizio",
                            "quantity": "1",
                            "unit_price": "10",
                            "vat_rate_id": rate.id,
                        }
                    ],
                }
            )
        db.session.commit()
    return client, tenant


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("invoicing.invoices", "/invoicing/invoices?per_page=100"),
        ("catalog.customers", "/catalog/customers?per_page=100"),
        ("catalog.products", "/catalog/products?per_page=100"),
        ("inventory.shipments", "/inventory/shipments?per_page=100"),
    ],
)
def test_other_lists_run_the_same_few_statements_with_all_columns(tenant_client, key, path):
    counts = []
    for size in (3, 40):
        client, tenant = _invoice_firm(tenant_client, size)
        page = f"/{tenant.slug}{path}"
        view = listviews.lookup(key)
        assert view is not None
        with tenant_context(tenant):
            every = [c.key for c in view.columns] + (
                ["cf.agent"] if key.startswith("invoicing") else []
            )
        _post(client, f"/{tenant.slug}/lists/{key}/columns", {"columns": every, "next": page}, page)
        assert client.get(page).status_code == 200
        with counting_statements() as statements:
            html = client.get(page).get_data(as_text=True)
        if key.startswith("invoicing"):
            assert "Agente 0" in html
        counts.append(
            len([s for s in statements if not s.lstrip().startswith("SELECT set_config(")])
        )
    assert counts[0] == counts[1], counts
    assert counts[1] <= 15, counts
