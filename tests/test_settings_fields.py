"""The custom-fields settings pages: list, add, edit, hide; errors shown on the form."""

from __future__ import annotations

import html

import pytest
from marshmallow import ValidationError

from distretto.platform import customfields
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token
from tests.support.sample.services import create_request

FIELDS = "/{slug}/settings/fields/sample_request"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_rows(tenant) -> list[customfields.CustomFieldDefinition]:
    db.session.rollback()
    with tenant_context(tenant):
        rows = customfields.definitions("sample_request", include_inactive=True)
        db.session.expunge_all()
    db.session.rollback()
    return rows


def add(client, tenant, **data):
    token = csrf_token(client, FIELDS.format(slug=tenant.slug))
    values = {"name": "", "label": "", "field_type": "text", "csrf_token": token, **data}
    return client.post(FIELDS.format(slug=tenant.slug), data=values)


def define(tenant, **data):
    with tenant_context(tenant):
        row = customfields.define("sample_request", data)
        db.session.commit()
        return row.id


def error_of(page: str, field_id: str) -> str:
    marker = f'id="{field_id}-error">'
    assert marker in page, f"no error under {field_id}"
    return page.split(marker)[1].split("</div>")[0]


# --- who may use the pages ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_get_403_and_add_nothing(tenant_client, role):
    client, tenant, _user = tenant_client(role, modules=["sample"])
    field_id = define(tenant, name="colour", label="Colour", type="text")
    assert client.get(f"/{tenant.slug}/settings/fields").status_code == 403
    assert client.get(FIELDS.format(slug=tenant.slug)).status_code == 403
    assert client.get(FIELDS.format(slug=tenant.slug) + f"/{field_id}").status_code == 403
    token = csrf_token(client, f"/{tenant.slug}/")
    for path in ("", f"/{field_id}", f"/{field_id}/deactivate"):
        response = client.post(
            FIELDS.format(slug=tenant.slug) + path,
            data={"csrf_token": token, "name": "size", "label": "Size", "field_type": "text"},
        )
        assert response.status_code == 403
    assert [(r.name, r.label, r.active) for r in field_rows(tenant)] == [("colour", "Colour", True)]


def test_document_type_of_a_module_not_enabled_is_404(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert client.get(FIELDS.format(slug=tenant.slug)).status_code == 404
    assert client.get(f"/{tenant.slug}/settings/numbering/sample_request").status_code == 404


# --- listing -------------------------------------------------------------------------------


def test_list_shows_document_types_and_their_active_fields(tenant_client):
    client, tenant, _user = tenant_client("admin", modules=["sample"])
    define(tenant, name="colour", label="Colour", type="text")
    define(tenant, name="legacy", label="Legacy code", type="text", active=False)

    page = page_text(client.get(f"/{tenant.slug}/settings/fields"))

    row = page.split('id="fields-sample_request"')[1].split("</tr>")[0]
    assert "Sample request" in row
    assert "Colour" in row
    assert "Legacy code" not in row
    detail = page_text(client.get(FIELDS.format(slug=tenant.slug)))
    assert "Legacy code" in detail
    assert "hidden" in detail


# --- adding -------------------------------------------------------------------------------------


def test_added_field_is_listed_and_validated_on_documents(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    response = add(
        client,
        tenant,
        name="finish",
        label="Surface finish",
        field_type="choice",
        choices="Raw\nPolished\nPainted\n",
        required="y",
        default="Raw",
        help_text="As on the drawing",
        position="3",
    )

    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert "The field Surface finish was added." in page
    row = page.split('id="field-finish"')[1].split("</tr>")[0]
    assert "Choice" in row
    assert "Raw, Polished, Painted" in row
    assert "As on the drawing" in row
    [stored] = field_rows(tenant)
    assert (stored.field_type, stored.required, stored.default, stored.position) == (
        "choice",
        True,
        "Raw",
        3,
    )
    with tenant_context(tenant):
        assert create_request("Shaft", "3").custom == {"finish": "Raw"}
        with pytest.raises(ValidationError):
            create_request("Shaft", "3", {"finish": "Gold plated"})
        db.session.rollback()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Bad Name", "label": "x"}, "name", "lower-case letters"),
        ({"name": "amount", "label": "Amount again"}, "name", "amount is a built-in field"),
        ({"name": "finish", "label": "Finish", "field_type": "choice"}, "choices", "at least one"),
        (
            {"name": "pieces", "label": "Pieces", "field_type": "integer", "default": "many"},
            "default",
            "The default value is not valid",
        ),
        ({"name": "colour", "label": ""}, "label", "This field is required."),
    ],
)
def test_invalid_field_is_refused_with_the_error_on_the_form_and_nothing_saved(
    tenant_client, data, field, message
):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    response = add(client, tenant, **data)

    assert response.status_code == 400
    page = page_text(response)
    assert message in error_of(page, field)
    assert f'value="{data["name"]}"' in page  # what the person typed is still there
    assert field_rows(tenant) == []


