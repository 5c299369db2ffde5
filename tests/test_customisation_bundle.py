"""A firm's customisation as a bundle: export, apply elsewhere, and all-or-nothing checks."""

import copy
import json
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from distretto.platform import customfields, numbering, workflow
from distretto.platform.context import tenant_context
from distretto.platform.customisation import (
    FORMAT,
    BundleError,
    apply_bundle,
    check_bundle,
    export_bundle,
)
from distretto.platform.db import db
from tests.support.sample import DEFAULT_WORKFLOW
from tests.support.sample.services import create_request

DOC = "sample_request"


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


def customised_workflow() -> dict:
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["states"].insert(2, {"name": "quality_check", "label": {"it": "Collaudo", "en": "QC"}})
    data["transitions"][1]["from"] = ["quality_check"]
    data["transitions"].append(
        {
            "name": "inspect",
            "label": "Inspect",
            "from": ["submitted"],
            "to": "quality_check",
            "conditions": {"field": "heat_treated", "op": "==", "value": True},
        }
    )
    return data


def build_customised_firm(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        customfields.define(
            DOC, {"name": "heat_treated", "label": "Heat treated", "type": "boolean"}
        )
        customfields.define(
            DOC,
            {
                "name": "alloy",
                "label": "Alloy",
                "type": "choice",
                "choices": ["6061", "7075"],
                "default": "6061",
                "required": True,
                "help_text": "As on the drawing",
                "position": 2,
            },
        )
        old = customfields.define(DOC, {"name": "old_code", "label": "Old code", "type": "text"})
        customfields.deactivate(old)
        workflow.publish(DOC, customised_workflow())
        numbering.set_rule(DOC, "LAV-{yy}-{seq:05}", yearly_reset=False)
    db.session.commit()
    return firm


def without_timestamp(bundle: dict) -> dict:
    return {k: v for k, v in bundle.items() if k != "exported_at"}


def test_export_then_apply_reproduces_the_customisation_in_another_firm(make_tenant):
    source = build_customised_firm(make_tenant)
    target = make_tenant(modules=["sample"])
    with tenant_context(source):
        bundle = json.loads(json.dumps(export_bundle()))  # it survives being a file
    assert bundle["format"] == FORMAT
    assert set(bundle["workflows"]) == {DOC}
    assert [f["name"] for f in bundle["custom_fields"][DOC]] == [
        "heat_treated",
        "old_code",
        "alloy",
    ]

    with tenant_context(target):
        assert apply_bundle(bundle) == []
        db.session.commit()
        assert without_timestamp(export_bundle()) == without_timestamp(bundle)

        current = workflow.current_definition(DOC)
        assert (current.source, current.definition) == ("import", customised_workflow())
        assert [d.name for d in customfields.definitions(DOC)] == ["heat_treated", "alloy"]
        assert next_format_sample() == "LAV-26-00001"
        # and it behaves: the default, the choice and the workflow condition all apply
        doc = create_request("Flange", "10", custom={"heat_treated": "yes"})
        assert doc.custom == {"heat_treated": True, "alloy": "6061"}
        workflow.apply(doc, DOC, "submit", role="owner")
        workflow.apply(doc, DOC, "inspect", role="owner")
        assert doc.state == "quality_check"


def next_format_sample() -> str:
    return numbering.next_number(DOC, on=date(2026, 7, 1))[1]


def test_a_firm_that_follows_the_defaults_exports_an_empty_bundle(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.current_definition(DOC)
        assert without_timestamp(export_bundle()) == {
            "format": FORMAT,
            "workflows": {},
            "custom_fields": {},
            "numbering": {},
        }


def snapshot() -> tuple:
    from distretto.platform.customfields import CustomFieldDefinition
    from distretto.platform.numbering import NumberingRule
    from distretto.platform.workflow import WorkflowDefinition

    return tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (CustomFieldDefinition, WorkflowDefinition, NumberingRule)
    )


def test_a_bundle_with_any_fault_applies_nothing_and_lists_every_problem(make_tenant):
    firm = make_tenant(modules=["sample"])
    broken_workflow = customised_workflow()
    broken_workflow["transitions"][0]["actions"] = [{"name": "sample.nope"}]
    bundle = {
        "format": FORMAT,
        "custom_fields": {
            DOC: [
                {"name": "heat_treated", "label": "Heat treated", "type": "boolean"},
                {"name": "pieces", "label": "Pieces", "type": "integer", "default": "many"},
            ]
        },
        "workflows": {DOC: broken_workflow},
        "numbering": {DOC: {"format": "X-{seq.__class__}", "yearly_reset": "yes"}},
    }
    with tenant_context(firm):
        before = snapshot()
        with pytest.raises(BundleError) as refused:
            apply_bundle(bundle)
        problems = refused.value.problems
        assert len(problems) == 4
        assert problems[0].startswith(f"custom_fields.{DOC}[1]: The default value is not valid")
        assert problems[1] == (
            f"workflows.{DOC}: transitions[0] 'submit'.actions[0]: unknown action 'sample.nope'"
        )
        assert f"numbering.{DOC}: Unknown placeholder {{seq.__class__}}" in problems[2]
        assert problems[3] == f"numbering.{DOC}: yearly_reset must be true or false"
        db.session.commit()
        assert snapshot() == before
        assert customfields.definitions(DOC, include_inactive=True) == []


def test_a_bundle_may_not_change_the_type_of_a_field_the_firm_has(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        customfields.define(DOC, {"name": "pieces", "label": "Pieces", "type": "integer"})
        bundle = {
            "format": FORMAT,
            "custom_fields": {
                DOC: [
                    {"name": "colour", "label": "Colour", "type": "text"},
                    {"name": "pieces", "label": "Pieces", "type": "decimal"},
                ]
            },
        }
        problems, _skipped = check_bundle(bundle)
        assert problems == [
            f"custom_fields.{DOC}[1]: the firm's field 'pieces' is integer; "
            "its type cannot change to decimal"
        ]
        with pytest.raises(BundleError):
            apply_bundle(bundle)
        assert [d.name for d in customfields.definitions(DOC)] == ["pieces"]


def test_a_workflow_may_use_fields_the_same_bundle_defines_but_not_deactivated_ones(
    make_tenant,
):
    firm = make_tenant(modules=["sample"])
    fields = [{"name": "heat_treated", "label": "Heat treated", "type": "boolean"}]
    bundle = {
        "format": FORMAT,
        "custom_fields": {DOC: fields},
        "workflows": {DOC: customised_workflow()},
    }
    with tenant_context(firm):
        assert check_bundle(bundle) == ([], [])
        fields[0]["active"] = False
        assert check_bundle(bundle)[0] == [
            f"workflows.{DOC}: transitions[4] 'inspect'.conditions: unknown field 'heat_treated'"
        ]


def test_document_types_the_firm_lacks_are_refused_or_skipped(make_tenant):
    firm = make_tenant()  # the sample module is not enabled
    bundle = {
        "format": FORMAT,
        "numbering": {DOC: {"format": "{seq}"}},
        "custom_fields": {"invoice": []},
    }
    with tenant_context(firm):
        problems, _ = check_bundle(bundle)
        assert problems == [
            "custom_fields.invoice: no enabled module offers this document type",
            f"numbering.{DOC}: no enabled module offers this document type",
        ]
        assert apply_bundle(bundle, skip_unavailable=True) == ["invoice", DOC]


@pytest.mark.parametrize(
    ("bundle", "problem"),
    [
        ([], "not a customisation bundle"),
        ({"format": "something/2"}, "not a customisation bundle"),
        ({"format": FORMAT, "custom_field": {}}, "unknown sections ['custom_field']"),
        ({"format": FORMAT, "workflows": []}, "workflows: must be an object keyed by"),
        ({"format": FORMAT, "custom_fields": {DOC: {}}}, f"custom_fields.{DOC}: must be a list"),
        ({"format": FORMAT, "custom_fields": {DOC: ["x"]}}, "must be an object"),
        ({"format": FORMAT, "numbering": {DOC: "{seq}"}}, f"numbering.{DOC}: must be an object"),
        (
            {"format": FORMAT, "numbering": {DOC: {"format": "{seq}", "reset": True}}},
            "unknown keys ['reset']",
        ),
        (
            {
                "format": FORMAT,
                "custom_fields": {
                    DOC: [
                        {"name": "a", "label": "A", "type": "text"},
                        {"name": "a", "label": "A again", "type": "text"},
                    ]
                },
            },
            "duplicate name 'a'",
        ),
    ],
)
def test_malformed_bundles_are_refused_with_their_fault(make_tenant, bundle, problem):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        problems, _ = check_bundle(bundle)
        assert any(problem in p for p in problems), problems
        with pytest.raises(BundleError):
            apply_bundle(bundle)


def test_a_failure_while_applying_leaves_the_firm_as_it_was(make_tenant, monkeypatch):
    """Belt and braces: even a fault the checks did not foresee undoes the earlier parts."""
    source = build_customised_firm(make_tenant)
    with tenant_context(source):
        bundle = export_bundle()
    target = make_tenant(modules=["sample"])

    def storage_full(*args, **kwargs):
        raise numbering.NumberingError("the numbering store refused the rule")

    monkeypatch.setattr(numbering, "set_rule", storage_full)
    with tenant_context(target):
        before = snapshot()
        with pytest.raises(BundleError, match="the numbering store refused the rule"):
            apply_bundle(bundle)
        db.session.commit()
        assert snapshot() == before
