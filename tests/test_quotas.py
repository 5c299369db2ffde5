"""Quotas per firm: set by operators, enforced with messages that say what to do."""

from __future__ import annotations

import html

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from distretto.platform import files
from distretto.platform.audit import AuditEntry
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants import services
from distretto.tenants.models import Invitation, Tenant
from distretto.testing.plugin import csrf_token


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post_invite(client, firm, email, role="staff"):
    data = {
        "email": email,
        "role": role,
        "csrf_token": csrf_token(client, f"/{firm.slug}/settings/members"),
    }
    return client.post(f"/{firm.slug}/settings/members/invite", data=data)


def reload(firm):
    db.session.rollback()
    return db.session.get(Tenant, firm.id)


def test_user_quota_counts_members_and_pending_invitations_and_says_so(tenant_client):
    client, firm, _owner = tenant_client("owner", max_users=3)

    assert post_invite(client, firm, "one@example.com").status_code == 302
    assert post_invite(client, firm, "two@example.com").status_code == 302
    # a new invitation to a pending address replaces it: no extra seat taken
    assert post_invite(client, firm, "two@example.com", "viewer").status_code == 302

    refused = post_invite(client, firm, "three@example.com")
    assert refused.status_code == 400
    page = html.unescape(refused.get_data(as_text=True))
    assert "has reached its quota of 3 users (members and pending invitations)" in page
    assert "ask the district's operators for a higher quota" in page
    with tenant_context(firm):
        emails = set(db.session.execute(select(Invitation.email)).scalars())
    assert "three@example.com" not in emails


def test_user_quota_holds_for_direct_grants_and_falls_back_to_the_platform_default(
    app, make_tenant, make_user
):
    firm = make_tenant()
    app.config["QUOTA_MAX_USERS"] = 2
    make_user(firm, "owner")
    make_user(firm, "staff")
    newcomer = make_user()
    with pytest.raises(services.TenantError) as refused, force_locale("en"):
        services.grant(firm, newcomer, "staff")
    assert "quota of 2 users" in str(refused.value)
    db.session.rollback()

    firm = reload(firm)
    firm.max_users = 0  # the operator lifts the limit for this firm
    db.session.commit()
    services.grant(firm, newcomer, "staff")
    db.session.commit()


def test_storage_quota_refuses_a_file_that_does_not_fit(app, make_tenant):
    firm = make_tenant(max_storage_mb=1)
    chunk = b"x" * 600 * 1024
    with tenant_context(firm):
        files.save_file("import", "a.xml", "application/xml", chunk)
        with pytest.raises(files.QuotaExceeded) as refused, force_locale("en"):
            files.save_file("import", "b.xml", "application/xml", chunk)
        # replacing a file frees what it took
        files.save_file("import", "c.xml", "application/xml", chunk, replace=True)
        assert files.files_bytes() == len(chunk)
    message = str(refused.value)
    assert firm.legal_name in message
    assert "used its storage quota" in message
    assert "of 1 MB" in message
    assert "Delete files the firm no longer needs" in message


def test_storage_quota_counts_the_rows_estimate_from_the_last_collection(app, make_tenant):
    from distretto.platform import quotas, usage

    firm = make_tenant(modules=["catalog"], max_storage_mb=1)
    with tenant_context(firm):
        usage.collect(firm)
    db.session.commit()
    with tenant_context(firm):
        rows = quotas.rows_estimate(firm.id)
        assert rows > 0  # onboarding wrote rows (audit trail, modules, workflows...)
        room = quotas.MB - rows * quotas.ROW_BYTES_ESTIMATE
        with pytest.raises(files.QuotaExceeded):
            files.save_file("import", "big.bin", "application/octet-stream", b"x" * (room + 1))
        files.save_file("import", "fits.bin", "application/octet-stream", b"x" * (room - 10))


def test_the_logo_upload_turns_a_storage_refusal_into_the_forms_error(app, make_tenant):
    firm_settings = pytest.importorskip("distretto.tenants.firm")
    firm = make_tenant(max_storage_mb=1)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
        + b"\x00" * 200
    )
    with tenant_context(firm):
        files.save_file("import", "fill.bin", "application/octet-stream", b"x" * (1024 * 1024 - 50))
        with pytest.raises(services.TenantError) as refused, force_locale("en"):
            firm_settings.save_logo(firm, "logo.png", png)
    assert refused.value.field == "logo"
    assert "used its storage quota" in str(refused.value)


