"""Workflow definitions are validated before they are saved; every fault is named."""

import copy

import pytest
from flask_babel import force_locale

from distretto.platform import customfields, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.workflow.definitions import diff, parse, validate
from tests.support.sample import DEFAULT_WORKFLOW


def sample_definition() -> dict:
    return copy.deepcopy(DEFAULT_WORKFLOW)


def problems_of(data) -> list[str]:
    return workflow.check_definition("sample_request", data)


@pytest.fixture
def firm(make_tenant):
    tenant = make_tenant(modules=["sample"])
    with tenant_context(tenant), force_locale("en"):  # problems are in the reader's language
        yield tenant


def test_the_sample_default_is_valid(firm):
    assert problems_of(sample_definition()) == []


def test_no_initial_state_is_refused(firm):
    data = sample_definition()
    data["states"][0]["kind"] = "normal"
    problems = problems_of(data)
    assert "no initial state: exactly one state must have kind 'initial'" in problems


def test_two_initial_states_are_refused_naming_both(firm):
    data = sample_definition()
    data["states"][1]["kind"] = "initial"
    problems = problems_of(data)
    assert any("2 initial states ('draft', 'submitted')" in p for p in problems), problems


def test_an_unreachable_state_is_refused_by_name(firm):
    data = sample_definition()
    data["states"].append({"name": "archived", "label": "Archived", "kind": "final"})
    assert problems_of(data) == ["state 'archived' cannot be reached from the initial state"]


def test_unknown_states_in_from_and_to_are_refused(firm):
    data = sample_definition()
    data["transitions"][1]["from"] = ["submited"]
    data["transitions"][2]["to"] = "rejectd"
    problems = problems_of(data)
    assert "transitions[1] 'approve': unknown state 'submited' in 'from'" in problems
    assert "transitions[2] 'reject': unknown state 'rejectd' in 'to'" in problems


def test_an_unknown_action_is_refused(firm):
    data = sample_definition()
    data["transitions"][1]["actions"] = [{"name": "sample.teleport"}]
    assert problems_of(data) == [
        "transitions[1] 'approve'.actions[0]: unknown action 'sample.teleport'"
    ]


def test_an_unknown_field_in_a_condition_is_refused(firm):
    data = sample_definition()
    data["transitions"][1]["conditions"] = {"field": "total", "op": ">", "value": "1"}
    assert problems_of(data) == ["transitions[1] 'approve'.conditions: unknown field 'total'"]


def test_a_wrong_operator_for_the_fields_type_is_refused(firm):
    data = sample_definition()
    data["transitions"][1]["conditions"] = {"field": "title", "op": ">", "value": "m"}
    assert problems_of(data) == [
        "transitions[1] 'approve'.conditions: '>' compares numbers or dates, but 'title' is text"
    ]


def test_an_unknown_permission_is_refused(firm):
    data = sample_definition()
    data["transitions"][1]["permission"] = "sample.aprove"
    assert problems_of(data) == ["transitions[1] 'approve': unknown permission 'sample.aprove'"]


def test_duplicate_state_and_transition_names_are_refused(firm):
    data = sample_definition()
    data["states"].append({"name": "done", "label": "Done again", "kind": "final"})
    data["transitions"].append(dict(data["transitions"][0]))
    problems = problems_of(data)
    assert "states[5] 'done': duplicate state name" in problems
    assert "transitions[4] 'submit': duplicate transition name" in problems


def test_leaving_a_final_state_is_refused(firm):
    data = sample_definition()
    data["transitions"].append(
        {"name": "reopen", "label": "Reopen", "from": ["done"], "to": "draft"}
    )
    assert problems_of(data) == ["transitions[4] 'reopen': cannot leave the final state 'done'"]


def test_every_fault_is_listed_at_once(firm):
    data = sample_definition()
    data["states"][0]["kind"] = "normal"
    data["transitions"][0]["permission"] = "nobody.knows"
    data["transitions"][0]["actions"] = [{"name": "sample.nothing"}]
    problems = problems_of(data)
    assert len(problems) >= 3
    with pytest.raises(workflow.DefinitionError) as refused:
        workflow.publish("sample_request", data)
    assert refused.value.problems == problems


