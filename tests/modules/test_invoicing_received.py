"""Received FatturaPA files (supplier invoices): imported, matched to the supplier by VAT
number, and refused with a clear reason when malformed, not for this firm, or duplicated."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party
from distretto.modules.invoicing import services as invoicing
from distretto.modules.invoicing.models import ReceivedInvoice
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.modules.test_invoicing_xml import (
    FISCAL,
    customer,
    draft,
    fiscal_firm,
    issue,
    line,
)


@pytest.fixture
def firm(make_tenant):
    return fiscal_firm(make_tenant)


SUPPLIER_VAT = "04521870164"  # a valid partita IVA

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<p:FatturaElettronica versione="FPR12"
    xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2">
  <FatturaElettronicaHeader>
    <DatiTrasmissione>
      <IdTrasmittente><IdPaese>IT</IdPaese><IdCodice>{supplier}</IdCodice></IdTrasmittente>
      <ProgressivoInvio>00001</ProgressivoInvio>
      <FormatoTrasmissione>FPR12</FormatoTrasmissione>
      <CodiceDestinatario>0000000</CodiceDestinatario>
    </DatiTrasmissione>
    <CedentePrestatore>
      <DatiAnagrafici>
        <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>{supplier}</IdCodice></IdFiscaleIVA>
        <Anagrafica><Denominazione>Trafileria Bresciana S.p.A.</Denominazione></Anagrafica>
        <RegimeFiscale>RF01</RegimeFiscale>
      </DatiAnagrafici>
      <Sede>
        <Indirizzo>Via del Ferro 9</Indirizzo><CAP>25065</CAP><Comune>Lumezzane</Comune>
        <Provincia>BS</Provincia><Nazione>IT</Nazione>
      </Sede>
    </CedentePrestatore>
    <CessionarioCommittente>
      <DatiAnagrafici>
        <IdFiscaleIVA><IdPaese>IT</IdPaese><IdCodice>{buyer}</IdCodice></IdFiscaleIVA>
        <Anagrafica><Denominazione>Noi S.r.l.</Denominazione></Anagrafica>
      </DatiAnagrafici>
      <Sede>
        <Indirizzo>Via Roma 1</Indirizzo><CAP>24020</CAP><Comune>Gorle</Comune>
        <Nazione>IT</Nazione>
      </Sede>
    </CessionarioCommittente>
  </FatturaElettronicaHeader>
  <FatturaElettronicaBody>
    <DatiGenerali>
      <DatiGeneraliDocumento>
        <TipoDocumento>TD01</TipoDocumento><Divisa>EUR</Divisa>
        <Data>2026-02-14</Data><Numero>{number}</Numero>
        <ImportoTotaleDocumento>12.20</ImportoTotaleDocumento>
      </DatiGeneraliDocumento>
    </DatiGenerali>
    <DatiBeniServizi>
      <DettaglioLinee>
        <NumeroLinea>1</NumeroLinea><Descrizione>Filo di acciaio</Descrizione>
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
"""


def minimal(tenant, number="FT-77", supplier=SUPPLIER_VAT, buyer=None):
    """The hand-written file, sent by ``supplier`` to ``tenant`` (or to ``buyer``)."""
    buyer = buyer or tenant.vat_number
    return MINIMAL.format(supplier=supplier, buyer=buyer, number=number).encode()


def counts():
    return (
        db.session.execute(select(func.count()).select_from(ReceivedInvoice)).scalar_one(),
        db.session.execute(select(func.count()).select_from(Party)).scalar_one(),
    )


@pytest.fixture
def supplier_firm(make_tenant):
    tenant = make_tenant(modules=["catalog", "invoicing"], legal_name="Fonderia Fornitrice S.r.l.")
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


def issued_by(supplier_firm, buyer, *prices, issue_date=date(2026, 2, 2)):
    """The XML of an invoice ``supplier_firm`` issues to the firm ``buyer``; ``prices`` are
    (price, VAT code) of its lines."""
    with tenant_context(supplier_firm):
        party = customer(legal_name=buyer.legal_name, vat_number=buyer.vat_number)
        lines = [line(price, vat) for price, vat in prices]
        invoice = issue(draft(lines, party=party, issue_date=issue_date))
        db.session.commit()
        return invoice.xml_content, invoice.number, invoice.sdi_filename


def test_invoice_generated_by_another_firm_imports_and_creates_the_supplier(firm, supplier_firm):
    xml, number, filename = issued_by(
        supplier_firm, firm, ("100", "22"), ("50", "10"), ("80", "N2.2")
    )
    with tenant_context(firm):
        received = invoicing.import_received(xml.encode(), filename)
        db.session.commit()
        assert received.number == number
        assert received.issue_date == date(2026, 2, 2)
        assert received.document_kind == "TD01"
        assert received.taxable_total == Decimal("232.00")  # with the 2.00 stamp duty
        assert received.vat_total == Decimal("27.00")
        assert received.total == Decimal("259.00")
        assert received.filename == filename
        supplier = db.session.get(Party, received.party_id)
        assert supplier.legal_name == "Fonderia Fornitrice S.r.l."
        assert supplier.vat_number == supplier_firm.vat_number
        assert supplier.is_supplier
        assert not supplier.is_customer
        assert (supplier.postcode, supplier.city) == ("24020", "Gorle")
        assert [row["natura"] for row in received.summary] == [None, None, "N1", "N2.2"]
        assert len(received.lines) == 4


