"""Exporting and importing a firm's whole customisation as one JSON file: all or nothing."""

from __future__ import annotations

import copy
import html
import io
import json

import pytest
from sqlalchemy import func, select

from distretto.platform import customfields, numbering, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.workflow.engine import WorkflowDefinition
from distretto.testing.plugin import csrf_token
from tests.support.sample import DEFAULT_WORKFLOW

PAGE = "/{slug}/settings/customisation"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def customisation_of(tenant) -> dict:
    """What the firm has now: workflow versions, custom fields and numbering rules."""
    db.session.rollback()
    with tenant_context(tenant):
        state = {
            "versions": db.session.execute(
                select(func.count()).select_from(WorkflowDefinition)
            ).scalar(),
            "fields": sorted(
                (d.name, d.field_type, d.label)
                for d in customfields.definitions("sample_request", include_inactive=True)
            ),
            "numbering": [
                (r.format, r.yearly_reset)
                for r in db.session.execute(select(numbering.NumberingRule)).scalars()
            ],
        }
    db.session.rollback()
    return state


def upload(client, tenant, content, **extra):
    token = csrf_token(client, PAGE.format(slug=tenant.slug))
    body = content if isinstance(content, bytes) else json.dumps(content).encode()
    return client.post(
        PAGE.format(slug=tenant.slug) + "/import",
        data={"csrf_token": token, "bundle": (io.BytesIO(body), "customisation.json"), **extra},
        content_type="multipart/form-data",
    )


def a_bundle() -> dict:
    flow = copy.deepcopy(DEFAULT_WORKFLOW)
    flow["transitions"][1]["conditions"] = {"field": "priority", "op": "==", "value": "high"}
    return {
        "format": "distretto.customisation/1",
        "workflows": {"sample_request": flow},
        "custom_fields": {
            "sample_request": [
                {
                    "name": "priority",
                    "label": "Priority",
                    "type": "choice",
                    "choices": ["low", "high"],
                }
            ]
        },
        "numbering": {"sample_request": {"format": "IMP-{seq:03}", "yearly_reset": False}},
    }


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_get_403_and_import_nothing(tenant_client, role):
    client, tenant, _user = tenant_client(role, modules=["sample"])
    assert client.get(PAGE.format(slug=tenant.slug)).status_code == 403
    assert client.get(PAGE.format(slug=tenant.slug) + "/export").status_code == 403
    token = csrf_token(client, f"/{tenant.slug}/")
    response = client.post(
        PAGE.format(slug=tenant.slug) + "/import",
        data={"csrf_token": token, "bundle": (io.BytesIO(json.dumps(a_bundle()).encode()), "x")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert customisation_of(tenant) == {"versions": 0, "fields": [], "numbering": []}


def test_export_downloads_what_the_firm_changed(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    with tenant_context(tenant):
        customfields.define("sample_request", {"name": "colour", "label": "Colour", "type": "text"})
        numbering.set_rule("sample_request", "EX-{seq}", False)
        db.session.commit()
    page = page_text(client.get(PAGE.format(slug=tenant.slug)))
    assert "Document types with custom fields: 1" in page
    assert "Customised workflows: 0" in page

    response = client.get(PAGE.format(slug=tenant.slug) + "/export")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="{tenant.slug}-customisation.json"'
    )
    bundle = json.loads(response.get_data(as_text=True))
    assert bundle["format"] == "distretto.customisation/1"
    assert bundle["custom_fields"]["sample_request"][0]["name"] == "colour"
    assert bundle["numbering"] == {"sample_request": {"format": "EX-{seq}", "yearly_reset": False}}
    assert bundle["workflows"] == {}


def test_exported_file_imported_into_another_firm_gives_it_the_same_customisation(
    tenant_client,
):
    source_client, source, _owner = tenant_client("owner", modules=["sample"])
    assert upload(source_client, source, a_bundle()).status_code == 303
    exported = source_client.get(PAGE.format(slug=source.slug) + "/export").get_data()
    client, tenant, _user = tenant_client("admin", modules=["sample"])

    response = upload(client, tenant, exported)

    assert response.status_code == 303
    assert "Customisation imported." in page_text(client.get(response.headers["Location"]))
    assert customisation_of(tenant) == {
        "versions": 2,
        "fields": [("priority", "choice", "Priority")],
        "numbering": [("IMP-{seq:03}", False)],
    }
    with tenant_context(tenant):
        current = workflow.current_definition("sample_request")
        assert current.source == "import"
        assert current.definition == a_bundle()["workflows"]["sample_request"]


def test_file_that_is_not_json_is_refused_and_changes_nothing(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    response = upload(client, tenant, b"\x89PNG not json at all")

    assert response.status_code == 400
    assert "The file is not JSON" in page_text(response)
    assert customisation_of(tenant) == {"versions": 0, "fields": [], "numbering": []}


def test_missing_file_is_refused_on_the_form(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    token = csrf_token(client, PAGE.format(slug=tenant.slug))

    response = client.post(
        PAGE.format(slug=tenant.slug) + "/import",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "Choose a file exported from Distretto." in page_text(response)


def test_bundle_with_several_problems_lists_each_and_applies_none(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    bundle = a_bundle()
    bundle["custom_fields"]["sample_request"].append({"name": "Bad Name", "label": "x"})
    bundle["workflows"]["sample_request"]["transitions"][0]["to"] = "nowhere"
    bundle["numbering"]["sample_request"]["format"] = "IMP-{year}"

    response = upload(client, tenant, bundle)

    assert response.status_code == 400
    page = page_text(response)
    problems = page.split('id="import-problems"')[1].split("</div>")[0]
    assert "Nothing was imported" in problems
    assert "custom_fields.sample_request[1]" in problems
    assert "workflows.sample_request: transitions[0] 'submit': unknown state 'nowhere'" in problems
    assert "numbering.sample_request: The format must contain {seq}." in problems
    assert customisation_of(tenant) == {"versions": 0, "fields": [], "numbering": []}


def test_a_problem_found_while_applying_rolls_back_what_was_already_applied(tenant_client):
    """A field whose type differs from the firm's existing one: the new field, the workflow
    and the numbering in the same file must not stay either."""
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    with tenant_context(tenant):
        customfields.define("sample_request", {"name": "size", "label": "Size", "type": "text"})
        db.session.commit()
    before = customisation_of(tenant)
    bundle = a_bundle()
    bundle["custom_fields"]["sample_request"].append(
        {"name": "size", "label": "Size", "type": "integer"}
    )

    response = upload(client, tenant, bundle)

    assert response.status_code == 400
    problems = page_text(response).split('id="import-problems"')[1].split("</div>")[0]
    assert "cannot change" in problems
    assert customisation_of(tenant) == before


def test_parts_for_modules_not_enabled_are_refused_or_skipped_on_request(tenant_client):
    client, tenant, _user = tenant_client("owner")
    bundle = {"format": "distretto.customisation/1", "numbering": a_bundle()["numbering"]}

    refused = upload(client, tenant, bundle)

    assert refused.status_code == 400
    assert "numbering.sample_request: no enabled module offers this document type" in page_text(
        refused
    )

    skipped = upload(client, tenant, bundle, skip_unavailable="y")

    assert skipped.status_code == 303
    assert "Skipped (module not enabled): sample_request." in page_text(
        client.get(skipped.headers["Location"])
    )
