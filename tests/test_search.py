"""Global search: finds a firm's records by name, code, number or VAT id, never another firm's."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.inventory.models import Shipment
from distretto.modules.invoicing import services as invoicing
from distretto.modules.orders import services as orders
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.modules.test_invoicing_xml import FISCAL
from tests.modules.test_query_bounds import _data_statements, _vat, counting_statements
from tests.test_dashboard import ADDRESS

ALL = ["catalog", "orders", "inventory", "invoicing"]
BOUND = 20


def _firm(tenant_client, modules=ALL, size=1, prefix="Officine"):
    """A firm with ``size`` customers (``prefix`` Rossi n), suppliers, products, orders,
    shipments and invoices; returns (client, tenant, ids of the first of each)."""
    client, tenant, _user = tenant_client("owner", modules=modules)
    ids = {}
    with tenant_context(tenant):
        if "invoicing" in modules:
            invoicing.update_fiscal_settings(dict(FISCAL))
        rate = catalog.vat_rate_by_code("22").id
        for n in range(size):
            customer = catalog.create_party(
                {
                    "legal_name": f"{prefix} Rossi {n}",
                    "is_customer": True,
                    "vat_number": _vat(n + 1),
                    **ADDRESS,
                }
            )
            supplier = catalog.create_party(
                {
                    "legal_name": f"Fonderia Verdi {n}",
                    "is_supplier": True,
                    "vat_number": _vat(n + 500),
                }
            )
            product = catalog.create_product(
                {
                    "code": f"BULL-{n:03d}",
                    "description": f"Bullone zincato {n}",
                    "vat_rate_id": rate,
                    "sale_price": "2",
                }
            )
            ids.setdefault("customer", customer.id)
            ids.setdefault("supplier", supplier.id)
            ids.setdefault("product", product.id)
            if "orders" in modules:
                order = orders.create_order(
                    "sale",
                    {
                        "party_id": customer.id,
                        "lines": [{"product_id": product.id, "quantity": "1"}],
                    },
                )
                ids.setdefault("order", order.id)
                ids.setdefault("order_number", order.number)
                if "inventory" in modules:
                    inventory.receive(lines=[(product.id, Decimal("5"), Decimal("1"), None)])
                    workflow.apply(order, "sales_order", "confirm", role="owner")
                    workflow.apply(order, "sales_order", "ship", role="owner")
                    shipment = db.session.execute(
                        select(Shipment).where(Shipment.source_id == order.id)
                    ).scalar_one()
                    ids.setdefault("shipment", shipment.id)
                    ids.setdefault("shipment_number", shipment.number)
            if "invoicing" in modules:
                invoice = invoicing.create_invoice(
                    {
                        "party_id": customer.id,
                        "issue_date": date.today(),
                        "lines": [
                            {
                                "description": "Lavoro",
                                "quantity": "1",
                                "unit_price": "10",
                                "vat_rate_id": rate,
                            }
                        ],
                    }
                )
                workflow.apply(invoice, "invoice", "issue", role="owner")
                ids.setdefault("invoice", invoice.id)
                ids.setdefault("invoice_number", invoice.number)
        db.session.commit()
    return client, tenant, ids


def group(html: str, name: str) -> str | None:
    match = re.search(rf'<section class="search-group" id="search-{name}".*?</section>', html, re.S)
    return match.group(0) if match else None


def test_search_finds_a_customer_by_part_of_its_name_in_any_case(tenant_client):
    client, tenant, ids = _firm(tenant_client)
    html = client.get(f"/{tenant.slug}/search?q=rOSS").get_data(as_text=True)
    customers = group(html, "catalog-customers")
    assert customers is not None
    assert "Officine Rossi 0" in customers
    assert f'href="/{tenant.slug}/catalog/parties/{ids["customer"]}"' in customers
    assert group(html, "catalog-suppliers") is None  # no supplier is called Rossi


def test_search_finds_a_party_by_vat_number(tenant_client):
    client, tenant, _ids = _firm(tenant_client)
    html = client.get(f"/{tenant.slug}/search?q={_vat(500)}").get_data(as_text=True)
    assert "Fonderia Verdi 0" in group(html, "catalog-suppliers")


def test_search_finds_orders_products_invoices_and_transport_documents(tenant_client):
    client, tenant, ids = _firm(tenant_client)

    def found(query: str, name: str) -> str:
        html = client.get(f"/{tenant.slug}/search", query_string={"q": query}).get_data(
            as_text=True
        )
        section = group(html, name)
        assert section is not None, (query, name, html)
        return section

    assert f"/orders/sales/{ids['order']}" in found(ids["order_number"], "orders-sales")
    assert f"/catalog/products/{ids['product']}" in found("bull-000", "catalog-products")
    assert f"/invoicing/invoices/{ids['invoice']}" in found(
        ids["invoice_number"], "invoicing-invoices"
    )
    assert f"/inventory/shipments/{ids['shipment']}" in found(
        ids["shipment_number"], "inventory-shipments"
    )


def test_search_never_shows_another_firms_records(tenant_client):
    client_a, tenant_a, _ = _firm(tenant_client, prefix="Alfa")
    _client_b, _tenant_b, ids_b = _firm(tenant_client, prefix="Beta")
    html = client_a.get(f"/{tenant_a.slug}/search?q=Rossi").get_data(as_text=True)
    assert "Alfa Rossi 0" in html
    assert "Beta Rossi" not in html
    html = client_a.get(f"/{tenant_a.slug}/search?q=Beta").get_data(as_text=True)
    assert "Beta Rossi" not in html
    assert f"/catalog/parties/{ids_b['customer']}" not in html


def test_the_live_list_is_a_fragment_and_the_page_a_whole_page(tenant_client):
    client, tenant, _ids = _firm(tenant_client, modules=["catalog"])
    live = client.get(f"/{tenant.slug}/search?q=Rossi", headers={"HX-Request": "true"})
    assert live.status_code == 200
    assert "<html" not in live.get_data(as_text=True)
    assert "Officine Rossi 0" in live.get_data(as_text=True)
    page = client.get(f"/{tenant.slug}/search?q=Rossi").get_data(as_text=True)
    assert "<html" in page
    assert 'id="global-search"' in page


def test_wildcards_are_searched_for_literally_and_empty_queries_find_nothing(tenant_client):
    client, tenant, _ids = _firm(tenant_client, modules=["catalog"])
    for query in ("%", "_", "\\"):
        html = client.get(f"/{tenant.slug}/search", query_string={"q": query}).get_data(
            as_text=True
        )
        assert group(html, "catalog-customers") is None, query
    html = client.get(f"/{tenant.slug}/search?q=+++").get_data(as_text=True)
    assert 'class="search-group"' not in html
    long = client.get(f"/{tenant.slug}/search", query_string={"q": "x" * 5000})
    assert long.status_code == 200


def test_a_firm_without_orders_searches_its_catalog_only(tenant_client):
    client, tenant, _ids = _firm(tenant_client, modules=["catalog"])
    html = client.get(f"/{tenant.slug}/search?q=0").get_data(as_text=True)
    assert group(html, "catalog-customers") is not None
    assert 'id="search-orders-' not in html
    assert 'id="search-invoicing-' not in html


def test_results_are_limited_per_type_with_a_link_to_the_full_list(tenant_client):
    client, tenant, _ids = _firm(tenant_client, modules=["catalog"], size=8)
    live = client.get(f"/{tenant.slug}/search?q=Rossi", headers={"HX-Request": "true"})
    customers = group(live.get_data(as_text=True), "catalog-customers")
    assert customers.count('class="search-result d-flex') == 5
    assert f'href="/{tenant.slug}/catalog/customers?q=Rossi"' in customers


def test_prefix_matches_come_first(tenant_client):
    client, tenant, _ids = _firm(tenant_client, modules=["catalog"])
    with tenant_context(tenant):
        catalog.create_party(
            {"legal_name": "Rossi Trasporti", "is_customer": True, "vat_number": _vat(77)}
        )
        db.session.commit()
    html = client.get(f"/{tenant.slug}/search?q=rossi").get_data(as_text=True)
    customers = group(html, "catalog-customers")
    assert customers.index("Rossi Trasporti") < customers.index("Officine Rossi 0")


def _statements(client, tenant) -> list[str]:
    url = f"/{tenant.slug}/search?q=o"
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    with counting_statements() as statements:
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return statements


def test_search_runs_the_same_few_statements_for_2_or_25_of_everything(tenant_client):
    small = _statements(*_firm(tenant_client, size=2)[:2])
    many = _statements(*_firm(tenant_client, size=25)[:2])
    assert len(small) == len(many), "\n".join(many)
    assert len(_data_statements(many)) <= BOUND, "\n".join(many)
