"""List and detail pages run a bounded number of SQL statements, however many rows or lines.

Each page is requested in a firm holding 5 of everything and in one holding 60; the
statements the request sends to the database are counted with a cursor listener on
the app's engine. The counts must be equal (no statement per row or line) and small
(the bound leaves out the ``set_config`` PostgreSQL runs at each transaction's start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import event

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.orders import services as orders
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db

ALL = ["catalog", "orders", "inventory"]
BOUND = 15


@dataclass
class Firm:
    client: object
    slug: str
    ids: dict[str, int] = field(default_factory=dict)


def _vat(n: int) -> str:
    from stdnum import luhn

    base = f"{(n * 7919) % 10_000_000:07d}001"
    return base + luhn.calc_check_digit(base)


def _build(tenant_client, size: int) -> Firm:
    """A firm with ``size`` customers, suppliers, products, orders, shipments, receipts,
    and one sales order, one DDT and one count of ``size`` lines each."""
    client, tenant, _user = tenant_client("owner", modules=ALL)
    firm = Firm(client, tenant.slug)
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        terms = catalog.payment_terms()
        customers, suppliers, products = [], [], []
        for n in range(size):
            customers.append(
                catalog.create_party(
                    {
                        "legal_name": f"Cliente {n}",
                        "is_customer": True,
                        "vat_number": _vat(n + 1),
                        "payment_terms_id": terms[n % len(terms)].id,
                        "vat_rate_id": rate.id,
                        "city": "Bergamo",
                    }
                )
            )
            suppliers.append(
                catalog.create_party(
                    {
                        "legal_name": f"Fornitore {n}",
                        "is_supplier": True,
                        "vat_number": _vat(n + 1000),
                        "payment_terms_id": terms[0].id,
                    }
                )
            )
            products.append(
                catalog.create_product(
                    {
                        "code": f"P-{n:03d}",
                        "description": f"Articolo {n}",
                        "vat_rate_id": rate.id,
                        "sale_price": "3,50",
                        "reorder_point": "5",
                    }
                )
            )
        inventory.receive(
            party_id=suppliers[0].id,
            lines=[(p.id, Decimal("1000"), Decimal("1.5"), None) for p in products],
        )
        for n, product in enumerate(products):
            sale = orders.create_order(
                "sale",
                {
                    "party_id": customers[n].id,
                    "lines": [{"product_id": product.id, "quantity": "2"}],
                },
            )
            workflow.apply(sale, "sales_order", "confirm", role="owner")
            workflow.apply(sale, "sales_order", "ship", role="owner")
            purchase = orders.create_order(
                "purchase",
                {
                    "party_id": suppliers[n].id,
                    "lines": [{"product_id": product.id, "quantity": "1"}],
                },
            )
            workflow.apply(purchase, "purchase_order", "send", role="owner")
            workflow.apply(purchase, "purchase_order", "receive", role="owner")
        big = orders.create_order(
            "sale",
            {
                "party_id": customers[0].id,
                "lines": [
                    {"product_id": p.id, "quantity": "3", "discount_percent": "5"} for p in products
                ],
            },
        )
        workflow.apply(big, "sales_order", "confirm", role="owner")
        shipment = inventory.create_shipment(
            party_id=customers[0].id,
            lines=[(line, Decimal("1")) for line in big.stock_lines()],
            source=("sales_order", big.id, big.number),
        )
        inventory.ship(shipment)
        big_purchase = orders.create_order(
            "purchase",
            {
                "party_id": suppliers[0].id,
                "lines": [{"product_id": p.id, "quantity": "4"} for p in products],
            },
        )
        workflow.apply(big_purchase, "purchase_order", "send", role="owner")
        count = inventory.start_count(inventory.default_location().id)
        inventory.record_counted(count, {p.id: Decimal("990") for p in products})
        db.session.commit()
        firm.ids = {
            "order": big.id,
            "purchase": big_purchase.id,
            "shipment": shipment.id,
            "count": count.id,
            "party": customers[0].id,
            "product": products[0].id,
        }
    return firm


PAGES: list[tuple[str, Callable[[Firm], str]]] = [
    ("customers", lambda f: "/catalog/customers"),
    ("suppliers", lambda f: "/catalog/suppliers?per_page=100"),
    ("customer search", lambda f: "/catalog/customers?q=cliente&sort=-city"),
    ("products", lambda f: "/catalog/products?per_page=100"),
    ("customers csv", lambda f: "/catalog/customers.csv"),
    ("products csv", lambda f: "/catalog/products.csv"),
    ("sales orders", lambda f: "/orders/sales?per_page=100"),
    ("purchase orders", lambda f: "/orders/purchases?sort=total"),
    ("stock", lambda f: "/inventory/stock"),
    ("low stock", lambda f: "/inventory/stock?low=1"),
    ("shipments", lambda f: "/inventory/shipments?per_page=100"),
    ("receipts", lambda f: "/inventory/receipts?per_page=100"),
    ("counts", lambda f: "/inventory/counts"),
    ("sales order", lambda f: f"/orders/sales/{f.ids['order']}"),
    ("purchase order", lambda f: f"/orders/purchases/{f.ids['purchase']}"),
    ("sales order edit", lambda f: f"/orders/sales/{f.ids['order']}/edit"),
    ("sales order pdf", lambda f: f"/orders/sales/{f.ids['order']}.pdf"),
    ("shipment", lambda f: f"/inventory/shipments/{f.ids['shipment']}"),
    ("shipment pdf", lambda f: f"/inventory/shipments/{f.ids['shipment']}.pdf"),
    ("ship page", lambda f: f"/inventory/ship/sales_order/{f.ids['order']}"),
    ("receive page", lambda f: f"/inventory/receive/purchase_order/{f.ids['purchase']}"),
    ("count", lambda f: f"/inventory/counts/{f.ids['count']}"),
    ("product moves", lambda f: f"/inventory/products/{f.ids['product']}/moves"),
    ("customer", lambda f: f"/catalog/parties/{f.ids['party']}"),
]


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(firm: Firm, path: str) -> list[str]:
    url = f"/{firm.slug}{path}"
    warm = firm.client.get(url)  # caches (workflow definitions, enabled modules) filled
    assert warm.status_code == 200, (url, warm.status_code)
    with counting_statements() as statements:
        response = firm.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements


def _data_statements(statements: list[str]) -> list[str]:
    """Without the ``set_config`` that starts each PostgreSQL transaction (the firm for RLS)."""
    return [s for s in statements if not s.lstrip().startswith("SELECT set_config(")]


@pytest.fixture
def firms(tenant_client) -> tuple[Firm, Firm]:
    return _build(tenant_client, 5), _build(tenant_client, 60)


def test_pages_run_the_same_few_statements_for_5_or_60_rows(firms):
    small, large = firms
    problems = []
    for name, path in PAGES:
        few = _statements(small, path(small))
        many = _statements(large, path(large))
        if len(few) != len(many) or len(_data_statements(many)) > BOUND:
            problems.append(f"{name}: {len(few)} statements with 5 rows, {len(many)} with 60")
            print(f"--- {name}, with 60 rows:", *many, sep="\n")  # shown when the test fails
    assert problems == []


def test_the_counter_sees_statements_sent_one_per_row(make_tenant):
    """The listener counts what is sent: lazy-loading a relation row by row shows up."""
    from sqlalchemy import select

    from distretto.modules.catalog.models import Party

    tenant = make_tenant(modules=["catalog"])
    with tenant_context(tenant):
        terms = catalog.payment_terms()[0]
        for n in range(5):
            catalog.create_party(
                {
                    "legal_name": f"Cliente {n}",
                    "is_customer": True,
                    "vat_number": _vat(n + 1),
                    "payment_terms_id": terms.id,
                }
            )
        db.session.commit()
        parties = db.session.execute(select(Party)).scalars().all()
        with counting_statements() as statements:
            for party in parties:
                assert party.contacts == []  # a collection: one SELECT per party
        assert len(statements) == 5
