"""The district operator's console: onboarding, suspending and resuming firms."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from stdnum import luhn

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants.models import Invitation, Tenant
from distretto.testing.plugin import TEST_PASSWORD, csrf_token

VALID_VAT = "0123456001" + luhn.calc_check_digit("0123456001")
BAD_VAT = VALID_VAT[:-1] + str((int(VALID_VAT[-1]) + 1) % 10)


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def console(make_user, login):
    """A signed-in operator's client."""
    return english(login(make_user(operator=True)))


def firm_form(client, **overrides):
    data = {
        "legal_name": "Ceramiche Sassuolo S.r.l.",
        "slug": "ceramiche-sassuolo",
        "vat_number": "IT" + VALID_VAT,
        "default_locale": "it",
        "admin_email": "titolare@ceramiche.example",
        "csrf_token": csrf_token(client, "/operator/"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def all_firms():
    db.session.rollback()
    return db.session.execute(select(Tenant)).scalars().all()


def reload(firm):
    db.session.rollback()
    return db.session.get(Tenant, firm.id)


def sent_mail(app):
    return app.extensions.setdefault("distretto.sent_mail", [])


def test_operator_onboards_a_firm_and_invites_its_first_owner(app, console):
    response = console.post("/operator/firms", data=firm_form(console))
    assert response.status_code == 302
    assert response.headers["Location"] == "/operator/"

    [firm] = all_firms()
    assert (firm.slug, firm.legal_name, firm.vat_number) == (
        "ceramiche-sassuolo",
        "Ceramiche Sassuolo S.r.l.",
        VALID_VAT,
    )
    assert firm.status == "active"
    with tenant_context(firm):
        [invitation] = db.session.execute(select(Invitation)).scalars().all()
    assert (invitation.email, invitation.role) == ("titolare@ceramiche.example", "owner")
    [mail] = sent_mail(app)
    assert mail["to"] == "titolare@ceramiche.example"
    path = mail["body"][mail["body"].index("/invitations/") :].split()[0]

    newcomer = english(app.test_client())
    token = csrf_token(newcomer, path)
    accepted = newcomer.post(
        path,
        data={
            "name": "Titolare",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
            "csrf_token": token,
        },
    )
    assert accepted.status_code == 302
    assert newcomer.get("/ceramiche-sassuolo/settings/members").status_code == 200
    assert "Ceramiche Sassuolo S.r.l." in console.get("/operator/").get_data(as_text=True)


def test_bad_vat_number_is_refused_with_a_message_and_creates_nothing(app, console):
    response = console.post("/operator/firms", data=firm_form(console, vat_number=BAD_VAT))
    assert response.status_code == 400
    assert "is not a valid Italian VAT number." in response.get_data(as_text=True)
    assert all_firms() == []
    assert sent_mail(app) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "operator", "is reserved by the platform."),
        ("slug", "Not A Slug!", "lower-case letters, digits and dashes"),
        ("admin_email", "nobody", "Enter a valid e-mail address."),
        ("legal_name", "   ", "This field is required."),
        ("default_locale", "xx", "Not a valid choice"),
        ("legal_name", "Ditta\x00Nulla", "Remove the control characters from this field."),
        ("vat_number", "\x00", "is not a valid Italian VAT number."),
        ("admin_email", "a\x00@example.com", "Enter a valid e-mail address."),
    ],
)
def test_bad_onboarding_input_is_refused_and_creates_nothing(app, console, field, value, message):
    response = console.post("/operator/firms", data=firm_form(console, **{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert all_firms() == []
    assert sent_mail(app) == []


def test_taken_address_name_is_refused(app, console, make_tenant):
    make_tenant(slug="ceramiche-sassuolo")
    response = console.post("/operator/firms", data=firm_form(console))
    assert response.status_code == 400
    assert "is already taken." in response.get_data(as_text=True)
    assert len(all_firms()) == 1


def test_onboarding_without_csrf_token_creates_nothing(app, console):
    data = firm_form(console)
    del data["csrf_token"]
    assert console.post("/operator/firms", data=data).status_code == 400
    assert all_firms() == []


def test_suspending_requires_a_reason(app, console, make_tenant):
    firm = make_tenant()
    path = f"/operator/firms/{firm.slug}/suspend"
    assert console.get(path).status_code == 200
    token = csrf_token(console, path)
    for reason in ("", "   ", "\x00"):
        response = console.post(path, data={"reason": reason, "csrf_token": token})
        assert response.status_code == 400
        assert reload(firm).status == "active"


def test_operator_suspends_and_resumes_a_firm(app, console, make_tenant, make_user):
    firm = make_tenant()
    owner = make_user(firm, "owner")
    path = f"/operator/firms/{firm.slug}/suspend"
    token = csrf_token(console, path)
    response = console.post(path, data={"reason": "Quota non pagata", "csrf_token": token})
    assert response.status_code == 302
    suspended = reload(firm)
    assert (suspended.status, suspended.suspended_reason) == ("suspended", "Quota non pagata")

    outsider = english(app.test_client())
    refused = outsider.post(
        "/login",
        data={
            "email": owner.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(outsider, "/login"),
        },
    )
    assert refused.status_code == 403
    assert "Quota non pagata" in refused.get_data(as_text=True)

    token = csrf_token(console, "/operator/")
    resumed = console.post(f"/operator/firms/{firm.slug}/resume", data={"csrf_token": token})
    assert resumed.status_code == 302
    active = reload(firm)
    assert (active.status, active.suspended_reason) == ("active", None)
    welcome = outsider.post(
        "/login",
        data={
            "email": owner.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(outsider, "/login"),
        },
    )
    assert welcome.status_code == 302


def test_suspend_and_resume_without_csrf_token_change_nothing(app, console, make_tenant):
    firm = make_tenant()
    suspend = console.post(f"/operator/firms/{firm.slug}/suspend", data={"reason": "No"})
    assert suspend.status_code == 400
    assert reload(firm).status == "active"

    token = csrf_token(console, "/operator/")
    console.post(f"/operator/firms/{firm.slug}/suspend", data={"reason": "Y", "csrf_token": token})
    assert reload(firm).status == "suspended"
    assert console.post(f"/operator/firms/{firm.slug}/resume").status_code == 400
    assert reload(firm).status == "suspended"


def test_unknown_firm_in_the_console_is_404(app, console):
    token = csrf_token(console, "/operator/")
    assert console.get("/operator/firms/nope/suspend").status_code == 404
    resume = console.post("/operator/firms/nope/resume", data={"csrf_token": token})
    assert resume.status_code == 404


def test_firm_members_get_404_on_every_console_page(app, make_tenant, make_user, login):
    firm = make_tenant()
    owner = english(login(make_user(firm, "owner")))
    token = csrf_token(owner, f"/{firm.slug}/")
    assert owner.get("/operator/").status_code == 404
    assert owner.get(f"/operator/firms/{firm.slug}/suspend").status_code == 404
    data = firm_form(owner, csrf_token=token)
    assert owner.post("/operator/firms", data=data).status_code == 404
    suspend = owner.post(
        f"/operator/firms/{firm.slug}/suspend", data={"reason": "x", "csrf_token": token}
    )
    assert suspend.status_code == 404
    resume = owner.post(f"/operator/firms/{firm.slug}/resume", data={"csrf_token": token})
    assert resume.status_code == 404
    assert len(all_firms()) == 1
    assert reload(firm).status == "active"