def test_every_mistake_on_the_form_is_shown_at_once(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    response = add(client, tenant, name="Bad", label="")

    assert response.status_code == 400
    page = page_text(response)
    assert "lower-case letters" in error_of(page, "name")
    assert "This field is required." in error_of(page, "label")
    assert field_rows(tenant) == []


def test_a_second_field_with_the_same_name_is_refused(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    define(tenant, name="colour", label="Colour", type="text")

    response = add(client, tenant, name="colour", label="Another colour")

    assert response.status_code == 400
    assert "There is already a field named colour" in error_of(page_text(response), "name")
    assert [r.label for r in field_rows(tenant)] == ["Colour"]


# --- editing and hiding ----------------------------------------------------------------------


def test_editing_a_field_changes_its_label_but_never_its_name_or_type(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    field_id = define(tenant, name="colour", label="Colour", type="text")
    url = FIELDS.format(slug=tenant.slug) + f"/{field_id}"
    page = page_text(client.get(url))
    assert "Edit Colour" in page
    assert 'value="Colour"' in page
    token = csrf_token(client, url)

    response = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "renamed",
            "label": "Paint colour",
            "field_type": "integer",
            "help_text": "RAL code",
            "active": "y",
        },
    )

    assert response.status_code == 303
    [row] = field_rows(tenant)
    assert (row.id, row.name, row.field_type, row.label, row.help_text) == (
        field_id,
        "colour",
        "text",
        "Paint colour",
        "RAL code",
    )


def test_an_invalid_edit_shows_the_error_and_keeps_the_field_as_it_was(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    field_id = define(tenant, name="pieces", label="Pieces", type="integer")
    url = FIELDS.format(slug=tenant.slug) + f"/{field_id}"
    token = csrf_token(client, url)

    response = client.post(
        url, data={"csrf_token": token, "label": "Pieces", "default": "a dozen", "active": "y"}
    )

    assert response.status_code == 400
    assert "The default value is not valid" in error_of(page_text(response), "default")
    [row] = field_rows(tenant)
    assert row.default is None


def test_hidden_field_leaves_forms_but_its_values_stay(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    field_id = define(tenant, name="colour", label="Colour", type="text")
    with tenant_context(tenant):
        document = create_request("Painted part", "4", {"colour": "red"})
        db.session.commit()
        document_id = document.id
    token = csrf_token(client, FIELDS.format(slug=tenant.slug))

    response = client.post(
        FIELDS.format(slug=tenant.slug) + f"/{field_id}/deactivate", data={"csrf_token": token}
    )

    assert response.status_code == 303
    assert "is hidden from now on" in page_text(client.get(response.headers["Location"]))
    [row] = field_rows(tenant)
    assert row.active is False
    db.session.rollback()
    with tenant_context(tenant):
        from tests.support.sample.models import SampleRequest

        assert db.session.get(SampleRequest, document_id).custom == {"colour": "red"}
        assert customfields.schema_for("sample_request").fields == {}
    db.session.rollback()


def test_a_field_id_that_is_not_this_firms_is_404(tenant_client, make_tenant):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    other = make_tenant(modules=["sample"])
    foreign_id = define(other, name="colour", label="Colour", type="text")
    url = FIELDS.format(slug=tenant.slug) + f"/{foreign_id}"
    token = csrf_token(client, FIELDS.format(slug=tenant.slug))

    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": token, "label": "Mine"}).status_code == 404
    assert client.post(url + "/deactivate", data={"csrf_token": token}).status_code == 404
    [row] = field_rows(other)
    assert (row.label, row.active) == ("Colour", True)


def test_new_custom_field_can_be_used_in_workflow_conditions(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    add(client, tenant, name="urgent", label="Urgent", field_type="boolean")

    editor = page_text(client.get(f"/{tenant.slug}/settings/workflows/sample_request"))

    assert '<option value="urgent">Urgent</option>' in editor
