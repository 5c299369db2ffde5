"""What the browser tests share: signing in, screenshots for the guide, axe-core, seeding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from distretto.testing.plugin import TEST_PASSWORD

CHROMIUM = os.environ.get("DISTRETTO_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
ALL_MODULES = ["catalog", "orders", "inventory", "invoicing"]
FISCAL = {
    "street": "Via Roma 1",
    "postcode": "24020",
    "city": "Gorle",
    "province": "BG",
    "regime": "RF01",
    "iban": "IT60X0542811101000000123456",
}


def sign_in(page: Any, user: Any, password: str = TEST_PASSWORD) -> None:
    """Sign in through the real form, as a person does."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in of {user.email} failed"


def shoot(page: Any, name: str, full_page: bool = True) -> None:
    """Save docs/screenshots/<name>.png, only when DISTRETTO_SCREENSHOTS=1."""
    if os.environ.get("DISTRETTO_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run the vendored axe-core on the page; the serious and critical violations, readable."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {
             runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'best-practice']},
           })"""
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in impacts:
            continue
        for node in violation["nodes"][:8]:
            summary = " ".join(node.get("failureSummary", "").split())[:240]
            found.append(f"{violation['id']} {node['target']}: {summary}")
    return found


def seed_firm(make_tenant: Any, slug: str, legal_name: str) -> Any:
    """A firm with every built-in module and the fiscal data an e-invoice needs."""
    from distretto.modules.invoicing import services as invoicing
    from distretto.platform.context import tenant_context
    from distretto.platform.db import db

    tenant = make_tenant(slug=slug, modules=list(ALL_MODULES), legal_name=legal_name)
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


def receive_stock(tenant: Any, code: str, quantity: str) -> None:
    """Goods arrive in the warehouse (through the inventory service)."""
    from decimal import Decimal

    from sqlalchemy import select

    from distretto.modules.catalog.models import Product
    from distretto.modules.inventory import services as inventory
    from distretto.platform.context import tenant_context
    from distretto.platform.db import db

    db.session.commit()
    with tenant_context(tenant):
        product = db.session.execute(select(Product).where(Product.code == code)).scalar_one()
        inventory.receive(lines=[(product.id, Decimal(quantity), Decimal("1"), None)])
        db.session.commit()


def seed_sales_documents(
    tenant: Any, actor_id: int, customer: str = "Cliente Bergamo S.p.A."
) -> dict[str, Any]:
    """A customer, a product, a shipped order with its DDT and an issued invoice, through
    the services; returns the URLs of their pages."""
    from decimal import Decimal

    from distretto.modules.catalog import services as catalog
    from distretto.modules.inventory import services as inventory
    from distretto.modules.invoicing import services as invoicing
    from distretto.modules.orders import services as orders
    from distretto.platform import workflow
    from distretto.platform.context import tenant_context
    from distretto.platform.db import db

    db.session.commit()
    with tenant_context(tenant, actor_id):
        rate = catalog.vat_rate_by_code("22")
        party = catalog.create_party(
            {
                "legal_name": customer,
                "is_customer": True,
                "vat_number": "03777120167",
                "street": "Via Verdi 2",
                "postcode": "24100",
                "city": "Bergamo",
                "province": "BG",
                "sdi_code": "ABC1234",
            }
        )
        product = catalog.create_product(
            {
                "code": "FL-50",
                "description": "Flangia DN50",
                "sale_price": "12.50",
                "vat_rate_id": rate.id,
            }
        )
        inventory.receive(lines=[(product.id, Decimal("100"), Decimal("4"), None)])
        shipped = orders.create_order(
            "sale",
            {"party_id": party.id, "lines": [{"product_id": product.id, "quantity": "8"}]},
        )
        workflow.apply(shipped, "sales_order", "confirm", role="owner")
        shipment = inventory.create_shipment(
            party_id=party.id,
            lines=[(line, line.quantity) for line in shipped.stock_lines()],
            source=("sales_order", shipped.id, shipped.number),
        )
        inventory.ship(shipment)
        invoice = invoicing.invoice_from_orders([shipped.id])
        workflow.apply(invoice, "invoice", "issue", role="owner")
        confirmed = orders.create_order(
            "sale",
            {"party_id": party.id, "lines": [{"product_id": product.id, "quantity": "5"}]},
        )
        workflow.apply(confirmed, "sales_order", "confirm", role="owner")
        db.session.commit()
        slug = tenant.slug
        return {
            "party": f"/{slug}/catalog/parties/{party.id}",
            "order": f"/{slug}/orders/sales/{shipped.id}",
            "confirmed_order": f"/{slug}/orders/sales/{confirmed.id}",
            "ship": f"/{slug}/inventory/ship/sales_order/{confirmed.id}",
            "shipment": f"/{slug}/inventory/shipments/{shipment.id}",
            "invoice": f"/{slug}/invoicing/invoices/{invoice.id}",
            "order_number": shipped.number,
            "party_id": party.id,
            "product_id": product.id,
            "customer": customer,
        }


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (waits until true), imported late so that a machine without
    playwright skips the browser tests instead of failing to collect them."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)
