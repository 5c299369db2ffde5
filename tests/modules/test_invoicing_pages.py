from datetime import date

import pytest
from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party
from distretto.modules.invoicing import services as invoicing
from distretto.modules.invoicing.models import Invoice, Payment, ReceivedInvoice
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token
from tests.modules.test_invoicing_received import minimal
from tests.modules.test_invoicing_xml import FISCAL, customer, draft, issue, line, terms_id


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
            "issue_date": date.today().isoformat(),
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


# --- user mistakes are answered with a message, never a 500 ----------------------------------


@pytest.fixture
def office(tenant_client):
    """(client, tenant, base URL, CSRF token) for the owner of a firm with fiscal data."""
    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    base = f"/{tenant.slug}/invoicing"
    return client, tenant, base, csrf_token(client, base + "/invoices/new")


def _text(response):
    return " ".join(response.get_data(as_text=True).split())


def _count(tenant, model):
    db.session.commit()
    with tenant_context(tenant):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_new_invoice_form_shows_the_discount_header_with_one_percent_sign(office):
    client, _tenant, base, _token = office
    page = _text(client.get(base + "/invoices/new"))
    assert "Discount %<" in page
    assert "%%" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"party_code": ""}, "Choose a customer."),
        ({"party_code": "NOBODY"}, "Choose a customer."),
        ({"lines-0-product_code": "NOPE"}, "Line 1: unknown product NOPE."),
        ({"lines-0-vat_code": "99"}, "Line 1: unknown VAT code 99."),
        ({"lines-0-quantity": "tre"}, "tre is not a number."),
        ({"lines-0-quantity": "0,0001"}, "0,0001 is not allowed here."),
        ({"lines-0-quantity": "99999999999"}, "99999999999 is not allowed here."),
        (
            {"lines-0-quantity": "9999999", "lines-0-unit_price": "9999999"},
            "The line amount is too large.",
        ),
        ({"lines-0-discount_percent": "120"}, "The discount is between 0 and 100%."),
        ({"lines-0-unit_price": "-3"}, "-3 is not allowed here."),
        ({"payment_terms_id": "abc"}, "Unknown payment terms."),
        ({"payment_terms_id": "999999"}, "Unknown payment terms."),
        ({"series": "A B"}, "A series is up to 10 letters, digits, -, _ or /."),
        ({"issue_date": "2026-02-30"}, "Not a valid date value."),
        (
            {
                "lines-0-description": "",
                "lines-0-quantity": "",
                "lines-0-unit_price": "",
                "lines-0-vat_code": "",
            },
            "An invoice needs at least one line.",
        ),
    ],
)
def test_new_invoice_with_a_mistake_is_refused_with_a_message(office, fields, message):
    client, tenant, base, token = office
    with tenant_context(tenant):
        code = customer().code
        db.session.commit()
    data = {
        "csrf_token": token,
        "party_code": code,
        "issue_date": "2026-03-02",
        "lines-0-description": "Lavorazione",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "50",
        "lines-0-vat_code": "22",
        **fields,
    }
    response = client.post(base + "/invoices/new", data=data)
    assert response.status_code == 400
    assert message in _text(response)
    assert _count(tenant, Invoice) == 0


