"""The audit-trail viewer: owners and administrators filter and page through the firm's
trail, read an entry's changes, and check the hash chain (tampered as the database owner)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from distretto.platform import audit
from distretto.platform.context import tenant_context
from distretto.platform.db import db


@pytest.fixture
def firm(tenant_client):
    client, tenant, owner = tenant_client("owner")
    with tenant_context(tenant, actor_id=owner.id):
        for n in range(30):
            audit.record(
                "invoice.issued" if n % 3 == 0 else "party.updated",
                None,
                object_type="Invoice" if n % 3 == 0 else "Party",
                object_id=n,
                summary={"n": n, "total": [f"{n}.00", f"{n + 1}.00"]},
            )
        audit.record("system.job", None, actor_label="system")
        db.session.commit()
    return client, tenant, owner


def page(client, tenant, status=200, **args):
    response = client.get(f"/{tenant.slug}/settings/audit", query_string=args)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def test_filters_by_action_object_type_actor_and_dates(firm):
    client, tenant, owner = firm
    html = page(client, tenant, action="invoice.issued")
    assert "invoice.issued" in html.split("<tbody>")[1]
    assert "party.updated" not in html.split("<tbody>")[1]
    assert "10 records" in html

    html = page(client, tenant, object_type="party")
    assert "20 records" in html

    html = page(client, tenant, actor="system")
    assert "system.job" in html
    assert "invoice.issued" not in html.split("<tbody>")[1]

    html = page(client, tenant, actor=owner.email, action="party")
    assert "20 records" in html

    today = date.today()
    assert "No entries match." in page(client, tenant, date_from=str(today + timedelta(days=2)))
    assert "No entries match." in page(client, tenant, date_to=str(today - timedelta(days=2)))
    html = page(
        client,
        tenant,
        date_from=str(today - timedelta(days=1)),
        date_to=str(today + timedelta(days=1)),
    )
    assert "No entries match." not in html


def test_bad_filters_are_form_errors_not_failures(firm):
    client, tenant, _owner = firm
    html = page(client, tenant, 400, date_from="yesterday")
    assert "is-invalid" in html
    html = page(client, tenant, 400, date_from="2026-05-02", date_to="2026-05-01")
    assert "The end date comes before the start date." in html


def test_pages_through_the_trail_newest_first(firm):
    client, tenant, _owner = firm
    first = page(client, tenant)
    assert "1 / 2" in first
    body = first.split("<tbody>")[1]
    assert body.index("system.job") < body.index("invoice.issued")
    second = page(client, tenant, page=2)
    assert "2 / 2" in second
    assert "system.job" not in second.split("<tbody>")[1]


def test_entry_detail_shows_the_changes(firm):
    client, tenant, _owner = firm
    with tenant_context(tenant):
        entry = audit.record("party.updated", None, summary={"city": ["Gorle", "Bergamo"]})
        entry_id, entry_hash = entry.id, entry.hash
        db.session.commit()
    html = client.get(f"/{tenant.slug}/settings/audit/{entry_id}").get_data(as_text=True)
    assert "&#34;city&#34;" in html or '"city"' in html
    assert "Bergamo" in html
    assert entry_hash in html


def test_staff_and_viewers_cannot_read_the_trail(firm, make_user, login):
    _client, tenant, _owner = firm
    for role in ("staff", "viewer"):
        client = login(make_user(tenant, role))
        assert client.get(f"/{tenant.slug}/settings/audit").status_code == 403
        assert client.get(f"/{tenant.slug}/settings/audit/verify").status_code == 403
    admin = login(make_user(tenant, "admin"))
    assert admin.get(f"/{tenant.slug}/settings/audit").status_code == 200


def test_another_firms_entry_is_not_found(firm, tenant_client):
    client, tenant, _owner = firm
    _other_client, other, _other_owner = tenant_client("owner")
    with tenant_context(other):
        foreign_id = audit.record("secret.thing", None, summary={"secret": "yes"}).id
        db.session.commit()
    assert client.get(f"/{tenant.slug}/settings/audit/{foreign_id}").status_code == 404


def test_verify_reports_an_intact_chain_then_where_it_was_tampered(firm, distretto_database):
    client, tenant, _owner = firm
    html = client.get(f"/{tenant.slug}/settings/audit/verify").get_data(as_text=True)
    assert "The chain is intact." in html

    # an attacker with database access rewrites entry 5, as the database owner
    with distretto_database.owner_engine.begin() as conn:
        conn.execute(
            update(audit.AuditEntry.__table__)
            .where(
                audit.AuditEntry.__table__.c.tenant_id == tenant.id,
                audit.AuditEntry.__table__.c.seq == 5,
            )
            .values(summary={"n": 999})
        )
    db.session.commit()

    response = client.get(f"/{tenant.slug}/settings/audit/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The chain is broken." in html
    assert "entry 5: content altered since it was written" in html
    assert "The chain is intact." not in html
    # the firm's Italian speakers read the problem in Italian
    with db.session.begin():
        db.session.get(type(tenant), tenant.id).default_locale = "it"
    html = client.get(f"/{tenant.slug}/settings/audit/verify").get_data(as_text=True)
    assert "voce 5: contenuto alterato dopo la scrittura" in html
