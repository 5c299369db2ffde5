"""A person's account: name, language (theirs, else the firm's) and password."""

from __future__ import annotations

from decimal import Decimal

from distretto.modules.catalog import services as catalog
from distretto.modules.orders import services as orders
from distretto.platform.auth.models import User
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token
from tests.modules.test_query_bounds import _vat

PASSWORD = "a new password for the test"


def _italian_firm_with_an_order(tenant_client):
    """A firm whose default is Italian, with a draft order of 1234.50 (VAT exempt)."""
    client, tenant, user = tenant_client(
        "owner", modules=["catalog", "orders"], default_locale="it"
    )
    with tenant_context(tenant):
        customer = catalog.create_party(
            {"legal_name": "Officine Rossi S.p.A.", "is_customer": True, "vat_number": _vat(1)}
        )
        product = catalog.create_product(
            {
                "code": "SERV-1",
                "description": "Servizio",
                "vat_rate_id": catalog.vat_rate_by_code("N2.2").id,
                "sale_price": "1234,50",
            }
        )
        order = orders.create_order(
            "sale",
            {"party_id": customer.id, "lines": [{"product_id": product.id, "quantity": "1"}]},
        )
        assert order.total == Decimal("1234.50")
        db.session.commit()
    return client, tenant, user


def _switch(client, path, locale):
    return client.post(
        "/account/language",
        data={"csrf_token": csrf_token(client, "/account"), "locale": locale, "next": path},
    )


def test_the_firms_default_applies_when_the_person_chose_no_language(tenant_client):
    client, tenant, user = _italian_firm_with_an_order(tenant_client)
    assert user.locale is None
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert '<html lang="it">' in html
    assert "Ordini da confermare" in html
    assert "1.234,50 EUR" in html


def test_choosing_english_changes_the_language_and_the_formats(tenant_client):
    client, tenant, user = _italian_firm_with_an_order(tenant_client)
    home = f"/{tenant.slug}/"
    response = _switch(client, home, "en")
    assert response.status_code == 303
    assert response.headers["Location"] == home
    html = client.get(home).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Orders to confirm" in html
    assert "1,234.50 EUR" in html
    assert db.session.get(User, user.id).locale == "en"

    _switch(client, home, "")  # back to the firm's default
    html = client.get(home).get_data(as_text=True)
    assert "1.234,50 EUR" in html
    assert db.session.get(User, user.id).locale is None


def test_an_italian_person_in_an_english_firm_reads_italian(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])  # firm default: English
    _switch(client, f"/{tenant.slug}/", "it")
    html = client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert '<html lang="it">' in html
    assert "Esci" in html  # Sign out


def test_the_language_switch_refuses_unknown_languages_foreign_pages_and_missing_tokens(
    tenant_client,
):
    client, tenant, user = tenant_client("owner", modules=["catalog"])
    assert _switch(client, "/account", "de").status_code == 400
    response = client.post("/account/language", data={"locale": "it"})
    assert response.status_code == 400
    response = _switch(client, "https://evil.example/", "it")
    assert response.headers["Location"] == "/"
    response = _switch(client, "//evil.example/x", "en")
    assert response.headers["Location"] == "/"
    assert db.session.get(User, user.id).locale == "en"


def test_the_account_page_saves_name_and_language(tenant_client):
    client, _tenant, user = tenant_client("owner", modules=["catalog"])
    page = client.get("/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="account-profile"' in html
    assert "Firm default" in html
    response = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "profile-name": "  Maria Bianchi ",
            "profile-locale": "it",
        },
    )
    assert response.status_code == 302
    stored = db.session.get(User, user.id)
    assert stored.name == "Maria Bianchi"
    assert stored.locale == "it"
    assert "Il tuo account" in client.get("/account").get_data(as_text=True)

    bad = client.post(
        "/account",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "profile-name": "",
            "profile-locale": "xx",
        },
    )
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Maria Bianchi"


def _change(client, current, new, confirm=None):
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "password-current_password": current,
            "password-password": new,
            "password-confirm": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_needs_the_current_one_and_signs_out_other_devices(
    tenant_client, login
):
    from distretto.testing.plugin import TEST_PASSWORD

    client, tenant, user = tenant_client("owner", modules=["catalog"])
    other_device = login(user)
    wrong = _change(client, "not my password", PASSWORD)
    assert wrong.status_code == 400
    assert "The current password is not right." in wrong.get_data(as_text=True)
    assert _change(client, TEST_PASSWORD, "short").status_code == 400
    assert _change(client, TEST_PASSWORD, PASSWORD, confirm="something else").status_code == 400

    assert _change(client, TEST_PASSWORD, PASSWORD).status_code == 302
    assert client.get(f"/{tenant.slug}/").status_code == 200  # this session goes on
    assert other_device.get(f"/{tenant.slug}/").status_code == 302  # the other one ended
    login(user, PASSWORD)


