"""The workflow settings pages: list, structured editor, JSON editor, preview, publish,
versions, the module's changed default, reset, and moving documents between versions."""

from __future__ import annotations

import copy
import html
import json
import re
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import registry
from distretto.platform.workflow.engine import WorkflowDefinition
from distretto.tenants import workflow_editor
from distretto.testing.plugin import csrf_token
from tests.support.sample import DEFAULT_WORKFLOW
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

EDITOR = "/{slug}/settings/workflows/sample_request"


@contextmanager
def in_firm(tenant, actor_id=None):
    """Read what the requests committed (drop the test's own snapshot first)."""
    db.session.rollback()
    with tenant_context(tenant, actor_id):
        yield
    db.session.rollback()


def version_count(tenant) -> int:
    with in_firm(tenant):
        return db.session.execute(select(func.count()).select_from(WorkflowDefinition)).scalar()


class FormReader(HTMLParser):
    """Collects what a browser would submit from the form whose action ends with ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self.select: dict | None = None
        self.textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").split("#")[0].endswith(self.action)
            self.found = self.found or self.inside
            return
        if not self.inside or not a.get("name"):
            if tag == "option" and self.select is not None:
                self.select["options"].append((a.get("value"), "selected" in a))
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self.select = {"name": a["name"], "options": [], "multiple": "multiple" in a}
        elif tag == "textarea":
            self.textarea = [a["name"], ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            options = self.select["options"]
            chosen = [v for v, selected in options if selected]
            if not chosen and options and not self.select["multiple"]:
                chosen = [options[0][0]]
            self.fields += [(self.select["name"], v) for v in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


class Form:
    """The fields of a form read from a page, to change and post like a person would."""

    def __init__(self, html: str, action: str) -> None:
        reader = FormReader(action)
        reader.feed(html)
        assert reader.found, f"no form posting to ...{action} on the page"
        self.data = MultiDict(reader.fields)

    def set(self, name: str, *values: str) -> Form:
        self.data.setlist(name, list(values))
        return self

    def get(self, name: str) -> str | None:
        return self.data.get(name)

    def with_op(self, op: str) -> MultiDict:
        data = self.data.copy()
        data["op"] = op
        return data


def state_index(form: Form, name: str) -> int:
    for key, value in form.data.items(multi=True):
        if key.startswith("states-") and key.endswith("-name") and value == name:
            return int(key.split("-")[1])
    raise AssertionError(f"no state {name!r} in the form")


def transition_index(form: Form, name: str) -> int:
    for key, value in form.data.items(multi=True):
        if key.startswith("transitions-") and key.count("-") == 2 and key.endswith("-name"):
            if value == name:
                return int(key.split("-")[1])
    raise AssertionError(f"no transition {name!r} in the form")


def text(page: str) -> str:
    """A page's text as a person reads it (character references decoded)."""
    return html.unescape(page)


def open_editor(client, tenant):
    response = client.get(EDITOR.format(slug=tenant.slug))
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- who may use the pages ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_get_403_on_workflow_pages(tenant_client, role):
    client, tenant, _user = tenant_client(role, modules=["sample"])
    owner_pages = [
        f"/{tenant.slug}/settings/workflows",
        EDITOR.format(slug=tenant.slug),
    ]
    for path in owner_pages:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, f"/{tenant.slug}/")
    for action in ("edit", "preview", "publish", "reset", "migrate"):
        path = EDITOR.format(slug=tenant.slug) + "/" + action
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert version_count(tenant) == 0


