"""FatturaPA XML of issued invoices: valid against the official XSD for every kind of invoice.

The helpers at the top (``firm``, ``customer``, ``draft``, ``issue``, ``tree``) are shared by
the other ``test_invoicing_*`` files.
"""

from datetime import date
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring
from flask_babel import force_locale

from distretto.modules.catalog import services as catalog
from distretto.modules.invoicing import fatturapa
from distretto.modules.invoicing import services as invoicing
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db

FISCAL = {
    "street": "Via Roma 1",
    "postcode": "24020",
    "city": "Gorle",
    "province": "BG",
    "regime": "RF01",
    "iban": "IT60X0542811101000000123456",
}
CUSTOMER_VAT = "03777120167"


def fiscal_firm(make_tenant, **fields):
    """A firm with the invoicing module and the fiscal data e-invoices need, committed."""
    tenant = make_tenant(modules=["catalog", "invoicing"], **fields)
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


@pytest.fixture
def firm(make_tenant):
    return fiscal_firm(make_tenant)


def _customer(**extra):
    data = {
        "legal_name": "Cliente S.r.l.",
        "is_customer": True,
        "vat_number": CUSTOMER_VAT,
        "street": "Via Verdi 2",
        "postcode": "24100",
        "city": "Bergamo",
        "province": "BG",
        "sdi_code": "ABC1234",
    }
    data.update(extra)
    return catalog.create_party(data)


customer = _customer


def rate_id(code):
    return catalog.vat_rate_by_code(code).id


def terms_id(code):
    return next(t.id for t in catalog.payment_terms() if t.code == code)


def line(price, vat="22", quantity="1", description="Lavorazione", **extra):
    return {
        "description": description,
        "quantity": str(quantity),
        "unit_price": str(price),
        "vat_rate_id": rate_id(vat),
        **extra,
    }


def draft(lines, party=None, **header):
    """A draft invoice to ``party`` (a new customer when None), flushed."""
    party = party if party is not None else _customer()
    invoice = invoicing.create_invoice({"party_id": party.id, "lines": lines, **header})
    db.session.flush()
    return invoice


def _issue(invoice):
    workflow.apply(invoice, "invoice", "issue", role="owner")
    assert invoice.number
    assert fatturapa.validate(invoice.xml_content) == []
    return invoice


issue = _issue


def tree(invoice):
    """The stored XML parsed; children are unqualified, so plain paths work."""
    return fromstring(invoice.xml_content.encode())


def texts(root, path):
    return [element.text for element in root.iterfind(path)]


BODY = "FatturaElettronicaBody"
RECAP = f"{BODY}/DatiBeniServizi/DatiRiepilogo"
DOCUMENT = f"{BODY}/DatiGenerali/DatiGeneraliDocumento"


@pytest.mark.parametrize(("code", "vat"), [("22", "22.00"), ("10", "10.00"), ("4", "4.00")])
def test_invoice_at_each_rate_produces_valid_fatturapa(firm, code, vat):
    with tenant_context(firm):
        invoice = _issue(draft([line("33.333", code, quantity="3")]))
        root = tree(invoice)
        assert texts(root, f"{RECAP}/AliquotaIVA") == [vat]
        assert texts(root, f"{RECAP}/ImponibileImporto") == ["100.00"]
        expected_vat = (Decimal("100.00") * Decimal(code) / 100).quantize(Decimal("0.01"))
        assert texts(root, f"{RECAP}/Imposta") == [str(expected_vat)]
        assert texts(root, f"{RECAP}/EsigibilitaIVA") == ["I"]
        assert texts(root, f"{DOCUMENT}/ImportoTotaleDocumento") == [
            str(Decimal("100.00") + expected_vat)
        ]
        assert texts(root, f"{DOCUMENT}/TipoDocumento") == ["TD01"]
        assert root.find(f"{DOCUMENT}/DatiBollo") is None
        assert root.get("versione") == "FPR12"


def test_exempt_invoice_over_threshold_gets_virtual_stamp_duty(firm):
    with tenant_context(firm):
        invoice = _issue(draft([line("77.48", "N2.2", description="Servizio")]))
        assert invoice.stamp_duty == Decimal("2.00")
        assert invoice.total == Decimal("79.48")
        root = tree(invoice)
        assert texts(root, f"{DOCUMENT}/DatiBollo/BolloVirtuale") == ["SI"]
        assert texts(root, f"{DOCUMENT}/DatiBollo/ImportoBollo") == ["2.00"]
        assert texts(root, f"{RECAP}/Natura") == ["N1", "N2.2"]
        assert "N2.2" in texts(root, f"{BODY}/DatiBeniServizi/DettaglioLinee/Natura")
        assert texts(root, f"{DOCUMENT}/ImportoTotaleDocumento") == ["79.48"]


