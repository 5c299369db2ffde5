"""How the cross-firm route sweep exercises the invoicing pages (see ``distretto.testing.routes``).

Every build gives its firm the fiscal data e-invoices need, customers with a full
address and an SDI code (names from :meth:`SweepFirm.unique`, so firm B's are
telltales), and invoices made and issued through the invoicing services: drafts,
issued invoices with a FatturaPA XML, credit notes, payments, supplier invoices
imported from XML. Invoice numbers restart in every firm (``1/2026`` in both),
so they are not telltales; the URLs carry database ids, which differ.

The ``verify`` functions check that A's request did its work in A: issuing numbers
A's invoice (after A's earlier one), a payment lands on A's invoice, an imported
file becomes A's supplier invoice, the register lists A's customers.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET  # noqa: S405 - parses XML this app produced
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from distretto.modules.catalog.route_cases import customer, payment_terms_id, product
from distretto.testing.routes import RouteRequest, SweepFirm, response_text, route_case

WITH_ORDERS = ("catalog", "orders", "inventory")
FISCAL = {
    "street": "Via Roma 1",
    "postcode": "24020",
    "city": "Gorle",
    "province": "BG",
    "regime": "RF01",
    "iban": "IT60X0542811101000000123456",
}
SUPPLIER_VAT = "04521870164"  # a valid partita IVA, the same supplier in both firms


def fiscal_data() -> None:
    """The firm's address and IBAN, which issuing needs."""
    from distretto.modules.invoicing import services

    services.update_fiscal_settings(dict(FISCAL))


def billed_customer(firm: SweepFirm, **extra: Any) -> Any:
    """A customer with everything an e-invoice needs (address, SDI code), flushed."""
    return customer(
        firm,
        street=firm.unique("Via dei Mille"),
        postcode="24100",
        province="BG",
        sdi_code="ABC1234",
        **extra,
    )


def draft_invoice(firm: SweepFirm, on: date | None = None, **header: Any) -> Any:
    """A draft invoice of ``firm`` to a new customer (two lines), flushed."""
    from distretto.modules.catalog.route_cases import vat_rate_id
    from distretto.modules.invoicing import services
    from distretto.platform.db import db

    fiscal_data()
    invoice = services.create_invoice(
        {
            "party_id": billed_customer(firm).id,
            "issue_date": on or date.today(),
            "lines": [
                {"product_id": product(firm).id, "quantity": "4"},
                {
                    "description": firm.unique("Lavorazione"),
                    "quantity": "2",
                    "unit_price": "50",
                    "vat_rate_id": vat_rate_id("22"),
                },
            ],
            "notes": firm.unique("nota"),
            **header,
        }
    )
    db.session.flush()
    return invoice


def issued_invoice(firm: SweepFirm, on: date | None = None, **header: Any) -> Any:
    """An issued invoice of ``firm`` (numbered, with its XML), flushed."""
    from distretto.platform import workflow
    from distretto.platform.db import db

    invoice = draft_invoice(firm, on, **header)
    workflow.apply(invoice, "invoice", "issue", role="owner")
    db.session.flush()
    return invoice


