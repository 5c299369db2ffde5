"""Support access: an operator reads a firm's pages only under the owner's live grant,
read only, and every page they open is in the firm's audit trail for the firm to read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from distretto.platform.audit import AuditEntry
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.tenants.support import SupportGrant
from distretto.testing.plugin import csrf_token


@pytest.fixture
def firm(tenant_client, make_user, login):
    """(owner's client, tenant, operator, operator's client) for a firm with orders."""
    owner_client, tenant, _owner = tenant_client("owner", modules=["catalog", "orders"])
    operator = make_user(operator=True, email="ops@district.example")
    return owner_client, tenant, operator, login(operator)


def grant(owner_client, tenant, email="ops@district.example", hours="2", reason="Ticket 42"):
    path = f"/{tenant.slug}/settings/support"
    return owner_client.post(
        path,
        data={
            "operator_email": email,
            "hours": hours,
            "reason": reason,
            "csrf_token": csrf_token(owner_client, path),
        },
    )


def trail(owner_client, tenant, **filters):
    """The firm's audit-trail page as its owner reads it (English)."""
    response = owner_client.get(f"/{tenant.slug}/settings/audit", query_string=filters)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_operator_sees_orders_only_while_granted_and_the_firm_reads_what_they_opened(firm):
    owner_client, tenant, operator, ops = firm
    orders = f"/{tenant.slug}/orders/sales"

    assert ops.get(orders).status_code == 404
    assert ops.get(f"/{tenant.slug}/").status_code == 404
    assert "ops@district.example" not in trail(owner_client, tenant)

    response = grant(owner_client, tenant)
    assert response.status_code == 303

    page = ops.get(orders)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Support access to" in html
    assert tenant.legal_name in html
    assert "read only" in html

    # the firm's people see that an operator is in
    home = owner_client.get(f"/{tenant.slug}/").get_data(as_text=True)
    assert "A district operator has support access to this firm until" in home

    # the firm reads, in its own trail, which page the operator opened
    html = trail(owner_client, tenant, action="support.page_viewed")
    assert "support.page_viewed" in html
    assert "ops@district.example" in html
    with tenant_context(tenant):
        viewed = (
            db.session.execute(select(AuditEntry).where(AuditEntry.action == "support.page_viewed"))
            .scalars()
            .all()
        )
        assert [e.summary["path"] for e in viewed] == [orders]
        assert viewed[0].actor_label == "ops@district.example"
        assert viewed[0].summary["method"] == "GET"
    detail = owner_client.get(f"/{tenant.slug}/settings/audit/{viewed[0].id}")
    assert orders in detail.get_data(as_text=True)

    # the operator console lists the firm, with a link to it
    console = ops.get("/operator/support").get_data(as_text=True)
    assert tenant.legal_name in console
    assert f'href="/{tenant.slug}/"' in console