def test_a_custom_field_of_the_firm_can_be_used_in_conditions_and_locks(firm):
    customfields.define("sample_request", {"name": "pieces", "label": "Pieces", "type": "integer"})
    data = sample_definition()
    data["transitions"][1]["conditions"] = {"field": "pieces", "op": ">=", "value": 10}
    data["states"][2]["locked_fields"] = ["pieces", "amount"]
    assert problems_of(data) == []
    data["transitions"][1]["conditions"] = {"field": "pieces", "op": "contains", "value": "1"}
    assert problems_of(data) == [
        "transitions[1] 'approve'.conditions: 'contains' works on text, but 'pieces' is integer"
    ]


def test_locking_an_unknown_field_is_refused(firm):
    data = sample_definition()
    data["states"][1]["locked_fields"] = ["title", "colour", ["x"]]
    assert problems_of(data) == [
        "states[1] 'submitted': cannot lock unknown field 'colour'",
        "states[1] 'submitted': cannot lock unknown field ['x']",
    ]


def test_reserved_names_and_bad_styles_and_labels_are_refused(firm):
    data = sample_definition()
    data["transitions"].append(
        {"name": "create", "label": ["x"], "from": "draft", "to": "draft", "style": "evil"}
    )
    problems = problems_of(data)
    assert "transitions[4] 'create': the name 'create' is reserved for the history" in problems
    assert any("transitions[4] 'create': label must be text" in p for p in problems)
    assert any("transitions[4] 'create': style must be one of" in p for p in problems)


def test_malformed_json_is_refused_without_crashing(firm):
    assert problems_of([]) == [
        "the definition must be a JSON object with 'states' and 'transitions'"
    ]
    assert problems_of({"states": [], "transitions": []}) == ["'states' must be a non-empty list"]
    data = sample_definition()
    data["transitions"][0]["from"] = [["draft"]]
    data["transitions"][0]["to"] = {"state": "x"}
    data["transitions"][0]["permission"] = ["sample.edit"]
    data["transitions"][1]["conditions"] = {"field": ["amount"], "op": ">", "value": "1"}
    data["states"].append("oops")
    problems = problems_of(data)
    assert "transitions[0] 'submit': unknown state ['draft'] in 'from'" in problems
    assert "transitions[0] 'submit': unknown state {'state': 'x'} in 'to'" in problems
    assert "transitions[0] 'submit': unknown permission ['sample.edit']" in problems
    assert "states[5]: must be an object" in problems


def test_validate_takes_its_context_explicitly():
    data = sample_definition()
    context = {
        "fields": {"amount": "decimal", "title": "text"},
        "actions": ["sample.stamp"],
        "permissions": ["sample.edit", "sample.approve"],
    }
    assert validate(data, **context) == []
    context["actions"] = []
    assert validate(data, **context) == [
        "transitions[0] 'submit'.actions[0]: unknown action 'sample.stamp'"
    ]


def test_parse_gives_states_transitions_and_helpers():
    definition = parse(sample_definition())
    assert definition.initial.name == "draft"
    assert definition.state("submitted").locked_fields == ("title",)
    assert [t.name for t in definition.transitions_from("submitted")] == ["approve", "reject"]
    assert definition.transition("reject").comment_required is True
    assert definition.is_final("done")
    assert not definition.is_final("approved")


def test_diff_names_what_changed():
    old = sample_definition()
    new = sample_definition()
    new["states"].append({"name": "checked", "label": "Checked"})
    new["transitions"][1]["permission"] = "sample.edit"
    del new["transitions"][3]
    assert diff(old, new) == {
        "states_added": ["checked"],
        "states_removed": [],
        "states_changed": [],
        "transitions_added": [],
        "transitions_removed": ["close"],
        "transitions_changed": ["approve"],
    }


def test_a_valid_definition_publishes_as_the_next_version(firm):
    data = sample_definition()
    data["states"][0]["label"] = {"it": "Nuova", "en": "New"}
    row = workflow.publish("sample_request", data, note="renamed draft")
    db.session.commit()
    assert [v.version for v in workflow.versions("sample_request")] == [2, 1]
    assert workflow.current_definition("sample_request").id == row.id
    assert row.source == "custom"
    assert row.note == "renamed draft"
