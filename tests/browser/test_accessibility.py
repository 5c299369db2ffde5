"""Accessibility of the key pages (axe-core in the browser: no serious or critical
violations) and a form filled and sent with the keyboard alone."""

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


def key_pages(slug: str, docs: dict) -> dict[str, str]:
    return {
        "dashboard": f"/{slug}/",
        "order list": f"/{slug}/orders/sales",
        "order detail": docs["order"],
        "order form": f"/{slug}/orders/sales/new",
        "shipment picking": docs["ship"],
        "shipment": docs["shipment"],
        "invoice list": f"/{slug}/invoicing/invoices",
        "invoice detail": docs["invoice"],
        "customers": f"/{slug}/catalog/customers",
        "product form": f"/{slug}/catalog/products/new",
        "settings": f"/{slug}/settings/",
        "members": f"/{slug}/settings/members",
        "modules": f"/{slug}/settings/modules",
        "workflows": f"/{slug}/settings/workflows",
        "workflow editor": f"/{slug}/settings/workflows/sales_order",
        "custom fields": f"/{slug}/settings/fields/sales_order",
        "numbering": f"/{slug}/settings/numbering/sales_order",
    }


#: key page -> docs/screenshots/<name>.png (for the user guide; DISTRETTO_SCREENSHOTS=1)
SCREENSHOTS = {
    "dashboard": "dashboard",
    "order list": "order-list",
    "order detail": "order-detail",
    "order form": "order-form",
    "shipment picking": "shipment",
    "shipment": "shipment-detail",
    "invoice detail": "invoice",
    "workflow editor": "workflow-editor",
}


@pytest.fixture
def office(page, make_tenant, make_user):
    firm = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    owner = make_user(firm, "owner", name="Giulia Bianchi")
    docs = seed_sales_documents(firm, owner.id)
    return page, firm, owner, docs


def test_key_pages_have_no_serious_accessibility_violations(office):
    page, firm, owner, docs = office
    problems: dict[str, list[str]] = {}
    page.goto("/login")
    problems["login"] = axe_violations(page)
    shoot(page, "login", full_page=False)
    sign_in(page, owner)
    for name, url in key_pages(firm.slug, docs).items():
        response = page.goto(url)
        assert response.status == 200, (name, url, response.status)
        problems[name] = axe_violations(page)
        if name in SCREENSHOTS:
            # the editor is long: its top (diagram, states) is what the guide shows
            shoot(page, SCREENSHOTS[name], full_page=name != "workflow editor")
    found = {name: p for name, p in problems.items() if p}
    assert not found, "\n".join(f"{name}:\n  " + "\n  ".join(p) for name, p in found.items())


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the field has the focus (as a keyboard user does), or fail."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def test_order_form_is_filled_and_sent_with_the_keyboard_only(office):
    page, firm, owner, docs = office
    sign_in(page, owner)
    page.goto(f"/{firm.slug}/orders/sales/new")

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")  # past the menu, straight to the form
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "party_code"
    code = page.locator("datalist#parties option").first.get_attribute("value")
    page.keyboard.type(code)  # what picking the suggestion writes
    tab_to(page, "lines-0-product_code")
    page.keyboard.type("FL-50")
    tab_to(page, "lines-0-quantity")
    page.keyboard.type("3")
    page.keyboard.press("Enter")  # sends the form: Save, not "Add a line"

    page.locator("#order-state").wait_for()
    assert page.locator("#order-state").inner_text() == "Draft"
    assert "Flangia DN50" in page.locator("main").inner_text()
    # and the workflow's buttons answer to the keyboard too
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Confirm":
            break
    else:
        raise AssertionError("the Confirm button cannot be reached with the Tab key")
    page.keyboard.press("Enter")
    expect(page.locator("#order-state")).to_have_text("Confirmed")


def other_pages(slug: str, docs: dict) -> list[str]:
    return [
        "/account",
        f"/{slug}/search?q=FL",
        f"/{slug}/catalog/products",
        docs["party"],
        f"/{slug}/orders/purchases",
        f"/{slug}/inventory/stock",
        f"/{slug}/inventory/shipments",
        f"/{slug}/inventory/adjust",
        f"/{slug}/invoicing/invoices/new",
        f"/{slug}/invoicing/from-orders",
        f"/{slug}/invoicing/overdue",
        f"/{slug}/invoicing/reports",
        f"/{slug}/invoicing/settings",
        f"/{slug}/imports/",
        f"/{slug}/imports/customers",
        f"/{slug}/settings/firm",
        f"/{slug}/settings/support",
        f"/{slug}/settings/audit",
        f"/{slug}/settings/api-tokens",
        f"/{slug}/settings/webhooks/",
        f"/{slug}/settings/webhooks/new",
        f"/{slug}/settings/export",
        f"/{slug}/settings/customisation",
    ]


def test_other_pages_have_no_serious_accessibility_violations(office):
    page, firm, owner, docs = office
    sign_in(page, owner)
    problems = {}
    for url in other_pages(firm.slug, docs):
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        problems[url] = axe_violations(page)
    found = {url: p for url, p in problems.items() if p}
    assert not found, "\n".join(f"{url}:\n  " + "\n  ".join(p) for url, p in found.items())