def test_exempt_amount_of_exactly_77_47_has_no_stamp_duty(firm):
    with tenant_context(firm):
        invoice = _issue(draft([line("77.47", "N2.2", description="Servizio")]))
        assert invoice.stamp_duty == Decimal("0")
        assert invoice.total == Decimal("77.47")
        root = tree(invoice)
        assert root.find(f"{DOCUMENT}/DatiBollo") is None
        assert texts(root, f"{RECAP}/Natura") == ["N2.2"]


def test_reverse_charge_line_has_natura_n6_and_no_vat(firm):
    with tenant_context(firm):
        invoice = _issue(
            draft([line("500", "N6.3", description="Subappalto edile"), line("100", "22")])
        )
        assert invoice.stamp_duty == Decimal("0")  # reverse charge is not exempt from VAT
        assert invoice.vat_total == Decimal("22.00")
        assert invoice.total == Decimal("622.00")
        root = tree(invoice)
        recaps = {
            r.findtext("Natura") or r.findtext("AliquotaIVA"): r for r in root.iter("DatiRiepilogo")
        }
        reverse = recaps["N6.3"]
        assert reverse.findtext("AliquotaIVA") == "0.00"
        assert reverse.findtext("Imposta") == "0.00"
        assert reverse.findtext("ImponibileImporto") == "500.00"
        assert reverse.find("EsigibilitaIVA") is None
        assert "17" in reverse.findtext("RiferimentoNormativo")


def test_split_payment_invoice_marks_vat_s_and_asks_only_the_taxable(firm):
    with tenant_context(firm):
        pa = _customer(legal_name="Comune di Gorle", split_payment=True)
        invoice = _issue(draft([line("1000", "22")], party=pa, payment_terms_id=terms_id("BB30")))
        assert invoice.split_payment
        assert invoice.total == Decimal("1220.00")
        assert invoice.amount_due == Decimal("1000.00")
        root = tree(invoice)
        assert texts(root, f"{RECAP}/EsigibilitaIVA") == ["S"]
        assert texts(root, f"{DOCUMENT}/ImportoTotaleDocumento") == ["1220.00"]
        payments = texts(root, f"{BODY}/DatiPagamento/DettaglioPagamento/ImportoPagamento")
        assert payments == ["1000.00"]
        assert [due.amount for due in invoice.dues] == [Decimal("1000.00")]


def test_credit_note_references_the_invoice_it_corrects(firm):
    with tenant_context(firm):
        original = _issue(draft([line("250", "22")], issue_date=date(2026, 3, 2)))
        note = invoicing.credit_note_for(original)
        assert note.document_kind == "TD04"
        assert note.number is None
        _issue(note)
        root = tree(note)
        assert texts(root, f"{DOCUMENT}/TipoDocumento") == ["TD04"]
        linked = f"{BODY}/DatiGenerali/DatiFattureCollegate"
        assert texts(root, f"{linked}/IdDocumento") == [original.number]
        assert texts(root, f"{linked}/Data") == ["2026-03-02"]
        assert note.total == original.total
        assert note.sequence == original.sequence + 1  # same series, same sequence


def test_credit_note_of_a_draft_or_of_a_credit_note_is_refused(firm):
    with tenant_context(firm), force_locale("en"):
        pending = draft([line("10")])
        with pytest.raises(invoicing.InvoiceError, match="Only an issued invoice"):
            invoicing.credit_note_for(pending)
        note = _issue(invoicing.credit_note_for(_issue(draft([line("10")]))))
        with pytest.raises(invoicing.InvoiceError, match="Only an issued invoice"):
            invoicing.credit_note_for(note)


def test_several_instalments_riba_30_60_90_end_of_month(firm):
    with tenant_context(firm):
        invoice = _issue(
            draft(
                [line("100", "22")],
                issue_date=date(2026, 1, 15),
                payment_terms_id=terms_id("RB306090"),
            )
        )
        assert invoice.total == Decimal("122.00")
        dues = [(d.due_date, d.amount, d.method) for d in invoice.dues]
        assert dues == [
            (date(2026, 2, 28), Decimal("40.66"), "MP12"),
            (date(2026, 3, 31), Decimal("40.66"), "MP12"),
            (date(2026, 4, 30), Decimal("40.68"), "MP12"),  # the last absorbs the rounding
        ]
        assert sum(amount for _d, amount, _m in dues) == invoice.total
        root = tree(invoice)
        detail = f"{BODY}/DatiPagamento/DettaglioPagamento"
        assert texts(root, f"{BODY}/DatiPagamento/CondizioniPagamento") == ["TP01"]
        assert texts(root, f"{detail}/ModalitaPagamento") == ["MP12"] * 3
        assert texts(root, f"{detail}/DataScadenzaPagamento") == [
            "2026-02-28",
            "2026-03-31",
            "2026-04-30",
        ]
        assert texts(root, f"{detail}/ImportoPagamento") == ["40.66", "40.66", "40.68"]


