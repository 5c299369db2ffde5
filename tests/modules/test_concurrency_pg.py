"""Many clerks at once never oversell nor ship what is not there (PostgreSQL only).

SQLite serialises every writer, so only PostgreSQL shows races. Each worker thread
works as a separate request would: its own application context, session, tenant
context and transaction, committed at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.inventory.models import MoveType, ProductStock, Shipment, StockLevel
from distretto.modules.orders import services as orders
from distretto.modules.orders.models import Order
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants.models import Tenant

pytestmark = pytest.mark.postgres_only

ALL = ["catalog", "orders", "inventory"]


def run_concurrently(app: Any, tenant_id: int, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job at once, each in its own app context and transaction.

    A job's result is what it returned (committed), or the exception it raised
    (rolled back).
    """
    start = threading.Barrier(len(jobs))

    def worker(job: Callable[[], Any]) -> Any:
        with app.app_context():
            start.wait(timeout=60)
            try:
                tenant = db.session.get(Tenant, tenant_id)
                with tenant_context(tenant):
                    result = job()
                db.session.commit()
                return result
            except Exception as exc:  # noqa: BLE001 - the test counts refusals
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(worker, jobs))


def _firm_with_stock(make_tenant, on_hand: str) -> tuple[Any, int, int]:
    tenant = make_tenant(modules=ALL)
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        product = catalog.create_product(
            {"code": "BUL-8", "description": "Bullone", "vat_rate_id": rate.id}
        )
        inventory.receive(lines=[(product.id, Decimal(on_hand), Decimal("1"), None)])
        db.session.commit()
        return tenant, customer.id, product.id


def _stock(tenant, product_id: int) -> tuple[Decimal, Decimal, Decimal]:
    db.session.commit()
    with tenant_context(tenant):
        stock = db.session.execute(
            select(ProductStock).where(ProductStock.product_id == product_id)
        ).scalar_one()
        level = db.session.execute(
            select(StockLevel.on_hand).where(StockLevel.product_id == product_id)
        ).scalar_one()
        assert inventory.ledger_check() == []
        return stock.on_hand, stock.reserved, level


def test_50_concurrent_reservations_of_10_units_reserve_exactly_10(app, make_tenant):
    tenant, _customer, product_id = _firm_with_stock(make_tenant, "10")
    results = run_concurrently(
        app, tenant.id, [lambda: inventory.reserve(product_id, Decimal("1"))] * 50
    )
    assert results.count(True) == 10
    assert results.count(False) == 40
    assert _stock(tenant, product_id) == (Decimal("10"), Decimal("10"), Decimal("10"))


def test_20_concurrent_confirmations_of_10_units_confirm_exactly_10_orders(app, make_tenant):
    tenant, customer_id, product_id = _firm_with_stock(make_tenant, "10")
    with tenant_context(tenant):
        order_ids = [
            orders.create_order(
                "sale",
                {"party_id": customer_id, "lines": [{"product_id": product_id, "quantity": "1"}]},
            ).id
            for _ in range(20)
        ]
        db.session.commit()

    def confirm(order_id: int) -> Callable[[], str]:
        def job() -> str:
            order = db.session.get(Order, order_id)
            workflow.apply(order, "sales_order", "confirm", role="staff")
            return order.state

        return job

    results = run_concurrently(app, tenant.id, [confirm(order_id) for order_id in order_ids])
    assert results.count("confirmed") == 10
    refusals = [r for r in results if isinstance(r, workflow.TransitionRefused)]
    assert len(refusals) == 10
    with tenant_context(tenant):
        states = db.session.execute(select(Order.state)).scalars().all()
        assert sorted(states) == ["confirmed"] * 10 + ["draft"] * 10
    assert _stock(tenant, product_id) == (Decimal("10"), Decimal("10"), Decimal("10"))


def test_30_concurrent_shipments_of_10_units_never_make_stock_negative(app, make_tenant):
    tenant, _customer, product_id = _firm_with_stock(make_tenant, "10")
    with tenant_context(tenant):
        location_id = inventory.default_location().id

    def ship_one() -> bool:
        inventory.post_move(
            product_id, Decimal("1"), move_type=MoveType.SHIPMENT, from_location_id=location_id
        )
        return True

    results = run_concurrently(app, tenant.id, [ship_one] * 30)
    assert results.count(True) == 10
    assert all(isinstance(r, inventory.StockError) for r in results if r is not True)
    assert _stock(tenant, product_id) == (Decimal("0"), Decimal("0"), Decimal("0"))


def test_concurrent_ddt_shipments_ship_only_what_is_on_hand_with_gapless_numbers(app, make_tenant):
    """10 confirmed orders hold 10 reserved units, but a count found only 6 on the shelf."""
    tenant, customer_id, product_id = _firm_with_stock(make_tenant, "10")
    with tenant_context(tenant):
        order_ids = []
        for _ in range(10):
            order = orders.create_order(
                "sale",
                {"party_id": customer_id, "lines": [{"product_id": product_id, "quantity": "1"}]},
            )
            workflow.apply(order, "sales_order", "confirm", role="staff")
            order_ids.append(order.id)
        inventory.adjust(product_id, inventory.default_location().id, Decimal("6"))
        db.session.commit()

    def ship(order_id: int) -> Callable[[], str]:
        def job() -> str:
            order = db.session.get(Order, order_id)
            shipment = inventory.create_shipment(
                party_id=order.party_id,
                lines=[(line, line.outstanding) for line in order.stock_lines()],
                source=("sales_order", order.id, order.number),
            )
            inventory.ship(shipment)
            return shipment.number

        return job

    results = run_concurrently(app, tenant.id, [ship(order_id) for order_id in order_ids])
    numbers = sorted(r for r in results if isinstance(r, str))
    assert len(numbers) == 6
    assert all(isinstance(r, workflow.TransitionRefused) for r in results if r not in numbers)
    # gapless: the refused shipments used no number
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3, 4, 5, 6]
    assert _stock(tenant, product_id) == (Decimal("0"), Decimal("4"), Decimal("0"))
    with tenant_context(tenant):
        assert len(db.session.execute(select(Shipment.id)).all()) == 6
        states = sorted(db.session.execute(select(Order.state)).scalars())
        assert states == ["confirmed"] * 4 + ["shipped"] * 6
