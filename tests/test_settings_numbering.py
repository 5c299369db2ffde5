"""The numbering settings pages: formats with a live example, yearly reset, errors inline."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from distretto.platform import numbering
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token
from tests.support.sample.services import create_request

RULE = "/{slug}/settings/numbering/sample_request"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored_rule(tenant):
    db.session.rollback()
    with tenant_context(tenant):
        row = db.session.execute(select(numbering.NumberingRule)).scalar_one_or_none()
        result = None if row is None else (row.format, row.yearly_reset)
    db.session.rollback()
    return result


def save(client, tenant, **data):
    token = csrf_token(client, RULE.format(slug=tenant.slug))
    return client.post(RULE.format(slug=tenant.slug), data={"csrf_token": token, **data})


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_get_403_and_change_nothing(tenant_client, role):
    client, tenant, _user = tenant_client(role, modules=["sample"])
    assert client.get(f"/{tenant.slug}/settings/numbering").status_code == 403
    assert client.get(RULE.format(slug=tenant.slug)).status_code == 403
    assert client.get(RULE.format(slug=tenant.slug) + "/preview?format={seq}").status_code == 403
    token = csrf_token(client, f"/{tenant.slug}/")
    response = client.post(
        RULE.format(slug=tenant.slug), data={"csrf_token": token, "format": "X-{seq}"}
    )
    assert response.status_code == 403
    assert stored_rule(tenant) is None


def test_list_shows_each_document_type_with_its_format_and_an_example(tenant_client):
    client, tenant, _user = tenant_client("admin", modules=["sample"])

    page = page_text(client.get(f"/{tenant.slug}/settings/numbering"))

    row = page.split('id="numbering-sample_request"')[1].split("</tr>")[0]
    assert "SR-{year}-{seq:04}" in row
    assert f"SR-{date.today().year}-0001" in row
    assert row.count("yes") == 2  # yearly reset, and gapless as the module requires


def test_live_example_follows_the_format_being_typed(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    page = page_text(client.get(RULE.format(slug=tenant.slug)))
    assert f'hx-get="/{tenant.slug}/settings/numbering/sample_request/preview"' in page

    good = client.get(
        RULE.format(slug=tenant.slug) + "/preview",
        query_string={"format": "RQ/{yy}/{seq:03}"},
        headers={"HX-Request": "true"},
    )
    bad = client.get(
        RULE.format(slug=tenant.slug) + "/preview",
        query_string={"format": "RQ-{year}"},
        headers={"HX-Request": "true"},
    )

    assert good.status_code == 200
    assert f"Example: RQ/{date.today().year % 100:02d}/001" in page_text(good)
    assert bad.status_code == 200  # htmx swaps only successful answers
    assert "The format must contain {seq}." in page_text(bad)
    assert stored_rule(tenant) is None


def test_saved_format_numbers_the_next_documents(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    response = save(client, tenant, format="RQ-{seq:03}")

    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert "Numbering of Sample request saved." in page
    assert stored_rule(tenant) == ("RQ-{seq:03}", False)
    with tenant_context(tenant):
        assert create_request("First", "1").number == "RQ-001"
        assert create_request("Second", "1").number == "RQ-002"
        db.session.commit()


def test_yearly_reset_can_be_kept(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    assert save(client, tenant, format="{year}/{seq}", yearly_reset="y").status_code == 303
    assert stored_rule(tenant) == ("{year}/{seq}", True)
    form = page_text(client.get(RULE.format(slug=tenant.slug)))
    [checkbox] = re.findall(r'<input[^>]*id="yearly_reset"[^>]*>', form)
    assert "checked" in checkbox


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("SR-{year}", "The format must contain {seq}."),
        ("SR-{seq}-{client}", "{client}"),
        ("SR-{seq", "{"),
        ("", "This field is required."),
    ],
)
def test_invalid_format_is_shown_on_the_form_and_nothing_changes(tenant_client, fmt, message):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    assert save(client, tenant, format="OK-{seq}").status_code == 303

    response = save(client, tenant, format=fmt, yearly_reset="y")

    assert response.status_code == 400
    page = page_text(response)
    assert message in page.split('id="format-error">')[1].split("</div>")[0]
    assert 'aria-describedby="format-help numbering-preview format-error"' in page
    assert stored_rule(tenant) == ("OK-{seq}", False)
