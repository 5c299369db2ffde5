"""Custom fields: defined per firm, validated, defaulted, kept, and filterable on both databases."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from marshmallow import ValidationError
from sqlalchemy import select

from distretto.platform import customfields
from distretto.platform.context import tenant_context
from distretto.platform.customfields import CustomFieldError, clean, define, filter_clause
from distretto.platform.db import db
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

DOC = "sample_request"

FIELDS = [
    {"name": "drawing_no", "label": "Drawing no.", "type": "text"},
    {"name": "notes", "label": "Notes", "type": "long_text"},
    {"name": "pieces", "label": "Pieces", "type": "integer", "default": 1},
    {"name": "unit_weight", "label": "Unit weight (kg)", "type": "decimal"},
    {"name": "delivery", "label": "Delivery", "type": "date"},
    {"name": "urgent", "label": "Urgent", "type": "boolean"},
    {
        "name": "finish",
        "label": "Finish",
        "type": "choice",
        "choices": ["raw", "anodised", "painted"],
    },
]


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def firm(make_tenant):
    tenant = make_tenant(modules=["sample"])
    with tenant_context(tenant):
        for field in FIELDS:
            define(DOC, field)
        yield tenant


def errors_of(raw: dict, **kwargs) -> dict:
    with pytest.raises(ValidationError) as refused:
        clean(DOC, raw, **kwargs)
    return refused.value.messages


# --- validation of values -------------------------------------------------------------


def test_good_values_of_every_type_are_stored_as_json(firm):
    stored = clean(
        DOC,
        {
            "drawing_no": " D-1042 ",
            "notes": "Deburr all edges",
            "pieces": "250",
            "unit_weight": "0,125",
            "delivery": "2026-09-15",
            "urgent": "sì",
            "finish": "anodised",
        },
    )
    assert stored == {
        "drawing_no": "D-1042",
        "notes": "Deburr all edges",
        "pieces": 250,
        "unit_weight": "0.125",
        "delivery": "2026-09-15",
        "urgent": True,
        "finish": "anodised",
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"pieces": "12.5"}, "pieces"),
        ({"pieces": 12.5}, "pieces"),
        ({"pieces": "a dozen"}, "pieces"),
        ({"unit_weight": "heavy"}, "unit_weight"),
        ({"unit_weight": "NaN"}, "unit_weight"),
        ({"unit_weight": "0.1234567"}, "unit_weight"),
        ({"delivery": "15/09/2026"}, "delivery"),
        ({"delivery": "2026-02-30"}, "delivery"),
        ({"urgent": "perhaps"}, "urgent"),
        ({"finish": "chromed"}, "finish"),
        ({"drawing_no": "x" * 501}, "drawing_no"),
        ({"drawing_no": ["D-1"]}, "drawing_no"),
    ],
)
def test_a_bad_value_is_refused_under_its_field(firm, raw, field):
    assert list(errors_of(raw)) == [field]


def test_a_required_field_must_be_given(firm):
    define(DOC, {"name": "customer_po", "label": "Customer PO", "type": "text", "required": True})
    assert errors_of({}) == {"customer_po": ["Missing data for required field."]}
    assert errors_of({"customer_po": "   "}) == {
        "customer_po": ["Missing data for required field."]
    }
    assert clean(DOC, {"customer_po": "PO-77"})["customer_po"] == "PO-77"


def test_an_unknown_field_is_refused(firm):
    assert errors_of({"colour": "red"}) == {"colour": ["Unknown field."]}


def test_defaults_fill_new_documents_only(firm):
    assert clean(DOC, {}) == {"pieces": 1}
    assert clean(DOC, {"pieces": ""}) == {"pieces": 1}
    existing = {"pieces": 40, "finish": "raw"}
    # editing: a field left out keeps its value, a field sent empty is cleared
    assert clean(DOC, {"finish": "painted"}, existing=existing) == {
        "pieces": 40,
        "finish": "painted",
    }
    assert clean(DOC, {"pieces": "", "finish": ""}, existing=existing) == {}


def test_a_yes_no_field_sent_empty_means_no(firm):
    assert clean(DOC, {"urgent": ""})["urgent"] is False
    assert clean(DOC, {"urgent": ""}, existing={"urgent": True}) == {"urgent": False}
    assert "urgent" not in clean(DOC, {})


def test_values_are_validated_for_the_firm_that_defined_them(firm, make_tenant):
    other = make_tenant(modules=["sample"])
    with tenant_context(other):
        assert customfields.definitions(DOC) == []
        with pytest.raises(ValidationError, match="Unknown field"):
            clean(DOC, {"pieces": "3"})


# --- definitions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "part"),
    [
        ({"name": "Drawing No", "label": "x", "type": "text"}, "name"),
        ({"name": "amount", "label": "Amount", "type": "decimal"}, "name"),
        ({"name": "title", "label": "Title", "type": "text"}, "name"),
        ({"name": "size", "label": "", "type": "text"}, "label"),
        ({"name": "size", "label": 12, "type": "text"}, "label"),
        ({"name": "size", "label": "Size", "type": "colour"}, "type"),
        ({"name": "size", "label": "Size", "type": "choice"}, "choices"),
        ({"name": "size", "label": "Size", "type": "choice", "choices": ["S", "S"]}, "choices"),
        ({"name": "size", "label": "Size", "type": "integer", "default": "big"}, "default"),
        (
            {"name": "size", "label": "Size", "type": "choice", "choices": "S,M", "default": "L"},
            "default",
        ),
        ({"name": "size", "label": "Size", "type": "text", "position": "first"}, "position"),
        ({"name": "size", "label": "Size", "type": "text", "required": "maybe"}, "required"),
    ],
)
def test_a_bad_field_definition_is_refused_naming_the_part(firm, data, part):
    with pytest.raises(CustomFieldError) as refused:
        define(DOC, data)
    assert refused.value.field == part


def test_choices_may_be_given_as_comma_separated_text(firm):
    row = define(DOC, {"name": "size", "label": "Size", "type": "choice", "choices": "S, M ,L"})
    assert row.choices == ["S", "M", "L"]


def test_the_type_of_an_existing_field_cannot_change(firm):
    with pytest.raises(CustomFieldError, match="cannot change") as refused:
        define(DOC, {"name": "pieces", "label": "Pieces", "type": "decimal"})
    assert refused.value.field == "type"
    relabelled = define(DOC, {"name": "pieces", "label": "Quantity", "type": "integer"})
    assert (relabelled.label, relabelled.field_type) == ("Quantity", "integer")


def test_a_deactivated_field_keeps_its_stored_values(firm):
    doc = create_request("Brackets", "10", custom={"drawing_no": "D-7", "pieces": "5"})
    row = next(d for d in customfields.definitions(DOC) if d.name == "drawing_no")
    customfields.deactivate(row)
    db.session.commit()

    assert "drawing_no" not in customfields.schema_for(DOC).fields
    assert [d.name for d, _value in customfields.display(DOC, doc.custom)].count("drawing_no") == 0
    edited = clean(DOC, {"pieces": "6"}, existing=doc.custom)
    assert edited == {"drawing_no": "D-7", "pieces": 6}
    with pytest.raises(ValidationError, match="Unknown field"):
        clean(DOC, {"drawing_no": "D-8"}, existing=doc.custom)
    assert "drawing_no" in customfields.condition_fields(DOC, include_inactive=True)
    assert "drawing_no" not in customfields.condition_fields(DOC)
    db.session.expire_all()
    assert db.session.get(SampleRequest, doc.id).custom["drawing_no"] == "D-7"


def test_display_gives_typed_values_in_the_firms_order(firm):
    values = clean(DOC, {"unit_weight": "1.5", "delivery": "2026-01-31", "urgent": "no"})
    shown = {d.name: value for d, value in customfields.display(DOC, values)}
    assert shown["unit_weight"] == Decimal("1.5")
    assert shown["delivery"] == date(2026, 1, 31)
    assert shown["urgent"] is False
    assert shown["drawing_no"] is None
    assert [d.name for d, _ in customfields.display(DOC, values)] == [f["name"] for f in FIELDS]


# --- filtering on both databases ------------------------------------------------------


@pytest.fixture
def requests_with_custom_values(firm):
    rows = [
        ("Alpha", {"drawing_no": "D-100%", "pieces": 5, "unit_weight": "0.5", "urgent": True}),
        ("Beta", {"drawing_no": "d-200", "pieces": 40, "unit_weight": "12.25", "urgent": False}),
        ("Gamma", {"pieces": 1000, "unit_weight": "3", "finish": "anodised"}),
        ("Delta", {"delivery": "2026-03-01", "finish": "painted", "unit_weight": "12.250"}),
        ("Epsilon", {"delivery": "2026-11-30", "finish": "anodised", "drawing_no": "X_1"}),
    ]
    for title, custom in rows:
        create_request(title, "1", custom=custom)
    db.session.commit()
    return {d.name: d for d in customfields.definitions(DOC)}


def titles(*clauses) -> list[str]:
    query = select(SampleRequest.title).where(*clauses).order_by(SampleRequest.title)
    return list(db.session.execute(query).scalars())


def test_filter_by_text_is_a_case_insensitive_contains_with_wildcards_escaped(
    requests_with_custom_values,
):
    field = requests_with_custom_values["drawing_no"]
    assert titles(filter_clause(SampleRequest, field, "d-")) == ["Alpha", "Beta"]
    assert titles(filter_clause(SampleRequest, field, "100%")) == ["Alpha"]
    assert titles(filter_clause(SampleRequest, field, "%")) == ["Alpha"]
    assert titles(filter_clause(SampleRequest, field, "_")) == ["Epsilon"]
    assert titles(filter_clause(SampleRequest, field, "D-200", "==")) == []
    assert titles(filter_clause(SampleRequest, field, "d-200", "==")) == ["Beta"]


def test_filter_by_integer(requests_with_custom_values):
    field = requests_with_custom_values["pieces"]
    assert titles(filter_clause(SampleRequest, field, "40")) == ["Beta"]
    assert titles(filter_clause(SampleRequest, field, "39", ">")) == ["Beta", "Gamma"]
    # numbers, not text: as strings "1000" <= "5"
    assert titles(filter_clause(SampleRequest, field, 5, "<=")) == ["Alpha", "Delta", "Epsilon"]
    # Delta and Epsilon took the default (1) at creation
    assert titles(filter_clause(SampleRequest, field, 1)) == ["Delta", "Epsilon"]


def test_filter_by_decimal(requests_with_custom_values):
    field = requests_with_custom_values["unit_weight"]
    assert titles(filter_clause(SampleRequest, field, "12.25")) == ["Beta", "Delta"]
    assert titles(filter_clause(SampleRequest, field, "12,250")) == ["Beta", "Delta"]
    assert titles(filter_clause(SampleRequest, field, "2.5", ">")) == ["Beta", "Delta", "Gamma"]
    assert titles(filter_clause(SampleRequest, field, "0.5", "<=")) == ["Alpha"]


def test_filter_by_boolean(requests_with_custom_values):
    field = requests_with_custom_values["urgent"]
    assert titles(filter_clause(SampleRequest, field, "yes")) == ["Alpha"]
    assert titles(filter_clause(SampleRequest, field, False)) == ["Beta"]
    assert titles(filter_clause(SampleRequest, field, "sì", "!=")) == [
        "Beta",
        "Delta",
        "Epsilon",
        "Gamma",
    ]


def test_filter_by_date(requests_with_custom_values):
    field = requests_with_custom_values["delivery"]
    assert titles(filter_clause(SampleRequest, field, "2026-03-01")) == ["Delta"]
    assert titles(filter_clause(SampleRequest, field, "2026-06-30", ">")) == ["Epsilon"]
    assert titles(filter_clause(SampleRequest, field, "2026-11-30", "<=")) == ["Delta", "Epsilon"]
    assert titles(filter_clause(SampleRequest, field, None, "is_empty")) == [
        "Alpha",
        "Beta",
        "Gamma",
    ]


def test_filter_by_choice(requests_with_custom_values):
    field = requests_with_custom_values["finish"]
    assert titles(filter_clause(SampleRequest, field, "anodised")) == ["Epsilon", "Gamma"]
    assert titles(filter_clause(SampleRequest, field, "anodised", "!=")) == [
        "Alpha",
        "Beta",
        "Delta",
    ]


def test_a_filter_value_that_does_not_fit_the_type_is_refused(requests_with_custom_values):
    fields = requests_with_custom_values
    with pytest.raises(ValueError, match="not a whole number"):
        filter_clause(SampleRequest, fields["pieces"], "many")
    with pytest.raises(ValueError, match="not a date"):
        filter_clause(SampleRequest, fields["delivery"], "yesterday")
    with pytest.raises(ValueError, match="compares numbers or dates"):
        filter_clause(SampleRequest, fields["finish"], "raw", ">")
    with pytest.raises(ValueError, match="unknown filter operator"):
        filter_clause(SampleRequest, fields["pieces"], "1", "LIKE")


def test_filters_see_only_the_firms_own_documents(requests_with_custom_values, make_tenant):
    other = make_tenant(modules=["sample"])
    with tenant_context(other):
        define(DOC, {"name": "pieces", "label": "Pieces", "type": "integer"})
        create_request("Other firm's", "1", custom={"pieces": 40})
        field = customfields.definitions(DOC)[0]
        assert titles(filter_clause(SampleRequest, field, "40")) == ["Other firm's"]