def test_bank_transfer_due_carries_the_firms_iban(firm):
    with tenant_context(firm):
        invoice = _issue(
            draft([line("10")], issue_date=date(2026, 5, 4), payment_terms_id=terms_id("BB30FM"))
        )
        root = tree(invoice)
        detail = f"{BODY}/DatiPagamento/DettaglioPagamento"
        assert texts(root, f"{detail}/ModalitaPagamento") == ["MP05"]
        assert texts(root, f"{detail}/DataScadenzaPagamento") == ["2026-06-30"]
        assert texts(root, f"{detail}/IBAN") == [FISCAL["iban"]]
        assert texts(root, f"{BODY}/DatiPagamento/CondizioniPagamento") == ["TP02"]


def test_sdi_file_name_is_it_vat_underscore_five_characters_and_unique(firm):
    with tenant_context(firm):
        names = [_issue(draft([line("10")])).sdi_filename for _ in range(4)]
        assert len(set(names)) == 4
        for name in names:
            stem, ext = name.rsplit(".", 1)
            assert ext == "xml"
            prefix, progressive = stem.split("_")
            assert prefix == f"IT{firm.vat_number}"
            assert len(progressive) == 5
            assert progressive.isalnum()
        root = tree(_issue(draft([line("10")])))
        header = "FatturaElettronicaHeader/DatiTrasmissione"
        assert texts(root, f"{header}/IdTrasmittente/IdCodice") == [firm.vat_number]


def test_recipient_with_pec_only_gets_code_0000000_and_the_pec(firm):
    with tenant_context(firm):
        party = _customer(sdi_code=None, pec="cliente@pec.example.it")
        root = tree(_issue(draft([line("10")], party=party)))
        header = "FatturaElettronicaHeader/DatiTrasmissione"
        assert texts(root, f"{header}/CodiceDestinatario") == ["0000000"]
        assert texts(root, f"{header}/PECDestinatario") == ["cliente@pec.example.it"]


# --- deferred invoice (TD24) from shipped orders ------------------------------------------