def test_refused_issue_sends_back_to_the_page_with_what_to_fix_and_links(office):
    client, tenant, base, token = office
    with tenant_context(tenant):
        party = customer(sdi_code=None, legal_name="Muta S.r.l.")
        invoice = draft([line("10")], party=party, issue_date=date(2026, 3, 2))
        db.session.commit()
        detail, party_id = f"{base}/invoices/{invoice.id}", party.id
    before = _text(client.get(detail))
    assert "Before issuing, fix:" in before
    assert f"/catalog/parties/{party_id}/edit" in before
    assert "Muta S.r.l. has neither SDI code nor PEC" in before

    response = client.post(detail + "/transitions/issue", data={"csrf_token": token})

    assert response.status_code == 303
    page = _text(client.get(detail))
    assert "The e-invoice cannot be issued: Customer: Muta S.r.l. has neither SDI code" in page
    assert 'id="invoice-state">Draft<' in page
    with tenant_context(tenant):
        party = db.session.get(Party, party_id)
        catalog.update_party(
            party,
            {
                "legal_name": party.legal_name,
                "is_customer": True,
                "vat_number": party.vat_number,
                "pec": "muta@pec.example.it",
                "street": party.street,
                "postcode": party.postcode,
                "city": party.city,
            },
        )
        db.session.commit()
    assert client.post(detail + "/transitions/issue", data={"csrf_token": token}).status_code == 302
    with tenant_context(tenant):
        assert db.session.get(Invoice, invoice.id).number == "1/2026"


def test_issued_invoice_cannot_be_deleted_from_its_page(office):
    client, tenant, base, token = office
    with tenant_context(tenant):
        invoice = issue(draft([line("10")], issue_date=date(2026, 3, 2)))
        pending = draft([line("10")])
        db.session.commit()
        issued_id, pending_id = invoice.id, pending.id
    response = client.post(f"{base}/invoices/{issued_id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert "Only drafts can be deleted" in _text(client.get(f"{base}/invoices/{issued_id}"))
    assert _count(tenant, Invoice) == 2
    removed = client.post(f"{base}/invoices/{pending_id}/delete", data={"csrf_token": token})
    assert removed.status_code == 302
    assert _count(tenant, Invoice) == 1
    assert client.get(f"{base}/invoices/{pending_id}").status_code == 404


@pytest.mark.parametrize(
    ("amount", "payment_date", "message"),
    [
        ("200", "2026-03-05", "200.00 is more than the 122.00 still due."),
        ("zero", "2026-03-05", "zero is not a number."),
        ("0,001", "2026-03-05", "0,001 is not allowed here."),
        ("10", "2026-13-05", "The payment date is not valid."),
    ],
)
def test_wrong_payment_is_refused_with_a_message(office, amount, payment_date, message):
    client, tenant, base, token = office
    with tenant_context(tenant):
        invoice = issue(draft([line("100")], issue_date=date(2026, 3, 2)))
        db.session.commit()
        detail = f"{base}/invoices/{invoice.id}"
    response = client.post(
        detail + "/payments",
        data={"csrf_token": token, "amount": amount, "payment_date": payment_date},
    )
    assert response.status_code == 303
    assert message in _text(client.get(detail))
    assert _count(tenant, Payment) == 0


def test_payment_registered_from_the_page_moves_the_state(office):
    client, tenant, base, token = office
    with tenant_context(tenant):
        invoice = issue(
            draft([line("100")], issue_date=date(2026, 3, 2), payment_terms_id=terms_id("RB3060"))
        )
        db.session.commit()
        detail = f"{base}/invoices/{invoice.id}"
    first = client.post(
        detail + "/payments",
        data={"csrf_token": token, "amount": "61,00", "payment_date": "2026-04-30"},
    )
    assert first.status_code == 302
    assert 'id="invoice-state">Partially paid<' in _text(client.get(detail))
    client.post(
        detail + "/payments",
        data={"csrf_token": token, "amount": "61", "payment_date": "2026-05-31"},
    )
    page = _text(client.get(detail))
    assert 'id="invoice-state">Paid<' in page
    assert "Register payment" not in page


def test_received_import_page_refuses_bad_files_and_imports_good_ones(office):
    client, tenant, base, token = office

    def upload(content, name="fattura.xml"):
        import io

        return client.post(
            base + "/received",
            data={"csrf_token": token, "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )

    missing = client.post(base + "/received", data={"csrf_token": token})
    assert missing.status_code == 400
    assert "Choose a FatturaPA XML file." in _text(missing)
    for content, message in (
        (b"not xml at all", "The file is not well-formed XML"),
        (b"<Fattura/>", "The file is not a FatturaPA invoice."),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DTDs are not allowed"),
    ):
        refused = upload(content)
        assert refused.status_code == 400
        assert message in _text(refused)
    assert (_count(tenant, ReceivedInvoice), _count(tenant, Party)) == (0, 0)

    imported = upload(minimal(tenant), "IT04521870164_00001.xml")
    assert imported.status_code == 302
    page = _text(client.get(imported.headers["Location"]))
    assert "FT-77" in page
    assert "Trafileria Bresciana S.p.A." in page
    again = upload(minimal(tenant))
    assert again.status_code == 400
    assert "is already imported" in _text(again)
    assert (_count(tenant, ReceivedInvoice), _count(tenant, Party)) == (1, 1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"postcode": "2402"}, "An Italian postcode (CAP) has 5 digits."),
        ({"province": "Bergamo"}, "Use the two-letter province code (e.g. BG)."),
        ({"tax_code": "XYZ"}, "XYZ is not a valid codice fiscale."),
        ({"iban": "IT00X123"}, "The IBAN is not valid."),
        ({"regime": "RF99"}, "Unknown tax regime."),
    ],
)
def test_fiscal_settings_refuse_what_the_e_invoice_would_reject(office, fields, message):
    client, tenant, base, token = office
    data = {"csrf_token": token, **FISCAL, **fields}
    response = client.post(base + "/settings", data=data)
    assert response.status_code == 400
    assert message in _text(response)


