from decimal import Decimal

import pytest
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


@pytest.fixture
def firm(make_tenant):
    tenant = make_tenant(modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


def _customer(**extra):
    data = {
        "legal_name": "Cliente S.r.l.",
        "is_customer": True,
        "vat_number": "03777120167",
        "street": "Via Verdi 2",
        "postcode": "24100",
        "city": "Bergamo",
        "province": "BG",
        "sdi_code": "ABC1234",
    }
    data.update(extra)
    return catalog.create_party(data)


def _issue(invoice):
    workflow.apply(invoice, "invoice", "issue", role="owner")
    assert invoice.number
    assert fatturapa.validate(invoice.xml_content) == []
    return invoice


@pytest.mark.parametrize("code", ["22", "10", "4"])
def test_invoice_at_each_rate_produces_valid_fatturapa(firm, code):
    with tenant_context(firm):
        rate = catalog.vat_rate_by_code(code)
        customer = _customer()
        invoice = invoicing.create_invoice(
            {
                "party_id": customer.id,
                "lines": [
                    {
                        "description": "Lavorazione",
                        "quantity": "3",
                        "unit_price": "33.333",
                        "vat_rate_id": rate.id,
                    }
                ],
            }
        )
        _issue(invoice)
        assert f"<AliquotaIVA>{Decimal(code):.2f}</AliquotaIVA>" in invoice.xml_content
        assert invoice.sdi_filename.startswith("IT")


def test_exempt_invoice_over_threshold_gets_virtual_stamp_duty(firm):
    with tenant_context(firm):
        rate = catalog.vat_rate_by_code("N2.2")
        invoice = invoicing.create_invoice(
            {
                "party_id": _customer().id,
                "lines": [
                    {
                        "description": "Servizio",
                        "quantity": "1",
                        "unit_price": "100",
                        "vat_rate_id": rate.id,
                    }
                ],
            }
        )
        _issue(invoice)
        assert invoice.stamp_duty == Decimal("2.00")
        assert invoice.total == Decimal("102.00")
        assert "<BolloVirtuale>SI</BolloVirtuale>" in invoice.xml_content


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