@pytest.fixture
def trading_firm(make_tenant):
    tenant = make_tenant(modules=["catalog", "orders", "inventory", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


def shipped_order(party, product, quantity, shipped_on, ship=None):
    """A confirmed sales order of ``quantity`` ``product``; ``ship`` units go out on a DDT."""
    from distretto.modules.inventory import services as inventory
    from distretto.modules.orders import services as orders

    order = orders.create_order(
        "sale", {"party_id": party.id, "lines": [{"product_id": product.id, "quantity": quantity}]}
    )
    workflow.apply(order, "sales_order", "confirm", role="owner")
    stock_line = order.stock_lines()[0]
    shipment = inventory.create_shipment(
        party_id=party.id,
        lines=[(stock_line, Decimal(ship or quantity))],
        source=("sales_order", order.id, order.number),
        shipment_date=shipped_on,
    )
    inventory.ship(shipment)
    db.session.flush()
    return order, shipment


def stocked_product(price="12.50", quantity="100"):
    from distretto.modules.inventory import services as inventory

    product = catalog.create_product(
        {
            "code": f"ART-{next(_codes)}",
            "description": "Flangia DN50",
            "sale_price": price,
            "vat_rate_id": rate_id("22"),
        }
    )
    inventory.receive(lines=[(product.id, Decimal(quantity), Decimal("4"), None)])
    return product


_codes = iter(range(1, 10_000))


def test_deferred_invoice_lists_the_transport_documents_of_shipped_orders(trading_firm):
    with tenant_context(trading_firm):
        party = _customer()
        product = stocked_product()
        first, ddt1 = shipped_order(party, product, "4", date(2026, 10, 3))
        second, ddt2 = shipped_order(party, product, "6", date(2026, 10, 20))
        invoice = invoicing.invoice_from_orders([first.id, second.id], deferred=True)
        assert invoice.document_kind == "TD24"
        assert invoice.taxable_total == Decimal("125.00")  # 10 x 12.50
        _issue(invoice)
        root = tree(invoice)
        assert texts(root, f"{DOCUMENT}/TipoDocumento") == ["TD24"]
        ddts = f"{BODY}/DatiGenerali/DatiDDT"
        assert texts(root, f"{ddts}/NumeroDDT") == [ddt1.number, ddt2.number]
        assert texts(root, f"{ddts}/DataDDT") == ["2026-10-03", "2026-10-20"]
        orders = f"{BODY}/DatiGenerali/DatiOrdineAcquisto/IdDocumento"
        assert texts(root, orders) == [first.number, second.number]


def test_second_deferred_invoice_lists_only_the_new_transport_documents(trading_firm):
    with tenant_context(trading_firm), force_locale("en"):
        party = _customer()
        product = stocked_product()
        order, ddt1 = shipped_order(party, product, "10", date(2026, 9, 10), ship="4")
        _issue(invoicing.invoice_from_orders([order.id], deferred=True))
        from distretto.modules.inventory import services as inventory

        stock_line = order.stock_lines()[0]
        ddt2 = inventory.create_shipment(
            party_id=party.id,
            lines=[(stock_line, Decimal("6"))],
            source=("sales_order", order.id, order.number),
            shipment_date=date(2026, 10, 5),
        )
        inventory.ship(ddt2)
        later = invoicing.invoice_from_orders([order.id], deferred=True)
        assert [line.quantity for line in later.lines] == [Decimal("6")]
        assert [ref["number"] for ref in later.ddt_references] == [ddt2.number]
        _issue(later)
        assert texts(tree(later), f"{BODY}/DatiGenerali/DatiDDT/NumeroDDT") == [ddt2.number]
        with pytest.raises(invoicing.InvoiceError, match="Nothing delivered is left"):
            invoicing.invoice_from_orders([order.id], deferred=True)


def test_deferred_invoice_needs_transport_documents(trading_firm):
    from distretto.modules.orders import services as orders

    with tenant_context(trading_firm), force_locale("en"):
        party = _customer()
        order = orders.create_order(
            "sale", {"party_id": party.id, "lines": [line("10", description="Consulenza")]}
        )
        workflow.apply(order, "sales_order", "confirm", role="owner")
        with pytest.raises(invoicing.InvoiceError, match="Nothing delivered|transport documents"):
            invoicing.invoice_from_orders([order.id], deferred=True)


def test_orders_of_different_customers_cannot_share_an_invoice(trading_firm):
    with tenant_context(trading_firm), force_locale("en"):
        product = stocked_product()
        one, _ = shipped_order(_customer(), product, "1", date(2026, 10, 3))
        other, _ = shipped_order(
            _customer(legal_name="Altro S.p.A."), product, "1", date(2026, 10, 3)
        )
        with pytest.raises(invoicing.InvoiceError, match="different customers"):
            invoicing.invoice_from_orders([one.id, other.id])


# --- refusals with where to fix -----------------------------------------------------------


def test_missing_recipient_code_and_pec_is_refused_with_where_to_fix(firm):
    with tenant_context(firm):
        rate = catalog.vat_rate_by_code("22")
        customer = _customer(sdi_code=None, legal_name="Senza Codice S.r.l.")
        invoice = invoicing.create_invoice(
            {
                "party_id": customer.id,
                "lines": [
                    {
                        "description": "X",
                        "quantity": "1",
                        "unit_price": "10",
                        "vat_rate_id": rate.id,
                    }
                ],
            }
        )
        with force_locale("en"), pytest.raises(workflow.TransitionRefused) as refused:
            workflow.apply(invoice, "invoice", "issue", role="owner")
        assert "neither SDI code nor PEC" in str(refused.value)
        assert invoice.number is None
        assert invoice.state == "draft"


def test_the_schema_check_names_the_line_and_element_of_a_violation(firm):
    with tenant_context(firm):
        invoice = issue(draft([line("10")]))
        broken = invoice.xml_content.replace("<TipoDocumento>TD01<", "<TipoDocumento>TD99<")
        errors = fatturapa.validate(broken)
    assert len(errors) == 1
    assert errors[0].startswith("line ")
    assert "TipoDocumento" in errors[0]
    assert "TD99" in errors[0]


def test_the_schema_check_expands_no_entities_and_reads_no_network():
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b SYSTEM "http://127.0.0.1:9/secret">]><x>&a;&b;</x>'
    )
    errors = fatturapa.validate(hostile)
    assert errors  # refused (not a FatturaElettronica), without fetching or expanding anything
    assert "aaaaaaaaaa" not in " ".join(errors)