@pytest.fixture
def console(make_user, login):
    return english(login(make_user(operator=True)))


def quota_form(client, firm, **values):
    data = {"csrf_token": csrf_token(client, f"/operator/firms/{firm.slug}/quotas")}
    data.update(values)
    return client.post(f"/operator/firms/{firm.slug}/quotas", data=data)


def test_operator_sets_a_firms_quotas_and_the_firm_reads_it_in_its_trail(console, make_tenant):
    firm = make_tenant()
    page = console.get(f"/operator/firms/{firm.slug}/quotas")
    assert page.status_code == 200
    assert "Platform default: 100" in page.get_data(as_text=True)

    saved = quota_form(
        console, firm, max_users="12", max_storage_mb="250", api_requests_per_minute="90"
    )
    assert saved.status_code == 302
    firm = reload(firm)
    assert (firm.max_users, firm.max_storage_mb, firm.api_requests_per_minute) == (12, 250, 90)
    with tenant_context(firm):
        [entry] = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "tenant.quotas_changed")
        ).scalars()
    assert entry.summary["max_users"] == 12
    assert entry.actor_label.endswith("@example.com")

    # empty fields go back to the platform defaults
    assert quota_form(console, firm, max_users="", max_storage_mb="", api_requests_per_minute="")
    firm = reload(firm)
    assert (firm.max_users, firm.max_storage_mb, firm.api_requests_per_minute) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_users", "-1", "Number must be between 0 and 100000."),
        ("max_storage_mb", "many", "Not a valid integer value."),
        ("api_requests_per_minute", "10000000", "Number must be between 0 and 100000."),
        ("max_storage_mb", "99999999999", "Number must be between 0 and 10000000."),
    ],
)
def test_operator_quota_form_refuses_bad_values_and_changes_nothing(
    console, make_tenant, field, value, problem
):
    firm = make_tenant(max_users=5, max_storage_mb=50)
    values = {"max_users": "5", "max_storage_mb": "50", "api_requests_per_minute": ""}
    values[field] = value
    refused = quota_form(console, firm, **values)
    assert refused.status_code == 400
    assert problem in refused.get_data(as_text=True)
    firm = reload(firm)
    assert (firm.max_users, firm.max_storage_mb, firm.api_requests_per_minute) == (5, 50, None)


def test_operator_is_told_when_a_firm_already_exceeds_a_lowered_quota(
    console, make_tenant, make_user
):
    firm = make_tenant()
    for role in ("owner", "staff", "staff"):
        make_user(firm, role)
    saved = quota_form(console, firm, max_users="2", max_storage_mb="", api_requests_per_minute="")
    assert saved.status_code == 302
    page = console.get(saved.headers["Location"]).get_data(as_text=True)
    assert "already has 3 users (members and pending invitations) for a quota of 2" in page
    assert "nobody new can join until it has fewer" in page


def test_the_firms_list_shows_users_against_their_quota(console, make_tenant, make_user):
    firm = make_tenant(max_users=7)
    make_user(firm, "owner")
    make_user(firm, "staff")
    page = console.get("/operator/").get_data(as_text=True)
    row = page[page.index(f'data-firm="{firm.slug}"') :]
    row = row[: row.index("</tr>")]
    assert '2 <small class="text-muted">/ 7</small>' in row


@pytest.mark.parametrize(
    "path",
    ["/operator/firms/{slug}/quotas", "/operator/firms/{slug}/usage", "/operator/overview"],
)
def test_a_firm_owner_cannot_open_the_operator_pages(tenant_client, path):
    client, firm, _owner = tenant_client("owner")
    assert client.get(path.format(slug=firm.slug)).status_code == 404
    token = csrf_token(client, f"/{firm.slug}/")
    posted = client.post(
        f"/operator/firms/{firm.slug}/quotas", data={"max_users": "1000", "csrf_token": token}
    )
    assert posted.status_code == 404
    assert reload(firm).max_users is None
