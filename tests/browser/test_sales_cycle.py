"""A clerk runs the whole sales cycle in the browser: customer, product, order,
confirmation, shipment with its transport document (DDT), invoice, PDF and FatturaPA XML."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from defusedxml import ElementTree

from tests.browser.helpers import (
    expect,
    receive_stock,
    seed_firm,
    seed_sales_documents,
    sign_in,
)

pytestmark = pytest.mark.browser


def create_customer(page: Any, slug: str, name: str, vat: str) -> None:
    page.goto(f"/{slug}/catalog/parties/new")
    page.get_by_label("Legal name").fill(name)
    page.get_by_label("Customer", exact=True).check()
    page.get_by_label("VAT number").fill(vat)
    page.get_by_label("Street").fill("Via Verdi 2")
    page.get_by_label("Postcode").fill("24100")
    page.get_by_label("City").fill("Bergamo")
    page.get_by_label("Province").fill("BG")
    page.get_by_label("SDI recipient code").fill("ABC1234")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=name).wait_for()


def create_product(page: Any, slug: str, code: str, price: str) -> None:
    page.goto(f"/{slug}/catalog/products/new")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Description").fill("Flangia DN50")
    page.get_by_label("Sale price").fill(price)
    rates = page.get_by_label("VAT rate")
    options = rates.locator("option").all_inner_texts()
    rates.select_option(label=next(t for t in options if "22" in t))
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name=re.compile(code)).wait_for()


def pick(page: Any, label: str, datalist: str, text: str) -> None:
    """Type into a field and take the suggestion that contains ``text``, as a person does."""
    options = page.locator(f"datalist#{datalist} option")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    page.get_by_label(label).fill(next(v for v in values if text in v))


def take_order(page: Any, slug: str, customer: str, code: str, quantity: str) -> str:
    """Fill the new sales order form; returns the order page's URL."""
    page.goto(f"/{slug}/orders/sales/new")
    pick(page, "Counterpart (code or name)", "parties", customer)
    page.get_by_label("Product code 1").fill(code)
    page.get_by_label("Quantity 1").fill(quantity)
    page.get_by_role("button", name="Save").click()
    page.locator("#order-state").wait_for()
    return page.url


def download(page: Any, link: str) -> Any:
    """Fetch what a link on the page points to, with the person's session (as a download)."""
    href = page.get_by_role("link", name=link, exact=True).get_attribute("href")
    response = page.context.request.get(href)
    assert response.ok, (href, response.status)
    return response


def ship(page: Any, order_url: str) -> str:
    """From a confirmed order: pick the goods and issue the transport document (DDT)."""
    page.goto(order_url)
    page.locator("#goods-link").click()
    page.get_by_role("button", name="Ship and issue the DDT").click()
    heading = page.get_by_role("heading", name=re.compile(r"Transport document DDT-"))
    heading.wait_for()
    ddt = re.search(r"DDT-\S+", heading.inner_text()).group(0)
    page.goto(order_url)
    assert page.locator("#order-state").inner_text() == "Shipped"
    return ddt


def draft_invoice(page: Any, slug: str, customer: str) -> str:
    """Invoice the customer's delivered orders; returns the draft invoice's URL."""
    page.goto(f"/{slug}/invoicing/from-orders")
    pick(page, "Customer (code or name)", "parties", customer)
    page.get_by_role("button", name="Show orders").click()
    page.get_by_role("button", name="Create the draft invoice").click()
    page.locator("#invoice-state").wait_for()
    assert page.locator("dd", has_text="OV-").inner_text().startswith("OV-")
    return page.url


def issue_and_download(page: Any, invoice_url: str) -> str:
    """Issue the invoice, then download its PDF and FatturaPA XML and look inside."""
    page.goto(invoice_url)
    page.get_by_role("button", name="Issue").click()
    expect(page.locator("#invoice-state")).to_have_text("Issued")
    number = re.search(r"Invoice (\S+)", page.get_by_role("heading", level=1).inner_text()).group(1)
    pdf = download(page, "PDF")
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body()[:5] == b"%PDF-"
    xml = download(page, "FatturaPA XML")
    root = ElementTree.fromstring(xml.body())
    assert root.tag.endswith("FatturaElettronica")
    assert root.findtext(".//{*}DatiGeneraliDocumento/{*}Numero") == number
    assert root.findtext(".//{*}CessionarioCommittente//{*}IdCodice") == "03777120167"
    return number


def test_clerk_of_firm_a_runs_the_sales_cycle(page, make_tenant, make_user):
    firm = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    clerk = make_user(firm, "admin", name="Giulia Bianchi")
    sign_in(page, clerk)

    create_customer(page, firm.slug, "Cliente Bergamo S.p.A.", "03777120167")
    create_product(page, firm.slug, "FL-50", "12,50")
    receive_stock(firm, "FL-50", "100")

    order_url = take_order(page, firm.slug, "Cliente Bergamo", "FL-50", "8")
    assert re.search(r"122[.,]00", page.locator("#order-total").inner_text())  # 8 x 12.50 + 22%
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#order-state")).to_have_text("Confirmed")

    ship(page, order_url)
    invoice_url = draft_invoice(page, firm.slug, "Cliente Bergamo")
    number = issue_and_download(page, invoice_url)
    assert number.startswith("1/")  # the first invoice of the year