def test_fiscal_settings_are_saved_normalised(office):
    client, tenant, base, token = office
    data = {**FISCAL, "province": "bs", "tax_code": "04521870164", "csrf_token": token}
    assert client.post(base + "/settings", data=data).status_code == 302
    db.session.commit()
    with tenant_context(tenant):
        from distretto.tenants.models import Tenant

        fiscal = db.session.get(Tenant, tenant.id).settings["fiscal"]
        assert (fiscal["province"], fiscal["tax_code"]) == ("BS", "04521870164")


def test_overdue_page_lists_past_due_instalments(office):
    client, tenant, base, _token = office
    with tenant_context(tenant):
        party = customer(legal_name="Ritardatari S.n.c.")
        issue(
            draft(
                [line("100")],
                party=party,
                issue_date=date(2026, 1, 15),
                payment_terms_id=terms_id("RB3060"),
            )
        )
        db.session.commit()
    page = _text(client.get(base + "/overdue"))
    assert "Ritardatari S.n.c." in page
    assert "61.00" in page or "61,00" in page


def test_staff_cannot_issue_and_viewer_cannot_create(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        invoice = draft([line("10")], issue_date=date(2026, 3, 2))
        db.session.commit()
        detail = f"/{tenant.slug}/invoicing/invoices/{invoice.id}"
    token = csrf_token(client, detail)
    assert client.post(detail + "/transitions/issue", data={"csrf_token": token}).status_code == 303
    with tenant_context(tenant):
        assert db.session.get(Invoice, invoice.id).number is None
    viewer, other, _v = tenant_client("viewer", modules=["catalog", "invoicing"])
    assert viewer.get(f"/{other.slug}/invoicing/invoices/new").status_code == 403
    assert viewer.get(f"/{other.slug}/invoicing/invoices").status_code == 200


def test_invoice_from_orders_page_without_orders_is_refused(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "orders", "invoicing"])
    with tenant_context(tenant):
        code = customer().code
        db.session.commit()
    base = f"/{tenant.slug}/invoicing/from-orders"
    token = csrf_token(client, base)
    response = client.post(base, data={"csrf_token": token, "party_code": code, "create": "1"})
    assert response.status_code == 400
    assert "Choose one or more orders of the customer." in _text(response)
    assert _count(tenant, Invoice) == 0
    no_customer = client.post(base, data={"csrf_token": token, "party_code": ""})
    assert no_customer.status_code == 400
    assert "Choose a customer." in _text(no_customer)
