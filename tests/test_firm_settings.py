"""Firm self-service: firm data (what the next invoices carry), the logo, roles of members,
and a suspended firm's users refused with the reason until the operator resumes it."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from distretto.modules.invoicing import services as invoicing
from distretto.platform.audit import AuditEntry
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.files import StoredFile
from distretto.tenants.models import Membership, Tenant
from distretto.testing.firm_routes import tiny_png
from distretto.testing.plugin import csrf_token
from tests.modules.test_invoicing_reports import pdf_text
from tests.modules.test_invoicing_xml import FISCAL, draft, issue, line, tree

NEW_VAT = "02456780168"  # a valid partita IVA (Luhn check digit)

FIRM_DATA = {
    "legal_name": "Tessiture Nuove S.r.l.",
    "vat_number": f"IT {NEW_VAT}",
    "tax_code": NEW_VAT,
    "street": "Via dei Telai 7",
    "postcode": "24121",
    "city": "Bergamo",
    "province": "bg",
    "country": "IT",
    "phone": "035 123456",
    "email": "info@tessiture.example",
    "pec": "",
    "default_locale": "en",
}


def post_firm(client, tenant, **changes):
    path = f"/{tenant.slug}/settings/firm"
    data = {**FIRM_DATA, **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data)


def upload_logo(client, tenant, data, filename="logo.png"):
    path = f"/{tenant.slug}/settings/firm"
    return client.post(
        f"{path}/logo",
        data={"logo": (io.BytesIO(data), filename), "csrf_token": csrf_token(client, path)},
        content_type="multipart/form-data",
    )


def fresh(tenant):
    db.session.commit()
    return db.session.get(Tenant, tenant.id)


def test_edited_firm_data_is_what_the_next_invoice_carries(tenant_client):
    client, tenant, _owner = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))  # regime and IBAN stay the invoicing's
        db.session.commit()

    response = post_firm(client, tenant)
    assert response.status_code == 303
    page = client.get(f"/{tenant.slug}/settings/firm").get_data(as_text=True)
    assert "Tessiture Nuove S.r.l." in page
    assert "Via dei Telai 7" in page

    tenant = fresh(tenant)
    assert tenant.vat_number == NEW_VAT
    assert tenant.settings["fiscal"]["province"] == "BG"
    assert tenant.settings["fiscal"]["iban"] == FISCAL["iban"]  # left alone
    with tenant_context(tenant):
        invoice = issue(draft([line("100")]))
        invoice_id = invoice.id
        root = tree(invoice)
        assert invoice.sdi_filename.startswith(f"IT{NEW_VAT}_")
        db.session.commit()
        entry = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "firm.updated")
        ).scalar_one()
        assert entry.summary["city"] == ["Gorle", "Bergamo"]
    seller = "FatturaElettronicaHeader/CedentePrestatore"
    assert root.findtext(f"{seller}/DatiAnagrafici/IdFiscaleIVA/IdCodice") == NEW_VAT
    assert root.findtext(f"{seller}/DatiAnagrafici/CodiceFiscale") == NEW_VAT
    assert (
        root.findtext(f"{seller}/DatiAnagrafici/Anagrafica/Denominazione")
        == "Tessiture Nuove S.r.l."
    )
    assert root.findtext(f"{seller}/Sede/Indirizzo") == "Via dei Telai 7"
    assert root.findtext(f"{seller}/Sede/CAP") == "24121"
    assert root.findtext(f"{seller}/Sede/Comune") == "Bergamo"
    assert root.findtext(f"{seller}/Sede/Provincia") == "BG"

    pdf = client.get(f"/{tenant.slug}/invoicing/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Tessiture Nuove S.r.l." in text
    assert "Via dei Telai 7" in text
    assert "24121 Bergamo (BG)" in text
    assert f"P.IVA IT{NEW_VAT}" in text
    assert "info@tessiture.example" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vat_number": "12345678901"}, "12345678901 is not a valid Italian VAT number."),
        ({"legal_name": ""}, "This field is required."),
        ({"postcode": "2412"}, "An Italian postcode (CAP) has 5 digits."),
        ({"province": "B1"}, "Use the two-letter province code (e.g. BG)."),
        ({"tax_code": "NOTACODE"}, "NOTACODE is not a valid codice fiscale."),
        ({"email": "not-an-address"}, "not-an-address"),
        ({"default_locale": "fr"}, "Not a valid choice"),
    ],
    ids=["vat", "name", "postcode", "province", "tax-code", "email", "language"],
)
def test_bad_firm_data_is_refused_on_its_field_and_nothing_is_written(
    tenant_client, changes, message
):
    client, tenant, _owner = tenant_client("owner")
    before = (tenant.legal_name, tenant.vat_number, dict(tenant.settings or {}))
    response = post_firm(client, tenant, **changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is-invalid" in html
    assert message in html
    tenant = fresh(tenant)
    assert (tenant.legal_name, tenant.vat_number, dict(tenant.settings or {})) == before


def test_staff_cannot_edit_the_firm_data(tenant_client, make_user, login):
    _client, tenant, _owner = tenant_client("owner")
    staff = login(make_user(tenant, "staff"))
    assert staff.get(f"/{tenant.slug}/settings/firm").status_code == 403
    assert post_firm(staff, tenant).status_code in (400, 403)
    assert fresh(tenant).legal_name != FIRM_DATA["legal_name"]


def test_logo_is_shown_in_the_header_and_printed(tenant_client, make_user, login):
    client, tenant, _owner = tenant_client("owner", modules=["catalog", "invoicing"])
    png = tiny_png(4, 2)
    assert upload_logo(client, tenant, png).status_code == 303

    home = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert f'src="/{tenant.slug}/logo?v=' in home
    served = client.get(f"/{tenant.slug}/logo")
    assert served.status_code == 200
    assert served.data == png
    assert served.headers["Content-Type"] == "image/png"
    # every member may see it, nobody outside the firm
    viewer = login(make_user(tenant, "viewer"))
    assert viewer.get(f"/{tenant.slug}/logo").status_code == 200
    outsider = login(make_user())
    assert outsider.get(f"/{tenant.slug}/logo").status_code == 404

    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        invoice_id = issue(draft([line("10")])).id
        db.session.commit()
    pdf = client.get(f"/{tenant.slug}/invoicing/invoices/{invoice_id}.pdf").data
    assert b"/Subtype /Image" in pdf

    # a second upload replaces the first
    assert upload_logo(client, tenant, tiny_png(3, 3)).status_code == 303
    with tenant_context(tenant):
        assert len(db.session.execute(select(StoredFile.id)).all()) == 1


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"GIF89a" + b"\x00" * 40, "logo.png", "The logo must be a PNG or JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "must be a PNG or JPEG"),
        (b"", "logo.png", "Choose a PNG or JPEG image."),
        (None, "big.png", "The logo is too large: at most 64 KB."),
    ],
    ids=["gif-named-png", "svg", "empty", "too-large"],
)
def test_refused_logo_leaves_nothing(app, tenant_client, data, filename, message):
    client, tenant, _owner = tenant_client("owner")
    if data is None:
        # a smaller cap than the default 512 KB, so the test's upload stays in memory
        app.config["MAX_LOGO_BYTES"] = 64 * 1024
        data = tiny_png() + b"\x00" * (64 * 1024)
    with force_locale("en"):
        response = upload_logo(client, tenant, data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with tenant_context(tenant):
        assert db.session.execute(select(StoredFile.id)).first() is None
    assert "logo" not in (fresh(tenant).settings or {})
    assert client.get(f"/{tenant.slug}/logo").status_code == 404


# --- members and roles ---------------------------------------------------------------------


def change_role(client, tenant, membership_id, role):
    path = f"/{tenant.slug}/settings/members"
    return client.post(
        f"{path}/{membership_id}/role", data={"role": role, "csrf_token": csrf_token(client, path)}
    )


def membership_of(tenant, user):
    with tenant_context(tenant):
        return db.session.execute(
            select(Membership).where(Membership.user_id == user.id)
        ).scalar_one()


def role_of(tenant, user):
    db.session.commit()
    return membership_of(tenant, user).role


def test_owner_changes_roles_and_the_trail_records_it(tenant_client, make_user):
    client, tenant, owner = tenant_client("owner")
    person = make_user(tenant, "staff")
    response = change_role(client, tenant, membership_of(tenant, person).id, "admin")
    assert response.status_code == 302
    assert role_of(tenant, person) == "admin"
    response = change_role(client, tenant, membership_of(tenant, person).id, "owner")
    assert response.status_code == 302
    assert role_of(tenant, person) == "owner"
    with tenant_context(tenant):
        changes = [
            e.summary["role"]
            for e in db.session.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "member.role_changed")
                .order_by(AuditEntry.seq)
            ).scalars()
        ]
    assert changes == [["staff", "admin"], ["admin", "owner"]]
    # with a second owner, the first may step down
    assert change_role(client, tenant, membership_of(tenant, owner).id, "admin").status_code == 302
    assert role_of(tenant, owner) == "admin"


def test_the_last_owner_can_be_neither_demoted_nor_removed(tenant_client):
    client, tenant, owner = tenant_client("owner")
    mine = membership_of(tenant, owner).id
    response = change_role(client, tenant, mine, "admin")
    assert response.status_code == 409
    assert "The firm&#39;s last owner cannot be demoted" in response.get_data(as_text=True)
    assert role_of(tenant, owner) == "owner"
    path = f"/{tenant.slug}/settings/members"
    removed = client.post(f"{path}/{mine}/remove", data={"csrf_token": csrf_token(client, path)})
    assert removed.status_code == 409
    assert role_of(tenant, owner) == "owner"


def test_an_administrator_cannot_grant_or_take_the_owner_role(tenant_client, make_user, login):
    _client, tenant, owner = tenant_client("owner")
    admin_user = make_user(tenant, "admin")
    admin = login(admin_user)
    person = make_user(tenant, "staff")
    page = admin.get(f"/{tenant.slug}/settings/members").get_data(as_text=True)
    assert 'value="owner"' not in page.split("Invite a person")[0]  # no owner to choose
    response = change_role(admin, tenant, membership_of(tenant, person).id, "owner")
    assert response.status_code == 409
    assert "Only an owner can grant or take away the owner role." in response.get_data(as_text=True)
    assert change_role(admin, tenant, membership_of(tenant, owner).id, "staff").status_code == 409
    assert role_of(tenant, owner) == "owner"
    assert role_of(tenant, person) == "staff"
    # but an administrator moves people between the other roles
    assert change_role(admin, tenant, membership_of(tenant, person).id, "viewer").status_code == 302
    assert role_of(tenant, person) == "viewer"


def test_unknown_role_is_refused(tenant_client, make_user):
    client, tenant, _owner = tenant_client("owner")
    person = make_user(tenant, "staff")
    assert change_role(client, tenant, membership_of(tenant, person).id, "god").status_code == 400
    assert role_of(tenant, person) == "staff"


# --- suspension ----------------------------------------------------------------------------


def test_suspended_firms_users_are_refused_with_the_reason_until_resumed(
    tenant_client, make_user, login
):
    client, tenant, _owner = tenant_client("owner", modules=["catalog", "orders"])
    operator = login(make_user(operator=True))
    reason = "Canone 2026 non pagato: contattate il distretto."
    token = csrf_token(operator, "/operator/")
    response = operator.post(
        f"/operator/firms/{tenant.slug}/suspend", data={"reason": reason, "csrf_token": token}
    )
    assert response.status_code == 302

    for path in ("/", "/orders/sales", "/settings/members"):
        refused = client.get(f"/{tenant.slug}{path}")
        assert refused.status_code == 403, path
        html = refused.get_data(as_text=True)
        assert reason in html
        assert "is suspended" in html

    response = operator.post(f"/operator/firms/{tenant.slug}/resume", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get(f"/{tenant.slug}/orders/sales").status_code == 200
    assert reason not in client.get(f"/{tenant.slug}/").get_data(as_text=True)
