"""The invoicing API: invoice what was shipped, issue it, download its XML, record payments."""

from __future__ import annotations

from typing import Any

from distretto.modules.invoicing import fatturapa
from tests.api.erp import (  # noqa: F401 - fixtures
    Erp,
    customer,
    draft_invoice,
    erp_fixture,
    fiscal_data,
    make_erp_firm_fixture,
    ok,
    shipped_order,
)


def test_ship_invoice_issue_download_and_get_paid(erp: Erp) -> None:
    api = erp.api
    fiscal_data(erp)
    party, order, shipment = shipped_order(api)
    invoice = ok(
        api.post("/invoicing/invoices/from-orders", {"order_ids": [order["id"]], "deferred": True}),
        201,
    )
    assert invoice["document_kind"] == "TD24"
    assert invoice["state"] == "draft"
    assert [d["number"] for d in invoice["ddt_references"]] == [shipment["number"]]
    assert invoice["total"] == "76.25"  # 5 x 12.50 + 22% VAT

    issued = ok(api.post(f"/invoicing/invoices/{invoice['id']}/transitions/issue", {}))
    assert issued["state"] == "issued"
    assert issued["number"]
    assert [d["amount"] for d in issued["dues"]] == ["76.25"]
    xml = api.get(f"/invoicing/invoices/{invoice['id']}/xml")
    assert xml.status_code == 200
    assert xml.content_type.startswith("application/xml")
    assert fatturapa.validate(xml.get_data(as_text=True)) == []
    assert shipment["number"] in xml.get_data(as_text=True)
    pdf = api.get(f"/invoicing/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")

    # the same payment sent twice with one Idempotency-Key is recorded once
    key = {"Idempotency-Key": "pagamento-bonifico-1"}
    body = {"amount": "50.00", "payment_date": issued["issue_date"], "note": "bonifico"}
    first = api.post(f"/invoicing/invoices/{invoice['id']}/payments", body, headers=key)
    again = api.post(f"/invoicing/invoices/{invoice['id']}/payments", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert first.get_json()["invoice_state"] == "partially_paid"
    payments = ok(api.get(f"/invoicing/invoices/{invoice['id']}/payments"))
    assert [p["amount"] for p in payments["items"]] == ["50.00"]
    rest = ok(api.post(f"/invoicing/invoices/{invoice['id']}/payments", {"amount": "26.25"}), 201)
    assert rest["invoice_state"] == "paid"
    assert rest["invoice_outstanding"] == "0.00"
    too_much = api.post(f"/invoicing/invoices/{invoice['id']}/payments", {"amount": "1"})
    assert too_much.status_code == 422

    listed = ok(api.get(f"/invoicing/invoices?state=paid&party_id={party['id']}"))
    assert [i["id"] for i in listed["items"]] == [invoice["id"]]
    assert ok(api.get("/invoicing/invoices?document_kind=TD01"))["total"] == 0
    # nothing left to invoice on that order
    again_orders = api.post("/invoicing/invoices/from-orders", {"order_ids": [order["id"]]})
    assert again_orders.status_code == 422


def test_issue_refused_names_what_to_fix(erp: Erp) -> None:
    api = erp.api  # no fiscal data for the firm: no address, no IBAN
    party = customer(api, sdi_code=None, pec=None)
    invoice = draft_invoice(api, party["id"])
    refused = api.post(f"/invoicing/invoices/{invoice['id']}/transitions/issue")
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "transition_refused"
    where = {p["where"] for p in problem["problems"]}
    assert {"firm", "customer"} <= where, problem
    after = ok(api.get(f"/invoicing/invoices/{invoice['id']}"))
    assert after["state"] == "draft"
    assert after["number"] is None
    assert api.get(f"/invoicing/invoices/{invoice['id']}/xml").status_code == 409


def test_a_stale_if_match_changes_nothing(erp: Erp) -> None:
    api = erp.api
    party = customer(api)
    invoice = draft_invoice(api, party["id"], notes="prima")
    path = f"/invoicing/invoices/{invoice['id']}"
    etag = api.get(path).headers["ETag"]
    assert api.patch(path, {"notes": "senza versione"}).status_code == 428
    changed = api.patch(
        path,
        {
            "notes": "seconda",
            "lines": [
                {
                    "description": "Fresatura",
                    "quantity": "1",
                    "unit_price": "10",
                    "vat_rate_id": invoice_rate(api),
                }
            ],
        },
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["total"] == "12.20"
    stale = api.patch(path, {"notes": "terza"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.get_json()["code"] == "stale"
    current = ok(api.get(path))
    assert current["notes"] == "seconda"
    assert current["total"] == "12.20"
    # a draft may be deleted; an issued invoice may not change
    assert api.client.delete(api.base + path, headers=api.headers()).status_code == 204
    assert api.get(path).status_code == 404


def test_a_firm_never_reaches_another_firms_invoices(make_erp_firm: Any) -> None:
    a, b = make_erp_firm(), make_erp_firm()
    invoice = draft_invoice(b.api, customer(b.api)["id"])
    path = f"/invoicing/invoices/{invoice['id']}"
    for url in (path, f"{path}/xml", f"{path}/pdf", f"{path}/payments"):
        assert a.api.get(url).status_code == 404, url
    assert a.api.patch(path, {"notes": "x"}, headers={"If-Match": '"x"'}).status_code == 404
    assert a.api.post(f"{path}/transitions/cancel").status_code == 404
    assert a.api.client.delete(a.api.base + path, headers=a.api.headers()).status_code == 404
    assert ok(a.api.get("/invoicing/invoices"))["total"] == 0
    foreign = a.api.client.get(f"{b.firm.base}{path}", headers=a.api.headers())
    assert foreign.status_code == 404
    assert ok(b.api.get(path))["state"] == "draft"


def invoice_rate(api: Any) -> int:
    from tests.api.conftest import vat_rate

    return vat_rate(api)
