"""On a tablet in the warehouse: no sideways scrolling, a menu that collapses and opens,
and large targets (at least 44 px) for picking a shipment."""

from __future__ import annotations

import pytest

from tests.browser.helpers import (
    axe_violations,
    expect,
    seed_firm,
    seed_sales_documents,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1024, "height": 768}
TARGET_PX = 44


@pytest.fixture
def warehouse(make_tenant, make_user):
    firm = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    owner = make_user(firm, "owner", name="Giulia Bianchi")
    docs = seed_sales_documents(firm, owner.id)
    return firm, owner, docs


def key_pages(slug: str, docs: dict) -> list[str]:
    return [
        f"/{slug}/",
        f"/{slug}/orders/sales",
        docs["order"],
        f"/{slug}/orders/sales/new",
        docs["ship"],
        docs["shipment"],
        docs["invoice"],
        f"/{slug}/invoicing/invoices",
        f"/{slug}/inventory/stock",
        f"/{slug}/settings/workflows/sales_order",
    ]


def overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_key_pages_fit_the_tablet_screen(new_page, warehouse, viewport):
    firm, owner, docs = warehouse
    page = new_page(viewport)
    sign_in(page, owner)
    wide = {}
    for url in key_pages(firm.slug, docs):
        page.goto(url)
        if overflow(page) > 0:
            wide[url] = overflow(page)
    assert not wide, f"pages wider than {viewport['width']}px: {wide}"


def test_menu_collapses_on_a_portrait_tablet_and_opens_with_its_button(new_page, warehouse):
    firm, owner, docs = warehouse
    page = new_page(PORTRAIT)
    sign_in(page, owner)
    page.goto(docs["order"])
    menu_link = page.get_by_role("link", name="Sales orders", exact=True)
    assert not menu_link.is_visible()
    toggler = page.get_by_role("button", name="Open the menu")
    box = toggler.bounding_box()
    assert box["height"] >= TARGET_PX
    assert box["width"] >= TARGET_PX
    toggler.click()
    expect(menu_link).to_be_visible()
    assert not axe_violations(page)  # the opened menu too
    menu_link.click()
    expect(page).to_have_url(f"{page.url.split('/' + firm.slug)[0]}/{firm.slug}/orders/sales")


def test_landscape_tablet_shows_the_whole_menu_on_the_bar(new_page, warehouse):
    firm, owner, _docs = warehouse
    page = new_page(LANDSCAPE)
    sign_in(page, owner)
    page.goto(f"/{firm.slug}/orders/sales")
    links = page.locator("#nav-main .nav-link")
    assert links.count() >= 10
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None, links.nth(i).inner_text()
        assert box["x"] >= 0, links.nth(i).inner_text()
        assert box["x"] + box["width"] <= LANDSCAPE["width"], links.nth(i).inner_text()


def test_shipment_picking_has_large_targets(new_page, warehouse):
    firm, owner, docs = warehouse
    page = new_page(PORTRAIT)
    sign_in(page, owner)
    page.goto(docs["ship"])
    shoot(page, "tablet-shipment")
    controls = page.locator("main form").locator(
        "input:not([type=hidden]), select, textarea, button, a.btn"
    )
    assert controls.count() >= 5
    small = {}
    for i in range(controls.count()):
        control = controls.nth(i)
        box = control.bounding_box()
        if box["height"] < TARGET_PX or box["width"] < TARGET_PX:
            small[control.get_attribute("name") or control.inner_text()] = box
    assert not small, f"targets smaller than {TARGET_PX}px: {small}"
    assert overflow(page) == 0