def test_workflow_of_a_module_the_firm_has_not_enabled_is_404(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert client.get(EDITOR.format(slug=tenant.slug)).status_code == 404
    assert client.get(f"/{tenant.slug}/settings/workflows/no_such_type").status_code == 404
    listing = client.get(f"/{tenant.slug}/settings/workflows").get_data(as_text=True)
    assert "Sample request" not in text(listing)


# --- the list and the editor page ------------------------------------------------------------


def test_list_shows_each_document_type_with_the_version_in_use(tenant_client):
    client, tenant, _user = tenant_client("admin", modules=["sample"])
    page = client.get(f"/{tenant.slug}/settings/workflows").get_data(as_text=True)
    assert 'id="workflow-sample_request"' in text(page)
    assert "Version 1" in text(page)
    assert "the module's default" in text(page)
    assert EDITOR.format(slug=tenant.slug) in text(page)


def test_editor_shows_states_transitions_and_the_choices_a_person_needs(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    page = open_editor(client, tenant)
    form = Form(page, "/publish")

    assert [form.get(f"states-{i}-name") for i in range(5)] == [
        "draft",
        "submitted",
        "approved",
        "rejected",
        "done",
    ]
    assert form.get("states-0-kind") == "initial"
    assert form.data.getlist("states-1-locked_fields") == ["title"]
    submit = transition_index(form, "submit")
    assert form.data.getlist(f"transitions-{submit}-sources") == ["draft"]
    assert form.get(f"transitions-{submit}-target") == "submitted"
    assert form.get(f"transitions-{submit}-permission") == "sample.edit"
    assert form.get(f"transitions-{submit}-conditions-0-field") == "amount"
    assert form.get(f"transitions-{submit}-conditions-0-op") == ">"
    assert form.get(f"transitions-{submit}-actions-0-name") == "sample.stamp"
    assert json.loads(form.get(f"transitions-{submit}-actions-0-params")) == {"note": "submitted"}
    reject = transition_index(form, "reject")
    assert form.get(f"transitions-{reject}-comment_required") == "y"
    # every input has a label a screen reader can read
    assert 'for="states-0-name"' in text(page)
    assert 'for="transitions-0-permission"' in page
    # the choices come from what the firm has: actions, permissions (with roles), fields
    assert "Stamp a note" in text(page)
    assert "sample.approve (Owner, Administrator)" in text(page)
    assert '<option value="due_on">Due on</option>' in text(page)
    # and the JSON alternative holds the same definition
    json_form = Form(page, "/publish")
    assert json_form.get("editor") == "tables"
    assert "Advanced: edit as JSON" in text(page)


def test_adding_a_state_through_htmx_returns_the_tables_with_the_new_row_focused(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/edit",
        data=form.with_op("add_state"),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="workflow-tables">')
    assert "<html" not in text(fragment)
    [new_row] = re.findall(r'<input[^>]*id="states-5-name"[^>]*>', fragment)
    assert 'value=""' in new_row
    assert new_row.endswith(" autofocus>")
    assert version_count(tenant) == 1  # the default was copied in; nothing was published


def test_row_buttons_work_without_javascript_too(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")
    reject = transition_index(form, "reject")

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/edit", data=form.with_op(f"remove_transition:{reject}")
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in text(page)
    after = Form(page, "/publish")
    with pytest.raises(AssertionError):
        transition_index(after, "reject")
    assert transition_index(after, "approve") is not None


def test_renaming_a_state_renames_it_in_the_transitions(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")
    form.set(f"states-{state_index(form, 'submitted')}-name", "sent")

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/preview",
        data=form.with_op("preview"),
        headers={"HX-Request": "true"},
    )

    page = response.get_data(as_text=True)
    assert "The workflow is valid" in text(page)
    assert "States added" in text(page)
    assert "sent" in page
    after = Form(page, "/publish")
    approve = transition_index(after, "approve")
    assert after.data.getlist(f"transitions-{approve}-sources") == ["sent"]
    assert after.get(f"transitions-{transition_index(after, 'submit')}-target") == "sent"


def test_preview_lists_every_problem_naming_its_part_and_saves_nothing(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")
    form.set(f"states-{state_index(form, 'approved')}-kind", "initial")
    form.set(f"transitions-{transition_index(form, 'close')}-permission", "sample.no_such")
    before = version_count(tenant)

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/preview",
        data=form.with_op("preview"),
        headers={"HX-Request": "true"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "cannot be published yet" in text(page)
    problems = text(page).split('class="mb-0 workflow-problems">')[1].split("</ul>")[0]
    assert problems.count("<li>") == 2
    assert "initial" in problems
    assert "'approved'" in problems
    assert "transitions[3] 'close': unknown permission 'sample.no_such'" in text(page)
    assert version_count(tenant) == before


def test_preview_of_a_valid_workflow_shows_its_states_and_transitions(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/preview",
        data=form.with_op("preview"),
        headers={"HX-Request": "true"},
    )

    page = response.get_data(as_text=True)
    assert "The workflow is valid and can be published." in text(page)
    assert "It is the same as version 1" in text(page)
    assert "Submit → Submitted" in text(page)
    assert "only when amount > 0" in text(page)


def test_bad_action_parameters_are_reported_on_the_action(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")
    submit = transition_index(form, "submit")
    form.set(f"transitions-{submit}-actions-0-params", "note=done")

    response = client.post(EDITOR.format(slug=tenant.slug) + "/preview", data=form.with_op("x"))

    page = response.get_data(as_text=True)
    assert "transitions[0] 'submit'.actions[0]: parameters must be a JSON object" in text(page)


# --- publishing ---------------------------------------------------------------------------------


def test_workflow_built_in_the_tables_is_published_and_new_documents_follow_it(
    tenant_client,
):
    """A firm adds a check step between submitted and approved, using only the page."""
    client, tenant, user = tenant_client("owner", modules=["sample"])
    url = EDITOR.format(slug=tenant.slug)
    with in_firm(tenant, user.id):
        early = create_request("Started before", "10")
        db.session.commit()
        early_id = early.id

    form = Form(open_editor(client, tenant), "/publish")
    form = Form(
        client.post(url + "/edit", data=form.with_op("add_state")).get_data(True), "/publish"
    )
    new_state = state_index(form, "")  # the new, empty row
    form.set(f"states-{new_state}-name", "checked")
    form.set(f"states-{new_state}-label_en", "Checked")
    form.set(f"states-{new_state}-locked_fields", "amount")
    # a preview refreshes the choices, so the new state can be picked in the transitions
    preview = client.post(url + "/preview", data=form.with_op("preview")).get_data(True)
    assert "state 'checked' cannot be reached from the initial state" in text(preview)
    form = Form(preview, "/publish")
    form = Form(
        client.post(url + "/edit", data=form.with_op("add_transition")).get_data(True), "/publish"
    )
    check = transition_index(form, "")
    form.set(f"transitions-{check}-name", "check")
    form.set(f"transitions-{check}-label_en", "Check")
    form.set(f"transitions-{check}-sources", "submitted")
    form.set(f"transitions-{check}-target", "checked")
    form.set(f"transitions-{check}-permission", "sample.approve")
    form.set(f"transitions-{check}-comment_required", "y")
    form.set(f"transitions-{transition_index(form, 'approve')}-sources", "checked")
    form.set("note", "checked before approval")

    response = client.post(url + "/publish", data=form.data)

    assert response.status_code == 303, response.get_data(True)
    page = client.get(response.headers["Location"]).get_data(True)
    assert "Version 2 of the workflow is published" in text(page)
    assert "Version 2 is in use" in text(page)
    assert "checked before approval" in text(page)
    with in_firm(tenant, user.id):
        current = workflow.current_definition("sample_request")
        assert current.version == 2
        assert current.source == "custom"
        states = {s["name"]: s for s in current.definition["states"]}
        assert states["checked"] == {
            "name": "checked",
            "label": "Checked",
            "locked_fields": ["amount"],
        }
        assert current.published_by_id == user.id

        document = create_request("Bolts", "100")
        workflow.apply(document, "sample_request", "submit", role="staff")
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(document, "sample_request", "approve", role="owner")
        with pytest.raises(workflow.TransitionRefused, match="comment"):
            workflow.apply(document, "sample_request", "check", role="owner")
        workflow.apply(document, "sample_request", "check", role="owner", comment="fine")
        workflow.apply(document, "sample_request", "approve", role="owner")
        assert document.state == "approved"
        document_id = document.id

        started_before = db.session.get(SampleRequest, early_id)
        workflow.apply(started_before, "sample_request", "submit", role="staff")
        workflow.apply(started_before, "sample_request", "approve", role="owner")
        assert started_before.state == "approved"  # still on version 1
        db.session.commit()

    # and the document's own page offers the new button
    detail = client.get(f"/{tenant.slug}/sample/{document_id}").get_data(True)
    assert "approved" in text(detail)


def test_publish_of_an_invalid_workflow_is_refused_with_its_problems_and_saves_nothing(
    tenant_client,
):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    form = Form(open_editor(client, tenant), "/publish")
    form.set(f"transitions-{transition_index(form, 'submit')}-target", "")
    form.set(f"transitions-{transition_index(form, 'approve')}-actions-0-name", "sample.nope")
    before = version_count(tenant)

    response = client.post(EDITOR.format(slug=tenant.slug) + "/publish", data=form.data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "cannot be published yet" in text(page)
    assert "transitions[0] 'submit': unknown state '' in 'to'" in text(page)
    # the person's edits are still on the page, to fix
    assert Form(page, "/publish").get("transitions-0-target") == ""
    assert version_count(tenant) == before
    with in_firm(tenant):
        assert workflow.current_definition("sample_request").version == 1


def test_workflow_published_as_json_becomes_the_next_version(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    definition = copy.deepcopy(DEFAULT_WORKFLOW)
    definition["transitions"][1]["conditions"] = {"field": "amount", "op": "<=", "value": "500"}
    token = csrf_token(client, EDITOR.format(slug=tenant.slug))

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/publish",
        data={"csrf_token": token, "editor": "json", "definition_json": json.dumps(definition)},
    )

    assert response.status_code == 303
    with in_firm(tenant):
        current = workflow.current_definition("sample_request")
        assert current.version == 2
        assert current.definition == definition
        document = create_request("Expensive", "900")
        workflow.apply(document, "sample_request", "submit", role="staff")
        with pytest.raises(workflow.TransitionRefused, match="<= 500"):
            workflow.apply(document, "sample_request", "approve", role="owner")


def test_json_that_does_not_parse_is_reported_with_its_line_and_nothing_is_saved(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    token = csrf_token(client, EDITOR.format(slug=tenant.slug))
    broken = '{\n  "states": [,\n}'
    before = version_count(tenant)

    preview = client.post(
        EDITOR.format(slug=tenant.slug) + "/preview",
        data={"csrf_token": token, "editor": "json", "definition_json": broken},
        headers={"HX-Request": "true"},
    )
    publish = client.post(
        EDITOR.format(slug=tenant.slug) + "/publish",
        data={"csrf_token": token, "editor": "json", "definition_json": broken},
    )

    assert preview.status_code == 200
    fragment = preview.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="workflow-json">')
    assert "The JSON is not valid (line 2, column 14)" in text(fragment)
    assert publish.status_code == 400
    assert "The JSON is not valid" in publish.get_data(as_text=True)
    assert version_count(tenant) == before


def test_tables_keep_what_they_do_not_show(tenant_client):
    """Nested conditions and extra keys survive a round trip through the tables."""
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    definition = copy.deepcopy(DEFAULT_WORKFLOW)
    definition["transitions"][1]["conditions"] = {
        "any": [
            {"field": "amount", "op": "<", "value": "100"},
            {"not": {"field": "title", "op": "contains", "value": "urgent"}},
        ]
    }
    definition["transitions"][1]["style"] = "success"
    definition["states"][0]["description"] = "where it starts"
    with in_firm(tenant):
        workflow.publish("sample_request", definition)
        db.session.commit()
    page = open_editor(client, tenant)
    assert "too complex for the table" in text(page)

    response = client.post(
        EDITOR.format(slug=tenant.slug) + "/publish", data=Form(page, "/publish").data
    )

    assert response.status_code == 303
    with in_firm(tenant):
        assert workflow.current_definition("sample_request").definition == definition


# --- versions, the module's default, reset ----------------------------------------------------


def test_versions_are_listed_and_an_old_one_can_be_loaded_into_the_editor(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    changed = copy.deepcopy(DEFAULT_WORKFLOW)
    changed["states"][4]["label"] = "Closed"
    with in_firm(tenant):
        workflow.current_definition("sample_request")
        workflow.publish("sample_request", changed, note="renamed done")
        db.session.commit()

    page = open_editor(client, tenant)
    assert "renamed done" in text(page)
    assert "load=1" in text(page)

    old = client.get(EDITOR.format(slug=tenant.slug) + "?load=1").get_data(as_text=True)
    assert "The editor shows version 1" in text(old)
    form = Form(old, "/publish")
    assert form.get(f"states-{state_index(form, 'done')}-label_en") == "Done"


def test_changed_module_default_is_shown_as_a_diff_and_can_be_adopted(tenant_client, monkeypatch):
    client, tenant, _user = tenant_client("owner", modules=["sample"])
    custom = copy.deepcopy(DEFAULT_WORKFLOW)
    custom["states"][4]["label"] = "Closed"
    with in_firm(tenant):
        workflow.publish("sample_request", custom)
        db.session.commit()
    new_default = copy.deepcopy(DEFAULT_WORKFLOW)
    new_default["transitions"].append(
        {"name": "reopen", "label": "Reopen", "from": ["approved"], "to": "draft"}
    )
    monkeypatch.setattr(registry.document_types["sample_request"], "default_workflow", new_default)

    page = open_editor(client, tenant)
    assert "The module's default workflow has changed" in text(page)
    assert "Transitions added" in text(page)
    assert "reopen" in page
    assert "Version 2 is in use" in text(page)  # the firm keeps its own
    listing = client.get(f"/{tenant.slug}/settings/workflows").get_data(as_text=True)
    assert "the default has changed" in text(listing)

    loaded = client.get(EDITOR.format(slug=tenant.slug) + "?load=default").get_data(True)
    assert transition_index(Form(loaded, "/publish"), "reopen") is not None

    token = csrf_token(client, EDITOR.format(slug=tenant.slug))
    response = client.post(EDITOR.format(slug=tenant.slug) + "/reset", data={"csrf_token": token})
    assert response.status_code == 303
    with in_firm(tenant):
        current = workflow.current_definition("sample_request")
        assert (current.version, current.source) == (3, "default")
        assert current.definition == new_default
    assert "has changed" not in open_editor(client, tenant)


# --- moving documents between versions --------------------------------------------------------


def _two_versions_with_documents(tenant, user):
    renamed = copy.deepcopy(DEFAULT_WORKFLOW)
    renamed["states"][1]["name"] = "sent"
    renamed["transitions"][0]["to"] = "sent"
    renamed["transitions"][1]["from"] = ["sent"]
    renamed["transitions"][2]["from"] = ["sent"]
    with in_firm(tenant, user.id):
        drafts = [create_request(f"Draft {n}", "5") for n in range(2)]
        submitted = create_request("Submitted", "5")
        workflow.apply(submitted, "sample_request", "submit", role="owner")
        workflow.publish("sample_request", renamed)
        db.session.commit()
        return [d.id for d in drafts], submitted.id


def test_migration_form_offers_one_choice_per_state_in_use(tenant_client):
    client, tenant, user = tenant_client("owner", modules=["sample"])
    _two_versions_with_documents(tenant, user)

    page = open_editor(client, tenant)

    assert 'name="map-draft"' in text(page)
    assert 'name="map-submitted"' in page
    assert 'name="map-approved"' not in text(page)
    form = Form(page, "/migrate")
    assert form.get("from_version") == "1"
    assert form.get("to_version") == "2"
    assert form.get("map-draft") == "draft"  # same name preselected
    assert form.get("map-submitted") == ""  # no such state on version 2: the person chooses
    partial = client.get(
        EDITOR.format(slug=tenant.slug) + "?from_version=2&to_version=1",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "No documents are on version 2." in text(partial)


def test_migration_with_a_state_left_unmapped_moves_nothing(tenant_client):
    client, tenant, user = tenant_client("owner", modules=["sample"])
    draft_ids, submitted_id = _two_versions_with_documents(tenant, user)
    form = Form(open_editor(client, tenant), "/migrate")

    response = client.post(EDITOR.format(slug=tenant.slug) + "/migrate", data=form.data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "No documents were moved" in text(page)
    assert "state 'submitted' is in use on version 1 but not mapped" in text(page)
    with in_firm(tenant):
        versions = {
            d.id: d.workflow_id for d in db.session.execute(select(SampleRequest)).scalars()
        }
        assert len(set(versions.values())) == 1


def test_migration_with_a_full_mapping_moves_every_document(tenant_client):
    client, tenant, user = tenant_client("owner", modules=["sample"])
    draft_ids, submitted_id = _two_versions_with_documents(tenant, user)
    form = Form(open_editor(client, tenant), "/migrate").set("map-submitted", "sent")

    response = client.post(EDITOR.format(slug=tenant.slug) + "/migrate", data=form.data)

    assert response.status_code == 303
    assert "3 documents moved from version 1 to version 2" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    with in_firm(tenant, user.id):
        moved = db.session.get(SampleRequest, submitted_id)
        assert moved.state == "sent"
        workflow.apply(moved, "sample_request", "approve", role="owner")
        assert moved.state == "approved"
        assert db.session.get(SampleRequest, draft_ids[0]).state == "draft"


def test_migration_between_the_same_version_is_refused(tenant_client):
    client, tenant, user = tenant_client("owner", modules=["sample"])
    _two_versions_with_documents(tenant, user)
    form = Form(open_editor(client, tenant), "/migrate").set("to_version", "1")

    response = client.post(EDITOR.format(slug=tenant.slug) + "/migrate", data=form.data)

    assert response.status_code == 400
    assert "Choose two different versions." in response.get_data(as_text=True)


# --- the editor's model, without HTTP ------------------------------------------------------------


def test_tables_give_back_exactly_the_definition_they_were_made_from():
    model = workflow_editor.model_from_definition(DEFAULT_WORKFLOW, "it")
    assert workflow_editor.definition_from_model(model) == DEFAULT_WORKFLOW


def test_plain_labels_stay_plain_and_two_languages_become_a_pair():
    assert workflow_editor.join_label("", "Draft") == "Draft"
    assert workflow_editor.join_label("Bozza", " ") == "Bozza"
    assert workflow_editor.join_label("Bozza", "Draft") == {"it": "Bozza", "en": "Draft"}
    assert workflow_editor.split_label("Draft", "en") == ("", "Draft")
    assert workflow_editor.split_label({"it": "Bozza"}, "en") == ("Bozza", "")


@pytest.mark.parametrize(
    "operation",
    ["remove_state:99", "remove_condition:0:7", "add_action:-1", "remove_state:x", "explode", ""],
)
def test_editor_buttons_out_of_range_change_nothing(operation):
    model = workflow_editor.model_from_definition(DEFAULT_WORKFLOW, "it")
    before = copy.deepcopy(model)
    assert workflow_editor.apply_operation(model, operation) is None
    assert model == before


def test_actions_can_be_reordered_and_conditions_on_lists_split_on_commas():
    model = workflow_editor.model_from_definition(DEFAULT_WORKFLOW, "it")
    workflow_editor.apply_operation(model, "add_action:0")
    model["transitions"][0]["actions"][1]["name"] = "sample.fail"
    assert workflow_editor.apply_operation(model, "action_up:0:1") == "transitions-0-actions-0-name"
    model["transitions"][0]["conditions"][0].update(op="in", value="1, 2 ,3")

    definition = workflow_editor.definition_from_model(model)

    assert [a["name"] for a in definition["transitions"][0]["actions"]] == [
        "sample.fail",
        "sample.stamp",
    ]
    assert definition["transitions"][0]["conditions"] == {
        "field": "amount",
        "op": "in",
        "value": ["1", "2", "3"],
    }
