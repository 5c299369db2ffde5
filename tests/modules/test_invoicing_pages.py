from distretto.modules.catalog import services as catalog
from distretto.modules.invoicing import services as invoicing
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token


def test_owner_issues_an_invoice_and_downloads_pdf_and_xml(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(
            {"street": "Via Roma 1", "postcode": "24020", "city": "Gorle", "province": "BG"}
        )
        customer = catalog.create_party(
            {
                "legal_name": "Cliente S.r.l.",
                "is_customer": True,
                "vat_number": "03777120167",
                "street": "Via Verdi 2",
                "postcode": "24100",
                "city": "Bergamo",
                "sdi_code": "ABC1234",
            }
        )
        db.session.commit()
        code = customer.code
    base = f"/{tenant.slug}/invoicing"
    for path in (
        "/invoices",
        "/invoices/new",
        "/overdue",
        "/received",
        "/reports",
        "/settings",
        "/from-orders",
    ):
        response = client.get(base + path)
        assert response.status_code in (200, 303), (path, response.status_code)
    token = csrf_token(client, base + "/invoices/new")
    created = client.post(
        base + "/invoices/new",
        data={
            "csrf_token": token,
            "party_code": code,
            "issue_date": "2026-11-27",
            "lines-0-description": "Lavorazione",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "50",
            "lines-0-vat_code": "22",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)[-2000:]
    detail = created.headers["Location"]
    issued = client.post(detail + "/transitions/issue", data={"csrf_token": token})
    assert issued.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert "122,00" in page or "122.00" in page
    assert 'id="invoice-state">Issued<' in page
    assert client.get(detail + ".pdf").data[:4] == b"%PDF"
    xml = client.get(detail + ".xml")
    assert xml.status_code == 200
    assert b"<TipoDocumento>TD01</TipoDocumento>" in xml.data