APPROVAL_ABOVE = "1000"


def approval_workflow() -> dict[str, Any]:
    """The default sales-order workflow plus an owner's/admin's approval above 1,000 EUR."""
    from distretto.modules.orders.workflows import SALES_ORDER_WORKFLOW

    definition = copy.deepcopy(SALES_ORDER_WORKFLOW)
    definition["states"].insert(
        1,
        {
            "name": "awaiting_approval",
            "label": {"it": "In approvazione", "en": "Awaiting approval"},
            "locked_fields": ["party_id", "lines"],
        },
    )
    transitions = {t["name"]: t for t in definition["transitions"]}
    transitions["confirm"]["conditions"] = {
        "all": [
            {"field": "line_count", "op": ">", "value": 0},
            {"field": "total", "op": "<=", "value": APPROVAL_ABOVE},
        ]
    }
    transitions["cancel"]["from"].append("awaiting_approval")
    definition["transitions"][1:1] = [
        {
            "name": "request_approval",
            "label": {"it": "Chiedi approvazione", "en": "Ask for approval"},
            "from": ["draft"],
            "to": "awaiting_approval",
            "permission": "orders.edit",
            "conditions": {"field": "total", "op": ">", "value": APPROVAL_ABOVE},
        },
        {
            "name": "approve",
            "label": {"it": "Approva", "en": "Approve"},
            "from": ["awaiting_approval"],
            "to": "confirmed",
            "permission": "orders.cancel",  # owners and admins
            "comment_required": True,
            "style": "success",
            "actions": [{"name": "inventory.reserve_stock"}],
        },
    ]
    return definition


def test_clerk_of_firm_b_meets_the_approval_step_its_owner_added(new_page, make_tenant, make_user):
    from distretto.platform import workflow
    from distretto.platform.context import tenant_context
    from distretto.platform.db import db

    firm = seed_firm(make_tenant, "tessitura-verdi", "Tessitura Verdi S.p.A.")
    clerk = make_user(firm, "staff", name="Marco Neri")
    admin = make_user(firm, "admin", name="Anna Verdi")
    with tenant_context(firm, admin.id):
        workflow.publish("sales_order", approval_workflow(), note="approval above 1,000 EUR")
        db.session.commit()

    page = new_page()
    sign_in(page, clerk)
    create_customer(page, firm.slug, "Cliente Bergamo S.p.A.", "03777120167")
    create_product(page, firm.slug, "TS-1", "12,50")
    receive_stock(firm, "TS-1", "200")
    order_url = take_order(page, firm.slug, "Cliente Bergamo", "TS-1", "100")  # 1,525.00 EUR

    confirm = page.get_by_role("button", name="Confirm", exact=True)
    assert confirm.is_disabled()  # blocked: above the amount
    assert APPROVAL_ABOVE in page.locator("main").inner_text()  # the reason is shown
    page.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#order-state")).to_have_text("Awaiting approval")
    approve = page.get_by_role("button", name="Approve")
    assert approve.count() == 0 or approve.is_disabled()  # a clerk cannot approve

    boss = new_page()
    sign_in(boss, admin)
    boss.goto(order_url)
    boss.locator("#comment-approve").fill("ok, known customer")
    boss.get_by_role("button", name="Approve").click()
    expect(boss.locator("#order-state")).to_have_text("Confirmed")
    assert "ok, known customer" in boss.locator("#history").inner_text()

    ship(page, order_url)
    invoice_url = draft_invoice(page, firm.slug, "Cliente Bergamo")
    issue_and_download(boss, invoice_url)  # issuing is for owners and admins


def test_order_awaiting_approval_cannot_be_shipped_yet(page, make_tenant, make_user):
    from distretto.modules.orders import services as orders
    from distretto.platform import workflow
    from distretto.platform.context import tenant_context
    from distretto.platform.db import db

    firm = seed_firm(make_tenant, "tessitura-verdi", "Tessitura Verdi S.p.A.")
    clerk = make_user(firm, "staff")
    docs = seed_sales_documents(firm, clerk.id)
    with tenant_context(firm, clerk.id):
        workflow.publish("sales_order", approval_workflow(), note="approval above 1,000 EUR")
        big = orders.create_order(
            "sale",
            {
                "party_id": docs["party_id"],
                "lines": [{"product_id": docs["product_id"], "quantity": "90"}],
            },
        )
        workflow.apply(big, "sales_order", "request_approval", role="staff")
        db.session.commit()
        url = f"/{firm.slug}/orders/sales/{big.id}"
    sign_in(page, clerk)
    page.goto(url)
    expect(page.locator("#order-state")).to_have_text("Awaiting approval")
    assert page.locator("#goods-link").count() == 0