def test_second_invoice_of_the_same_supplier_is_matched_by_vat_number(firm, supplier_firm):
    first, _n, _f = issued_by(supplier_firm, firm, ("10", "22"))
    second, _n, _f = issued_by(supplier_firm, firm, ("20", "22"))
    with tenant_context(firm):
        one = invoicing.import_received(first.encode())
        two = invoicing.import_received(second.encode())
        assert one.party_id == two.party_id
        suppliers = db.session.execute(
            select(Party).where(Party.vat_number == supplier_firm.vat_number)
        ).scalars()
        assert len(list(suppliers)) == 1


def test_hand_written_minimal_file_is_matched_to_the_existing_supplier(firm):
    with tenant_context(firm):
        existing = catalog.create_party(
            {
                "legal_name": "Trafileria (anagrafica nostra)",
                "is_supplier": True,
                "vat_number": SUPPLIER_VAT,
            }
        )
        also_customer = catalog.create_party(
            {"legal_name": "Omonimo cliente", "is_customer": True, "vat_number": "03777120167"}
        )
        before = counts()
        received = invoicing.import_received(minimal(firm), "IT04521870164_00001.xml")
        assert received.party_id == existing.id != also_customer.id
        assert counts() == (before[0] + 1, before[1])
        assert (received.number, received.total) == ("FT-77", Decimal("12.20"))
        assert received.lines[0]["description"] == "Filo di acciaio"
        assert received.lines[0]["quantity"] is None  # Quantita is optional


def test_customer_with_the_suppliers_vat_becomes_a_supplier_too(firm):
    with tenant_context(firm):
        party = catalog.create_party(
            {"legal_name": "Cliente e fornitore", "is_customer": True, "vat_number": SUPPLIER_VAT}
        )
        received = invoicing.import_received(minimal(firm))
        assert received.party_id == party.id
        assert party.is_supplier
        assert party.is_customer


def _refused(content, match):
    with force_locale("en"), pytest.raises(invoicing.InvoiceError, match=match) as caught:
        invoicing.import_received(content, "upload.xml")
    assert caught.value.field == "file"
    db.session.rollback()
    return str(caught.value)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<FatturaElettronica>&lol2;</FatturaElettronica>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<p:FatturaElettronica xmlns:p="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
 versione="FPR12">&xxe;</p:FatturaElettronica>"""
# a DTD further down than the quick check looks, caught by the parser itself
LATE_DTD = b"<?xml version='1.0'?>" + b"<!-- " + b"x" * 3000 + b" -->" + b"<!DOCTYPE a []><a/>"


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda t: b"%PDF-1.4 not an invoice", "not well-formed XML"),
        (lambda t: b"", "not well-formed XML"),
        (lambda t: b"<Fattura><Numero>1</Numero></Fattura>", "not a FatturaPA invoice"),
        (
            lambda t: minimal(t).replace(b"<Divisa>EUR</Divisa>", b""),
            "does not match the FatturaPA schema",
        ),
        (
            lambda t: minimal(t).replace(b"<Data>2026-02-14</Data>", b"<Data>14/02/26</Data>"),
            "does not match the FatturaPA schema",
        ),
        (lambda t: BILLION_LAUGHS, "DTDs are not allowed"),
        (lambda t: XXE, "DTDs are not allowed"),
        (lambda t: LATE_DTD, "not well-formed XML|DTDs are not allowed"),
        (lambda t: b"x" * 5_000_001, "larger than 5 MB"),
        (
            lambda t: minimal(t, supplier="12345678901"),
            "supplier.*not a valid Italian VAT number",
        ),
        (
            lambda t: minimal(t, buyer="03777120167"),
            "addressed to Noi S.r.l. .*03777120167.*not to this firm",
        ),
    ],
    ids=[
        "not-xml",
        "empty",
        "wrong-root",
        "xsd-missing-element",
        "xsd-bad-date",
        "billion-laughs",
        "external-entity",
        "late-dtd",
        "too-large",
        "bad-supplier-vat",
        "another-firms-invoice",
    ],
)
def test_malformed_or_foreign_file_is_refused_and_nothing_is_written(firm, make, match):
    with tenant_context(firm):
        before = counts()
        _refused(make(firm), match)
        assert counts() == before


def test_file_with_several_invoices_is_refused(firm):
    with tenant_context(firm):
        content = minimal(firm)
        start = content.index(b"<FatturaElettronicaBody>")
        end = content.index(b"</FatturaElettronicaBody>") + len(b"</FatturaElettronicaBody>")
        batch = content[:end] + content[start:end] + content[end:]
        before = counts()
        _refused(batch, "holds 2 invoices")
        assert counts() == before


def test_duplicate_is_refused_and_nothing_is_written(firm, supplier_firm):
    xml, number, _f = issued_by(supplier_firm, firm, ("10", "22"))
    with tenant_context(firm):
        invoicing.import_received(xml.encode())
        db.session.commit()
        before = counts()
        message = _refused(xml.encode(), "already imported")
        assert number in message
        assert "Fonderia Fornitrice S.r.l." in message
        assert counts() == before


def test_file_in_latin_1_keeps_its_accents(firm):
    with tenant_context(firm):
        content = (
            minimal(firm)
            .replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
            .replace(b"Filo di acciaio", "Filo d'acciaio temprato è".encode("latin-1"))
        )
        received = invoicing.import_received(content)
        assert received.lines[0]["description"] == "Filo d'acciaio temprato è"
        assert "temprato è" in received.xml_content


def test_file_with_a_utf_8_byte_order_mark_imports(firm):
    with tenant_context(firm):
        received = invoicing.import_received(b"\xef\xbb\xbf" + minimal(firm))
        assert received.number == "FT-77"
