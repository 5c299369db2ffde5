"""How the cross-firm route sweep exercises the invoicing API (``invoicing_api.*``).

Builders come from :mod:`distretto.modules.invoicing.route_cases`; invoice
numbers restart in every firm but ids do not, so the URLs carry ids only. A
transition's ``name`` is not an id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from distretto.modules.catalog.route_cases import payment_terms_id, vat_rate_id
from distretto.modules.invoicing.route_cases import (
    WITH_ORDERS,
    _shipped_order,
    billed_customer,
    draft_invoice,
    fiscal_data,
    issued_invoice,
)
from distretto.testing.routes import RouteRequest, SweepFirm, response_text, route_case


def _etag(invoice: Any) -> str:
    from distretto.modules.invoicing.api import InvoiceOut
    from distretto.platform.api import etag_of
    from distretto.platform.db import db

    db.session.flush()
    db.session.expire_all()
    return f'"{etag_of(InvoiceOut().dump(invoice))}"'


def _invoice(invoice_id: int) -> Any:
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    return db.session.get(Invoice, invoice_id)


@route_case("invoicing_api.list_invoices", "GET")
def _invoices(firm: SweepFirm) -> None:
    from distretto.modules.invoicing import services

    draft_invoice(firm)
    services.credit_note_for(issued_invoice(firm))


def _drafted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert body["state"] == "draft", body
    assert _invoice(body["id"]).party_id == request.json["party_id"]


@route_case("invoicing_api.create_invoice", "POST", verify=_drafted)
def _create(firm: SweepFirm) -> RouteRequest:
    fiscal_data()
    return RouteRequest(
        json={
            "party_id": billed_customer(firm).id,
            "notes": firm.unique("nota"),
            "lines": [
                {
                    "description": firm.unique("Lavorazione"),
                    "quantity": "2",
                    "unit_price": "30",
                    "vat_rate_id": vat_rate_id("22"),
                }
            ],
        }
    )


def _deferred(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert (body["document_kind"], body["state"]) == ("TD24", "draft"), body
    assert len(body["ddt_references"]) == 1, body


@route_case("invoicing_api.invoice_orders", "POST", modules=WITH_ORDERS, verify=_deferred)
def _from_orders(firm: SweepFirm) -> RouteRequest:
    order, _shipment = _shipped_order(firm)
    return RouteRequest(json={"order_ids": [order.id], "deferred": True})


@route_case("invoicing_api.get_invoice", "GET")
@route_case("invoicing_api.invoice_pdf", "GET")
@route_case("invoicing_api.list_payments", "GET")
@route_case("invoicing_api.invoice_xml", "GET")
def _issued(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.invoicing import services

    invoice = issued_invoice(firm, payment_terms_id=payment_terms_id("RB3060"))
    services.register_payment(invoice, "10", note=firm.unique("acconto"))
    return {"invoice_id": invoice.id}


def _patched(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    invoice = _invoice(request.url["invoice_id"])
    assert invoice.notes == request.json["notes"], response_text(response)


@route_case("invoicing_api.update_invoice", "PATCH", verify=_patched)
def _update(firm: SweepFirm) -> RouteRequest:
    invoice = draft_invoice(firm)
    return RouteRequest(
        url={"invoice_id": invoice.id},
        json={"notes": firm.unique("nuova nota")},
        headers={"If-Match": _etag(invoice)},
    )


def _deleted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _invoice(request.url["invoice_id"]) is None


@route_case("invoicing_api.delete_invoice", "DELETE", expect_ok={204}, verify=_deleted)
def _delete(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"invoice_id": draft_invoice(firm).id})


@route_case("invoicing_api.credit_note", "POST", expect_ok={201})
def _credit_note(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"invoice_id": issued_invoice(firm).id}, json={})


def _issued_now(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    body = response.get_json()
    assert body["state"] == "issued", body
    assert body["number"], body


@route_case("invoicing_api.invoice_transition", "POST", shared_values={"name"}, verify=_issued_now)
def _issue(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"invoice_id": draft_invoice(firm).id, "name": "issue"}, json={})


def _paid(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    invoice = _invoice(request.url["invoice_id"])
    assert Decimal(invoice.paid_total) == Decimal("10"), response_text(response)


@route_case("invoicing_api.record_payment", "POST", expect_ok={201}, verify=_paid)
def _pay(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        url={"invoice_id": issued_invoice(firm).id},
        json={"amount": "10", "note": firm.unique("bonifico")},
    )


@route_case("invoicing_api.list_overdue", "GET")
def _overdue(firm: SweepFirm) -> None:
    last_year = date(date.today().year - 1, 3, 2)
    issued_invoice(firm, last_year, payment_terms_id=payment_terms_id("RB3060"))
    issued_invoice(firm)  # not due yet