def received_xml(firm: SweepFirm, number: str | None = None) -> bytes:
    """A supplier's FatturaPA addressed to ``firm``; the supplier's name is a telltale."""
    supplier = firm.unique("Trafileria")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<p:FatturaElettronica versione="FPR12"
    xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2">
  <FatturaElettronicaHeader>
    <DatiTrasmissione>
      <IdTrasmittente><IdPaese>IT</IdPaese><IdCodice>{SUPPLIER_VAT}</IdCodice></IdTrasmittente>
      <ProgressivoInvio>00001</ProgressivoInvio>
      <FormatoTrasmissione>FPR12</FormatoTrasmissione>
      <CodiceDestinatario>0000000</CodiceDestinatario>
    </DatiTrasmissione>
    <CedentePrestatore>
      <DatiAnagrafici>
        <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>{SUPPLIER_VAT}</IdCodice></IdFiscaleIVA>
        <Anagrafica><Denominazione>{supplier}</Denominazione></Anagrafica>
        <RegimeFiscale>RF01</RegimeFiscale>
      </DatiAnagrafici>
      <Sede><Indirizzo>Via del Ferro 9</Indirizzo><CAP>25065</CAP><Comune>Lumezzane</Comune>
        <Provincia>BS</Provincia><Nazione>IT</Nazione></Sede>
    </CedentePrestatore>
    <CessionarioCommittente>
      <DatiAnagrafici>
        <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>{firm.tenant.vat_number}</IdCodice>
        </IdFiscaleIVA>
        <Anagrafica><Denominazione>{firm.legal_name}</Denominazione></Anagrafica>
      </DatiAnagrafici>
      <Sede><Indirizzo>Via Roma 1</Indirizzo><CAP>24020</CAP><Comune>Gorle</Comune>
        <Nazione>IT</Nazione></Sede>
    </CessionarioCommittente>
  </FatturaElettronicaHeader>
  <FatturaElettronicaBody>
    <DatiGenerali>
      <DatiGeneraliDocumento>
        <TipoDocumento>TD01</TipoDocumento><Divisa>EUR</Divisa>
        <Data>2026-02-14</Data><Numero>{number or firm.unique("FT")}</Numero>
        <ImportoTotaleDocumento>12.20</ImportoTotaleDocumento>
      </DatiGeneraliDocumento>
    </DatiGenerali>
    <DatiBeniServizi>
      <DettaglioLinee>
        <NumeroLinea>1</NumeroLinea><Descrizione>{firm.unique("Filo di acciaio")}</Descrizione>
        <PrezzoUnitario>10.00</PrezzoUnitario><PrezzoTotale>10.00</PrezzoTotale>
        <AliquotaIVA>22.00</AliquotaIVA>
      </DettaglioLinee>
      <DatiRiepilogo>
        <AliquotaIVA>22.00</AliquotaIVA><ImponibileImporto>10.00</ImponibileImporto>
        <Imposta>2.20</Imposta><EsigibilitaIVA>I</EsigibilitaIVA>
      </DatiRiepilogo>
    </DatiBeniServizi>
  </FatturaElettronicaBody>
