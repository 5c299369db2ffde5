from sqlalchemy import select

from distretto.platform import customfields
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import TenantModule
from distretto.tenants import district_templates
from distretto.tenants.models import Tenant
from distretto.testing.plugin import csrf_token


def test_operator_onboards_a_firm_with_modules_and_a_district_template(app, make_user, login):
    district_templates.publish_builtins()
    db.session.commit()
    operator = make_user(operator=True)
    client = login(operator)
    token = csrf_token(client, "/operator/")
    response = client.post(
        "/operator/firms",
        data={
            "csrf_token": token,
            "legal_name": "Tessitura Nuova S.r.l.",
            "slug": "tessitura-nuova",
            "vat_number": "01987650163",
            "default_locale": "it",
            "admin_email": "boss@tessitura-nuova.example",
            "modules": ["catalog", "orders"],
            "template": "tessile",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == "tessitura-nuova")).scalar_one()
    with tenant_context(tenant):
        enabled = set(
            db.session.execute(
                select(TenantModule.module).where(TenantModule.enabled.is_(True))
            ).scalars()
        )
        assert enabled == {"catalog", "orders"}
        assert "season" in {d.name for d in customfields.definitions("sales_order")}


def test_unknown_template_at_onboarding_creates_nothing(app, make_user, login):
    operator = make_user(operator=True)
    client = login(operator)
    token = csrf_token(client, "/operator/")
    response = client.post(
        "/operator/firms",
        data={
            "csrf_token": token,
            "legal_name": "Nessuna S.r.l.",
            "slug": "nessuna",
            "vat_number": "01987650163",
            "default_locale": "it",
            "admin_email": "a@nessuna.example",
            "modules": ["catalog"],
            "template": "nope",
        },
    )
    assert response.status_code == 400
    assert "nope" in response.get_data(as_text=True)
    assert db.session.execute(select(Tenant).where(Tenant.slug == "nessuna")).first() is None