def test_the_account_page_needs_a_signed_in_person(app):
    response = app.test_client().get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_workflow_condition_problems_are_in_the_readers_language(app):
    from flask_babel import force_locale

    from distretto.platform.workflow.conditions import validate

    condition = {"field": "colour", "op": "==", "value": "red"}
    with force_locale("it"):
        (problem,) = validate(condition, {"total": "decimal"})
        assert problem.startswith("condition: campo")
        assert "sconosciuto" in problem
        assert "'colour'" in problem
    with force_locale("en"):
        assert validate(condition, {"total": "decimal"}) == ["condition: unknown field 'colour'"]


def test_custom_field_values_read_in_the_readers_format(tenant_client):
    from datetime import date

    from flask_babel import force_locale

    from distretto.platform import customfields

    client, tenant, _user = _italian_firm_with_an_order(tenant_client)
    with tenant_context(tenant), force_locale("en"):
        customfields.define("sales_order", {"name": "weight", "label": "Weight", "type": "decimal"})
        customfields.define("sales_order", {"name": "due", "label": "Due", "type": "date"})
        customfields.define("sales_order", {"name": "urgent", "label": "Urgent", "type": "boolean"})
        order = db.session.execute(orders.order_query("sale")).scalars().first()
        order.custom = {"weight": "1234.5", "due": "2026-03-05", "urgent": True}
        db.session.commit()
        order_id = order.id
    html = client.get(f"/{tenant.slug}/orders/sales/{order_id}").get_data(as_text=True)
    assert "1.234,5" in html
    assert date(2026, 3, 5).strftime("%d/%m/%y") in html
    assert ">sì<" in html


def test_printed_documents_follow_the_firms_language_not_the_readers(tenant_client):
    from tests.modules.test_invoicing_reports import pdf_text

    client, tenant, _user = _italian_firm_with_an_order(tenant_client)
    _switch(client, f"/{tenant.slug}/", "en")
    with tenant_context(tenant):
        order_id = db.session.execute(orders.order_query("sale")).scalars().first().id
    response = client.get(f"/{tenant.slug}/orders/sales/{order_id}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "Conferma d'ordine" in text
    assert "1.234,50" in text
    assert "Order confirmation" not in text


def test_the_order_e_mail_to_the_customer_is_in_the_firms_language(tenant_client):
    from babel.dates import format_date
    from flask_babel import force_locale
    from sqlalchemy import select

    from distretto.modules.orders.workflows import notify
    from distretto.platform.documents import ActionContext
    from distretto.platform.modules import registry
    from distretto.platform.outbox import OutboxMessage

    _client, tenant, _user = _italian_firm_with_an_order(tenant_client)
    with tenant_context(tenant), force_locale("en"):  # an English-speaking clerk confirms
        order = db.session.execute(orders.order_query("sale")).scalars().first()
        context = ActionContext(
            document=order,
            document_type=registry.document_types["sales_order"],
            transition="confirm",
            params={"to": "cliente@example.com"},
            comment=None,
            user_id=None,
        )
        notify(context)
        db.session.flush()
        message = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.topic == "mail.send")
        ).scalar_one()
        expected_date = format_date(order.order_date, locale="it")  # 27 nov 2026
    assert message.payload["subject"] == f"Ordine {order.number}: Conferma"
    assert expected_date in message.payload["body"]
    assert "Bozza" in message.payload["body"]


def test_numbers_to_edit_use_the_readers_decimal_mark_and_no_grouping(tenant_client):
    from decimal import Decimal

    from distretto.modules.inventory import services as inventory
    from distretto.platform import workflow

    client, tenant, _user = tenant_client(
        "owner", modules=["catalog", "orders", "inventory"], default_locale="it"
    )
    with tenant_context(tenant):
        customer = catalog.create_party(
            {"legal_name": "Officine Rossi S.p.A.", "is_customer": True, "vat_number": _vat(1)}
        )
        product = catalog.create_product(
            {
                "code": "VITE-8",
                "description": "Vite",
                "vat_rate_id": catalog.vat_rate_by_code("22").id,
                "sale_price": "1234,5",
            }
        )
        inventory.receive(lines=[(product.id, Decimal("5000"), Decimal("1"), None)])
        order = orders.create_order(
            "sale",
            {"party_id": customer.id, "lines": [{"product_id": product.id, "quantity": "1234"}]},
        )
        workflow.apply(order, "sales_order", "confirm", role="owner")
        db.session.commit()
        product_id, order_id = product.id, order.id
    edit = client.get(f"/{tenant.slug}/catalog/products/{product_id}/edit").get_data(as_text=True)
    assert 'value="1234,5"' in edit
    ship = client.get(f"/{tenant.slug}/inventory/ship/sales_order/{order_id}").get_data(
        as_text=True
    )
    assert 'value="1234"' in ship  # not 1.234, which reads back as one point two three four