def test_expired_grant_stops_access(firm):
    owner_client, tenant, _operator, ops = firm
    assert grant(owner_client, tenant).status_code == 303
    assert ops.get(f"/{tenant.slug}/orders/sales").status_code == 200

    with tenant_context(tenant):
        db.session.execute(update(SupportGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    assert ops.get(f"/{tenant.slug}/orders/sales").status_code == 404
    assert tenant.legal_name not in ops.get("/operator/support").get_data(as_text=True)
    page = owner_client.get(f"/{tenant.slug}/settings/support").get_data(as_text=True)
    assert "Expired" in page
    assert "A district operator has support access" not in page


def test_revoked_grant_stops_access_at_the_next_request(firm):
    owner_client, tenant, _operator, ops = firm
    assert grant(owner_client, tenant).status_code == 303
    assert ops.get(f"/{tenant.slug}/orders/sales").status_code == 200
    with tenant_context(tenant):
        grant_id = db.session.execute(select(SupportGrant.id)).scalar_one()
    path = f"/{tenant.slug}/settings/support"
    response = owner_client.post(
        f"{path}/{grant_id}/revoke", data={"csrf_token": csrf_token(owner_client, path)}
    )
    assert response.status_code == 303

    assert ops.get(f"/{tenant.slug}/orders/sales").status_code == 404
    page = owner_client.get(path).get_data(as_text=True)
    assert "Revoked" in page
    assert "support.revoked" in trail(owner_client, tenant, action="support.revoked")


def test_under_a_grant_the_operator_reads_but_cannot_write(firm):
    owner_client, tenant, _operator, ops = firm
    assert grant(owner_client, tenant).status_code == 303
    token = csrf_token(ops, f"/{tenant.slug}/orders/sales")

    response = ops.post(
        f"/{tenant.slug}/orders/sales/new", data={"csrf_token": token, "party_id": "1"}
    )
    assert response.status_code == 403
    # the settings, members, audit and support pages are not for a reader
    for path in ("settings/members", "settings/firm", "settings/audit", "settings/support"):
        assert ops.get(f"/{tenant.slug}/{path}").status_code == 403, path
    # a refused write is in the trail too, and nothing was written
    html = trail(owner_client, tenant, action="support.write_refused")
    assert f"/{tenant.slug}/orders/sales/new" in owner_client.get(
        f"/{tenant.slug}/settings/audit/" + _entry_id(tenant, "support.write_refused")
    ).get_data(as_text=True)
    assert "support.write_refused" in html
    from distretto.modules.orders.models import Order

    with tenant_context(tenant):
        assert db.session.execute(select(Order.id)).first() is None


def _entry_id(tenant, action):
    with tenant_context(tenant):
        return str(
            db.session.execute(
                select(AuditEntry.id).where(AuditEntry.action == action)
            ).scalar_one()
        )


def test_only_an_operator_account_can_be_granted(firm, make_user, login):
    owner_client, tenant, _operator, _ops = firm
    outsider = make_user(email="someone@rival.example")  # an ordinary account
    response = grant(owner_client, tenant, email=outsider.email)
    assert response.status_code == 400
    assert "someone@rival.example is not an operator of the district platform." in (
        response.get_data(as_text=True)
    )
    for hours in ("0", "73", "x"):
        assert grant(owner_client, tenant, hours=hours).status_code == 400
    assert grant(owner_client, tenant, reason="").status_code == 400
    with tenant_context(tenant):
        assert db.session.execute(select(SupportGrant.id)).first() is None
    # and the ordinary account still gets 404
    assert login(outsider).get(f"/{tenant.slug}/orders/sales").status_code == 404


def test_only_owners_grant_support_access(firm, make_user, login):
    _owner_client, tenant, _operator, _ops = firm
    admin = login(make_user(tenant, "admin"))
    assert admin.get(f"/{tenant.slug}/settings/support").status_code == 403
    with force_locale("en"):
        assert "Support access" not in admin.get(f"/{tenant.slug}/settings/members").get_data(
            as_text=True
        )


def test_a_grant_for_one_firm_opens_no_other(firm, make_tenant):
    owner_client, tenant, _operator, ops = firm
    other = make_tenant(modules=["catalog", "orders"])
    assert grant(owner_client, tenant).status_code == 303
    assert ops.get(f"/{tenant.slug}/orders/sales").status_code == 200
    assert ops.get(f"/{other.slug}/orders/sales").status_code == 404
    assert other.legal_name not in ops.get("/operator/support").get_data(as_text=True)


def test_the_logo_a_page_loads_is_not_a_page_of_its_own(firm):
    owner_client, tenant, _operator, ops = firm
    from distretto.tenants.firm import save_logo
    from distretto.testing.firm_routes import tiny_png

    with tenant_context(tenant):
        save_logo(db.session.get(type(tenant), tenant.id), "logo.png", tiny_png())
        db.session.commit()
    assert grant(owner_client, tenant).status_code == 303
    page = ops.get(f"/{tenant.slug}/orders/sales").get_data(as_text=True)
    assert f"/{tenant.slug}/logo?v=" in page
    assert ops.get(f"/{tenant.slug}/logo").status_code == 200
    with tenant_context(tenant):
        paths = (
            db.session.execute(
                select(AuditEntry.summary).where(AuditEntry.action == "support.page_viewed")
            )
            .scalars()
            .all()
        )
    assert [p["path"] for p in paths] == [f"/{tenant.slug}/orders/sales"]
