"""The global search: a keyboard shortcut jumps into it, an order is found as you type
and opened with the arrow keys and Enter."""

from __future__ import annotations

import pytest

from tests.browser.helpers import axe_violations, expect, seed_firm, seed_sales_documents, sign_in

pytestmark = pytest.mark.browser


def test_search_shortcut_finds_an_order_and_opens_it(page, make_tenant, make_user):
    firm = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    clerk = make_user(firm, "staff")
    docs = seed_sales_documents(firm, clerk.id)
    sign_in(page, clerk)
    page.goto(f"/{firm.slug}/inventory/stock")  # any page of the firm

    page.locator("body").press("/")
    box = page.locator("#global-search")
    expect(box).to_be_focused()
    page.keyboard.type(docs["order_number"])
    result = page.locator("#global-search-results a", has_text=docs["order_number"])
    expect(result.first).to_be_visible()
    assert not axe_violations(page)  # the open results too
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(page.url.split(f"/{firm.slug}/")[0] + docs["order"])
    expect(page.locator("#order-state")).to_be_visible()

    # Ctrl+K works from anywhere too (once the page's scripts have run)
    page.wait_for_load_state()
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
