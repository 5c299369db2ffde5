"""Firm A's clerk cannot reach firm B's pages: the browser shows the 404 page and nothing of B."""

from __future__ import annotations

import pytest

from tests.browser.helpers import seed_firm, seed_sales_documents, sign_in

pytestmark = pytest.mark.browser


def test_clerk_of_firm_a_gets_404_and_no_data_on_firm_b_pages(page, make_tenant, make_user):
    firm_a = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    firm_b = seed_firm(make_tenant, "tessitura-verdi", "Tessitura Verdi S.p.A.")
    owner_b = make_user(firm_b, "owner")
    b = seed_sales_documents(firm_b, owner_b.id, customer="Segreto Cliente di B S.r.l.")
    clerk_a = make_user(firm_a, "staff")
    sign_in(page, clerk_a)

    b_ids = {key: url.rsplit("/", 1)[1] for key, url in b.items() if str(url).startswith("/")}
    urls = [
        f"/{firm_b.slug}/",
        b["order"],
        b["invoice"],
        b["shipment"],
        b["party"],
        f"/{firm_b.slug}/orders/sales",
        # B's documents' numbers under A's own address
        f"/{firm_a.slug}/orders/sales/{b_ids['order']}",
        f"/{firm_a.slug}/invoicing/invoices/{b_ids['invoice']}",
        f"/{firm_a.slug}/inventory/shipments/{b_ids['shipment']}",
        f"/{firm_a.slug}/catalog/parties/{b_ids['party']}",
    ]
    for url in urls:
        response = page.goto(url)
        assert response.status == 404, url
        text = page.locator("body").inner_text()
        assert "This page does not exist, or you cannot see it." in text, url
        for secret in ("Tessitura Verdi", "Segreto Cliente", b["order_number"]):
            assert secret not in text, (url, secret)
        assert secret not in page.content()

    # and A's own lists show nothing of B
    page.goto(f"/{firm_a.slug}/orders/sales")
    assert b["customer"] not in page.content()
