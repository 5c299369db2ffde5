from decimal import Decimal

from distretto.modules.catalog import services as catalog
from distretto.modules.inventory import services as inventory
from distretto.modules.orders import services as orders
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db


def _setup_firm(make_tenant):
    tenant = make_tenant(modules=["catalog", "orders", "inventory"])
    return tenant


def test_full_sales_cycle_reserves_ships_partially_then_fully(make_tenant):
    tenant = _setup_firm(make_tenant)
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        product = catalog.create_product(
            {
                "code": "BULL-8",
                "description": "Bullone M8",
                "sale_price": "1,25",
                "vat_rate_id": rate.id,
            }
        )
        inventory.receive(lines=[(product.id, Decimal("10"), Decimal("0.40"), None)])
        order = orders.create_order(
            "sale",
            {"party_id": customer.id, "lines": [{"product_id": product.id, "quantity": "4"}]},
        )
        assert order.number.startswith("OV-")
        assert order.total == Decimal("6.10")  # 4 x 1.25 = 5.00 + 22% = 1.10
        workflow.apply(order, "sales_order", "confirm", role="staff")
        assert inventory.stock_of(product.id).reserved == Decimal("4")
        line = order.stock_lines()[0]
        shipment = inventory.create_shipment(
            party_id=customer.id,
            lines=[(line, Decimal("1"))],
            source=("sales_order", order.id, order.number),
        )
        inventory.ship(shipment)
        assert shipment.number.startswith("DDT-")
        assert order.state == "partially_shipped"
        workflow.apply(order, "sales_order", "ship", role="staff")
        assert order.state == "shipped"
        stock = inventory.stock_of(product.id)
        assert stock.on_hand == Decimal("6")
        assert stock.reserved == Decimal("0")
        assert inventory.ledger_check() == []
        db.session.commit()
        history = [h.transition for h in workflow.history(order, "sales_order")]
        assert history == ["create", "confirm", "mark_partially_shipped", "ship"]