</p:FatturaElettronica>
""".encode()


def imported(firm: SweepFirm) -> Any:
    """A supplier invoice imported into ``firm`` from XML, flushed."""
    from distretto.modules.invoicing import services

    return services.import_received(received_xml(firm), firm.unique("IT_fattura") + ".xml")


def _get(model: Any, row_id: int) -> Any:
    from distretto.platform.db import db

    return db.session.get(model, row_id)


def _invoice(request: RouteRequest) -> Any:
    from distretto.modules.invoicing.models import Invoice

    return _get(Invoice, request.url["document_id"])


def _party_name(party_id: int) -> str:
    from distretto.modules.catalog.models import Party

    return _get(Party, party_id).legal_name


# --- lists and pages ------------------------------------------------------------------------


@route_case("invoicing.invoices", "GET")
def _invoices(firm: SweepFirm) -> None:
    from distretto.modules.invoicing import services

    draft_invoice(firm)
    services.credit_note_for(issued_invoice(firm))


@route_case("invoicing.invoice_detail", "GET")
def _invoice_page(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.invoicing import services

    invoice = issued_invoice(firm, payment_terms_id=payment_terms_id("RB3060"))
    services.register_payment(invoice, "10", note=firm.unique("acconto"))
    return {"document_id": invoice.id}


def _courtesy_copy(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    invoice = _invoice(request)
    assert response.mimetype == "application/pdf"
    printed = response_text(response)
    assert invoice.number in printed
    assert _party_name(invoice.party_id) in printed
    for line in invoice.lines:
        assert line.description in printed, f"{line.description} is not printed"
    assert "The legally valid invoice is the electronic one" in printed  # the firm's English


@route_case("invoicing.invoice_pdf", "GET", verify=_courtesy_copy)
def _invoice_pdf(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": issued_invoice(firm).id}


def _fatturapa(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.invoicing import fatturapa

    invoice = _invoice(request)
    body = response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    assert invoice.sdi_filename in response.headers["Content-Disposition"]
    assert body == invoice.xml_content
    assert fatturapa.validate(body) == []
    root = ET.fromstring(response.get_data())  # noqa: S314 - this app's own output
    seller = "FatturaElettronicaHeader/CedentePrestatore/DatiAnagrafici"
    assert root.findtext(f"{seller}/IdFiscaleIVA/IdCodice") == firm.tenant.vat_number
    buyer = "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici"
    assert root.findtext(f"{buyer}/Anagrafica/Denominazione") == _party_name(invoice.party_id)
    document = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
    assert root.findtext(f"{document}/Numero") == invoice.number
    assert Decimal(root.findtext(f"{document}/ImportoTotaleDocumento")) == invoice.total


@route_case("invoicing.invoice_xml", "GET", verify=_fatturapa)
def _invoice_xml(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": issued_invoice(firm).id}


# --- actions on an invoice -----------------------------------------------------------------------


def _numbered_after_the_first(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.invoicing import fatturapa
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    invoice = _invoice(request)
    year = date.today().year
    assert invoice.state == "issued"
    assert (invoice.sequence, invoice.number) == (2, f"2/{year}")
    assert fatturapa.validate(invoice.xml_content) == []
    assert invoice.sdi_filename.startswith(f"IT{firm.tenant.vat_number}_")
    numbers = db.session.execute(
        select(Invoice.number).where(Invoice.number.is_not(None)).order_by(Invoice.sequence)
    ).scalars()
    assert list(numbers) == [f"1/{year}", f"2/{year}"]


# A refused step answers 303: only 302 is an invoice issued. Each firm has issued one
# invoice already, so A's draft must become A's number 2 (B's counter is B's alone).
@route_case(
    "invoicing.invoice_transition",
    "POST",
    expect_ok={302},
    shared_values={"name"},
    verify=_numbered_after_the_first,
)
def _issue(firm: SweepFirm) -> RouteRequest:
    issued_invoice(firm)
    return RouteRequest(
        url={"document_id": draft_invoice(firm).id, "name": "issue"},
        data={"comment": firm.unique("emessa")},
    )


def _draft_deleted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _invoice(request) is None
    assert response.headers["Location"].endswith("/invoicing/invoices")


@route_case("invoicing.delete_invoice", "POST", expect_ok={302}, verify=_draft_deleted)
def _delete(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": draft_invoice(firm).id}


def _credit_note_drafted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    invoice = _invoice(request)
    note = db.session.execute(select(Invoice).where(Invoice.corrects_id == invoice.id)).scalar_one()
    assert (note.document_kind, note.state, note.number) == ("TD04", "draft", None)
    assert note.party_id == invoice.party_id
    assert note.total == invoice.total
    assert response.headers["Location"].endswith(f"/invoices/{note.id}")


@route_case("invoicing.credit_note", "POST", expect_ok={302}, verify=_credit_note_drafted)
def _credit_note(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": issued_invoice(firm).id}


def _payment_registered(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.invoicing.models import Payment
    from distretto.platform.db import db

    assert request.data is not None
    invoice = _invoice(request)
    payment = db.session.execute(select(Payment)).scalar_one()
    assert payment.invoice_id == invoice.id
    assert (payment.amount, payment.note) == (Decimal("50.00"), request.data["note"])
    assert invoice.paid_total == Decimal("50.00")
    assert invoice.state == "partially_paid"
    assert invoice.dues[0].paid_amount == Decimal("50.00")


@route_case("invoicing.register_payment", "POST", expect_ok={302}, verify=_payment_registered)
def _payment(firm: SweepFirm) -> RouteRequest:
    invoice = issued_invoice(firm, payment_terms_id=payment_terms_id("RB3060"))
    return RouteRequest(
        url={"document_id": invoice.id},
        data={
            "amount": "50,00",
            "payment_date": date.today().isoformat(),
            "note": firm.unique("bonifico"),
        },
    )


# --- the invoice form -------------------------------------------------------------------------


@route_case("invoicing.new_invoice", "GET")
def _new_invoice_form(firm: SweepFirm) -> None:
    billed_customer(firm)  # offered in the customer list
    product(firm)  # offered in the product list


def _invoice_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    data = request.data
    assert data is not None
    invoice = db.session.execute(
        select(Invoice).where(Invoice.causale == data["causale"])
    ).scalar_one()
    party = db.session.execute(select(Party).where(Party.code == data["party_code"])).scalar_one()
    assert invoice.party_id == party.id
    assert invoice.state == "draft"
    assert invoice.number is None
    assert invoice.payment_terms_id == int(data["payment_terms_id"])
    assert [line.description for line in invoice.lines][1] == data["lines-1-description"]
    assert invoice.taxable_total == Decimal("5.00") + Decimal("25.00")
    assert response.headers["Location"].endswith(f"/invoices/{invoice.id}")


# The customer and products are typed as codes and the terms chosen by id: B's in A's
# form are unknown in A (400, the form shown again), and nothing of B's is touched.
@route_case(
    "invoicing.new_invoice",
    "POST",
    expect_ok={302},
    id_fields={"party_code", "lines-0-product_code", "payment_terms_id"},
    expect_denied={400},
    verify=_invoice_saved,
)
def _new_invoice(firm: SweepFirm) -> RouteRequest:
    fiscal_data()
    return RouteRequest(
        data={
            "party_code": billed_customer(firm).code,
            "issue_date": date.today().isoformat(),
            "payment_terms_id": str(payment_terms_id("RB3060")),
            "causale": firm.unique("causale"),
            "lines-0-product_code": product(firm).code,
            "lines-0-quantity": "4",
            "lines-1-description": firm.unique("Trasporto"),
            "lines-1-quantity": "1",
            "lines-1-unit_price": "25",
            "lines-1-vat_code": "22",
        }
    )


# --- invoicing delivered orders ----------------------------------------------------------------


def _shipped_order(firm: SweepFirm) -> tuple[Any, Any]:
    """A customer's confirmed order with one unit shipped on a DDT: (order, shipment)."""
    from distretto.modules.inventory.route_cases import shipped
    from distretto.modules.orders.models import Order

    fiscal_data()
    shipment = shipped(firm)
    return _get(Order, shipment.source_id), shipment


@route_case("invoicing.from_orders", "GET", modules=WITH_ORDERS)
def _from_orders_form(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog.models import Party

    order, _shipment = _shipped_order(firm)
    return RouteRequest(query={"party": _get(Party, order.party_id).code})


def _deferred_invoice_drafted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory.models import Shipment
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    assert request.data is not None
    order_id = int(request.data["order_id"])
    invoice = db.session.execute(select(Invoice)).scalar_one()
    shipment = db.session.execute(
        select(Shipment).where(Shipment.source_id == order_id)
    ).scalar_one()
    assert (invoice.document_kind, invoice.state) == ("TD24", "draft")
    assert [ref["id"] for ref in invoice.ddt_references] == [shipment.id]
    assert [ref["id"] for ref in invoice.order_references] == [order_id]
    assert [line.quantity for line in invoice.lines] == [Decimal("1")]  # what was shipped
    assert response.headers["Location"].endswith(f"/invoices/{invoice.id}")


# B's order in A's form is not among A's customer's orders: refused (400), nothing made.
@route_case(
    "invoicing.from_orders",
    "POST",
    modules=WITH_ORDERS,
    expect_ok={302},
    id_fields={"order_id"},
    expect_denied={400},
    verify=_deferred_invoice_drafted,
)
def _from_orders(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog.models import Party

    order, _shipment = _shipped_order(firm)
    return RouteRequest(
        data={
            "party_code": _get(Party, order.party_id).code,
            "order_id": str(order.id),
            "deferred": "y",
            "create": "1",
        }
    )


# --- payments due, received invoices, reports ------------------------------------------------


@route_case("invoicing.overdue", "GET")
def _overdue(firm: SweepFirm) -> None:
    last_year = date(date.today().year - 1, 3, 2)
    issued_invoice(firm, last_year, payment_terms_id=payment_terms_id("RB3060"))
    issued_invoice(firm)  # not due yet


@route_case("invoicing.received", "GET")
def _received_list(firm: SweepFirm) -> None:
    imported(firm)


def _supplier_invoice_imported(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party
    from distretto.modules.invoicing.models import ReceivedInvoice
    from distretto.platform.db import db

    assert request.data is not None
    _upload, filename = request.data["file"]
    root = ET.fromstring(_uploads[filename])  # noqa: S314 - the file the build wrote
    received = db.session.execute(select(ReceivedInvoice)).scalar_one()
    document = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
    assert received.number == root.findtext(f"{document}/Numero")
    assert received.filename == filename
    assert received.total == Decimal("12.20")
    supplier = _get(Party, received.party_id)
    seller = "FatturaElettronicaHeader/CedentePrestatore/DatiAnagrafici"
    assert supplier.legal_name == root.findtext(f"{seller}/Anagrafica/Denominazione")
    assert supplier.vat_number == SUPPLIER_VAT
    assert supplier.is_supplier
    assert response.headers["Location"].endswith(f"/received/{received.id}")


_uploads: dict[str, bytes] = {}  # file name -> content (the request closes the upload)


@route_case("invoicing.received", "POST", expect_ok={302}, verify=_supplier_invoice_imported)
def _import_received(firm: SweepFirm) -> RouteRequest:
    billed_customer(firm)
    filename = firm.unique("IT_fattura") + ".xml"
    _uploads[filename] = received_xml(firm)
    return RouteRequest(data={"file": (io.BytesIO(_uploads[filename]), filename)})


@route_case("invoicing.received_detail", "GET")
def _received_page(firm: SweepFirm) -> dict[str, Any]:
    return {"record_id": imported(firm).id}


@route_case("invoicing.reports", "GET")
def _reports(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.invoicing import services

    services.credit_note_for(issued_invoice(firm))
    return RouteRequest(query={"year": str(date.today().year)})


def _register_of_own_invoices(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import db

    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    issued = db.session.execute(select(Invoice).where(Invoice.number.is_not(None))).scalars()
    for invoice in issued:
        assert _party_name(invoice.party_id) in body
        assert f"{invoice.number};{invoice.document_kind}" in body
    assert ";-" in body  # the credit note's amounts are negative


@route_case(
    "invoicing.vat_register_csv",
    "GET",
    shared_values={"start", "end"},
    verify=_register_of_own_invoices,
)
def _vat_register(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.invoicing import services
    from distretto.platform import workflow

    note = services.credit_note_for(issued_invoice(firm))
    workflow.apply(note, "invoice", "issue", role="owner")
    today = date.today()
    return RouteRequest(
        query={"start": (today - timedelta(days=31)).isoformat(), "end": today.isoformat()}
    )


# --- fiscal data -----------------------------------------------------------------------------


@route_case("invoicing.settings", "GET")
def _settings_form(firm: SweepFirm) -> None:
    from distretto.modules.invoicing import services

    services.update_fiscal_settings({**FISCAL, "street": firm.unique("Via Garibaldi")})


def _fiscal_data_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.tenants.models import Tenant

    assert request.data is not None
    fiscal = _get(Tenant, firm.tenant_id).settings["fiscal"]
    assert fiscal["street"] == request.data["street"]
    assert (fiscal["province"], fiscal["tax_code"]) == ("BS", "04521870164")


@route_case("invoicing.settings", "POST", expect_ok={302}, verify=_fiscal_data_saved)
def _save_settings(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        data={
            **FISCAL,
            "street": firm.unique("Via Garibaldi"),
            "province": "bs",
            "tax_code": "04521870164",
        }
    )


# the API endpoints (invoicing_api.*)
import distretto.modules.invoicing.api_route_cases  # noqa: E402, F401 - registers on import
