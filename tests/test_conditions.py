"""Declarative workflow conditions: coercion, validation and evaluation, without eval."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from distretto.platform.workflow.conditions import (
    OPERATORS,
    ConditionError,
    check,
    coerce,
    describe,
    evaluate,
    operators_for,
    validate,
)

FIELDS = {
    "title": "text",
    "notes": "long_text",
    "pieces": "integer",
    "amount": "decimal",
    "due_on": "date",
    "urgent": "boolean",
    "finish": "choice",
}


# --- coerce -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field_type", "expected"),
    [
        ("12.50", "decimal", Decimal("12.50")),
        (3, "decimal", Decimal(3)),
        (Decimal("1.1"), "decimal", Decimal("1.1")),
        (" 7 ", "integer", 7),
        ("1e3", "integer", 1000),
        (12.0, "integer", 12),
        ("2026-03-01", "date", date(2026, 3, 1)),
        (date(2026, 3, 1), "date", date(2026, 3, 1)),
        (datetime(2026, 3, 1, 10, 30), "date", date(2026, 3, 1)),
        (True, "boolean", True),
        ("sì", "boolean", True),
        ("Yes", "boolean", True),
        ("0", "boolean", False),
        ("off", "boolean", False),
        (42, "text", "42"),
        ("anodised", "choice", "anodised"),
        ("", "decimal", None),
        ("   ", "date", None),
        (None, "boolean", None),
    ],
)
def test_coerce_turns_json_into_the_fields_python_type(value, field_type, expected):
    assert coerce(value, field_type) == expected
    assert type(coerce(value, field_type)) is type(expected)


@pytest.mark.parametrize(
    ("value", "field_type", "fault"),
    [
        ("abc", "decimal", "not a number"),
        ("NaN", "decimal", "not a number"),
        ("Infinity", "decimal", "not a number"),
        (True, "decimal", "not a number"),
        ("1e999999", "decimal", "too large"),
        ("12.5", "integer", "not a whole number"),
        (12.5, "integer", "not a whole number"),
        (False, "integer", "not a whole number"),
        ("1e999999", "integer", "too large"),
        ("01/03/2026", "date", "not a date"),
        ("2026-02-30", "date", "not a date"),
        (20260301, "date", "not a date"),
        ("maybe", "boolean", "not yes/no"),
        (2, "boolean", "not yes/no"),
        (["a"], "text", "not text"),
        ({"a": 1}, "choice", "not text"),
        ("x", "colour", "unknown field type"),
    ],
)
def test_coerce_refuses_values_that_do_not_fit_the_type(value, field_type, fault):
    with pytest.raises(ValueError, match=fault):
        coerce(value, field_type)


# --- validate ---------------------------------------------------------------------


def test_valid_conditions_of_every_operator_and_type_have_no_problems():
    conditions = [
        {"field": "title", "op": "==", "value": "Bolts"},
        {"field": "title", "op": "contains", "value": "bolt"},
        {"field": "notes", "op": "is_empty"},
        {"field": "pieces", "op": ">=", "value": 10},
        {"field": "amount", "op": ">", "value": "1000"},
        {"field": "amount", "op": "<=", "value": "2500.50"},
        {"field": "due_on", "op": "<", "value": "2026-12-31"},
        {"field": "urgent", "op": "==", "value": True},
        {"field": "urgent", "op": "!=", "value": "no"},
        {"field": "finish", "op": "in", "value": ["anodised", "painted"]},
        {"field": "finish", "op": "not_in", "value": ["raw"]},
        {"field": "finish", "op": "is_not_empty"},
    ]
    for condition in conditions:
        assert validate(condition, FIELDS) == [], condition
    assert validate(None, FIELDS) == []
    assert validate({"all": conditions}, FIELDS) == []


@pytest.mark.parametrize(
    ("condition", "fault"),
    [
        ({"field": "colour", "op": "==", "value": "red"}, "unknown field 'colour'"),
        ({"field": ["amount"], "op": "==", "value": "1"}, "unknown field ['amount']"),
        ({"field": "amount", "op": "=~", "value": "1"}, "unknown operator '=~'"),
        ({"field": "amount", "op": ["=="], "value": "1"}, "unknown operator"),
        ({"field": "title", "op": ">", "value": "a"}, "'>' compares numbers or dates"),
        ({"field": "urgent", "op": "<=", "value": True}, "but 'urgent' is boolean"),
        ({"field": "finish", "op": ">=", "value": "x"}, "but 'finish' is choice"),
        ({"field": "amount", "op": "contains", "value": "1"}, "'contains' works on text"),
        ({"field": "due_on", "op": "contains", "value": "2026"}, "'contains' works on text"),
        ({"field": "amount", "op": ">"}, "needs a value"),
        ({"field": "amount", "op": ">", "value": ""}, "use is_empty"),
        ({"field": "amount", "op": ">", "value": "lots"}, "value for 'amount'"),
        ({"field": "due_on", "op": "==", "value": "tomorrow"}, "not a date"),
        ({"field": "pieces", "op": "==", "value": "2.5"}, "not a whole number"),
        ({"field": "urgent", "op": "==", "value": "perhaps"}, "not yes/no"),
        ({"field": "finish", "op": "in", "value": "anodised"}, "needs a non-empty list"),
        ({"field": "finish", "op": "in", "value": []}, "needs a non-empty list"),
        ({"field": "amount", "op": "==", "value": "1", "extra": 1}, "unknown keys ['extra']"),
        ({"all": []}, "condition.all: must be a non-empty list"),
        ({"any": "x"}, "condition.any: must be a non-empty list"),
        ({"all": [{"field": "a"}], "op": "=="}, "cannot be mixed"),
        ({"not": None}, "condition.not: must be a condition"),
        ("amount > 1000", "must be an object"),
    ],
)
def test_invalid_conditions_are_refused_naming_the_fault(condition, fault):
    problems = validate(condition, FIELDS)
    assert problems
    assert fault in " ".join(problems)


def test_a_nested_fault_is_reported_with_its_path():
    condition = {
        "all": [
            {"field": "amount", "op": ">", "value": "0"},
            {"any": [{"field": "urgent", "op": "==", "value": True}, {"not": {"field": "x"}}]},
        ]
    }
    assert validate(condition, FIELDS, "transitions[1].conditions") == [
        "transitions[1].conditions.all[1].any[1].not: unknown field 'x'"
    ]


def test_nesting_deeper_than_the_limit_is_refused():
    condition: dict = {"field": "amount", "op": ">", "value": "0"}
    for _ in range(10):
        condition = {"not": condition}
    assert "nested too deeply" in validate(condition, FIELDS)[0]


def test_check_raises_with_every_problem():
    with pytest.raises(ConditionError, match="unknown field 'colour'"):
        check({"field": "colour", "op": "==", "value": "red"}, FIELDS)


def test_operators_offered_per_type_are_the_ones_validation_accepts():
    for field_type in set(FIELDS.values()):
        name = next(n for n, t in FIELDS.items() if t == field_type)
        for op in OPERATORS:
            value = {
                "text": "a",
                "long_text": "a",
                "choice": "a",
                "integer": 1,
                "decimal": "1",
                "date": "2026-01-01",
                "boolean": True,
            }[field_type]
            if op in ("in", "not_in"):
                value = [value]
            accepted = validate({"field": name, "op": op, "value": value}, FIELDS) == []
            assert accepted == (op in operators_for(field_type)), (field_type, op)


# --- evaluate ---------------------------------------------------------------------

DOCUMENT = {
    "title": "Hex bolts M8",
    "notes": "",
    "pieces": 120,
    "amount": Decimal("1250.50"),
    "due_on": date(2026, 6, 30),
    "urgent": True,
    "finish": "anodised",
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "amount", "op": ">", "value": "1000"}, True),
        ({"field": "amount", "op": ">", "value": "1250.50"}, False),
        ({"field": "amount", "op": ">=", "value": "1250.5"}, True),
        ({"field": "amount", "op": "<", "value": "1250.51"}, True),
        ({"field": "amount", "op": "<=", "value": "1250.49"}, False),
        ({"field": "amount", "op": "==", "value": "1250.500"}, True),
        ({"field": "amount", "op": "!=", "value": "1250.5"}, False),
        # decimals compare as numbers, not text: "9" > "1250.50" as strings
        ({"field": "amount", "op": ">", "value": "9"}, True),
        ({"field": "pieces", "op": ">", "value": 99}, True),
        ({"field": "pieces", "op": "==", "value": "120"}, True),
        ({"field": "pieces", "op": "in", "value": [1, 120]}, True),
        ({"field": "pieces", "op": "not_in", "value": [1, 120]}, False),
        ({"field": "due_on", "op": "<", "value": "2026-07-01"}, True),
        ({"field": "due_on", "op": ">", "value": "2026-07-01"}, False),
        ({"field": "due_on", "op": "==", "value": "2026-06-30"}, True),
        ({"field": "urgent", "op": "==", "value": "sì"}, True),
        ({"field": "urgent", "op": "==", "value": False}, False),
        ({"field": "urgent", "op": "!=", "value": False}, True),
        ({"field": "title", "op": "contains", "value": "BOLTS"}, True),
        ({"field": "title", "op": "contains", "value": "nuts"}, False),
        ({"field": "title", "op": "==", "value": "Hex bolts M8"}, True),
        ({"field": "finish", "op": "in", "value": ["anodised", "painted"]}, True),
        ({"field": "finish", "op": "not_in", "value": ["anodised"]}, False),
        ({"field": "finish", "op": "contains", "value": "nod"}, True),
        ({"field": "notes", "op": "is_empty"}, True),
        ({"field": "notes", "op": "is_not_empty"}, False),
        ({"field": "title", "op": "is_not_empty"}, True),
    ],
)
def test_evaluate_every_operator(condition, expected):
    assert evaluate(condition, DOCUMENT, FIELDS) is expected


def test_all_any_not_combine_and_nest():
    big = {"field": "amount", "op": ">", "value": "1000"}
    small = {"field": "amount", "op": "<", "value": "100"}
    urgent = {"field": "urgent", "op": "==", "value": True}
    assert evaluate({"all": [big, urgent]}, DOCUMENT, FIELDS) is True
    assert evaluate({"all": [big, small]}, DOCUMENT, FIELDS) is False
    assert evaluate({"any": [small, urgent]}, DOCUMENT, FIELDS) is True
    assert evaluate({"any": [small, {"not": urgent}]}, DOCUMENT, FIELDS) is False
    assert evaluate({"not": {"any": [small, {"not": big}]}}, DOCUMENT, FIELDS) is True
    assert evaluate({"all": [{"any": [small, {"all": [big, urgent]}]}]}, DOCUMENT, FIELDS)
    assert evaluate(None, DOCUMENT, FIELDS) is True


def test_a_missing_value_never_satisfies_a_comparison():
    empty = {"amount": None, "due_on": "", "pieces": None}
    for op in (">", ">=", "<", "<=", "=="):
        assert evaluate({"field": "amount", "op": op, "value": "0"}, empty, FIELDS) is False
    assert evaluate({"field": "due_on", "op": "<", "value": "2100-01-01"}, empty, FIELDS) is False
    assert evaluate({"field": "amount", "op": "!=", "value": "0"}, empty, FIELDS) is True
    assert evaluate({"field": "amount", "op": "is_empty"}, empty, FIELDS) is True


def test_stored_json_values_are_compared_in_their_type():
    stored = {"amount": "1250.50", "due_on": "2026-06-30", "pieces": "120", "urgent": "true"}
    assert evaluate({"field": "amount", "op": ">", "value": 999.99}, stored, FIELDS)
    assert evaluate({"field": "due_on", "op": ">=", "value": "2026-06-30"}, stored, FIELDS)
    assert evaluate({"field": "pieces", "op": "<", "value": "1000"}, stored, FIELDS)
    assert evaluate({"field": "urgent", "op": "==", "value": True}, stored, FIELDS)


def test_a_value_that_no_longer_fits_or_a_vanished_field_is_false_not_an_error():
    assert evaluate({"field": "amount", "op": ">", "value": "1"}, {"amount": "n/a"}, FIELDS) is (
        False
    )
    assert evaluate({"field": "gone", "op": "==", "value": "1"}, {"gone": "1"}, FIELDS) is False


def test_a_condition_is_data_never_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    hostile = {"field": "title", "op": "==", "value": payload}
    assert validate(hostile, FIELDS) == []
    assert evaluate(hostile, {"title": payload}, FIELDS) is True
    assert evaluate(hostile, {"title": "x"}, FIELDS) is False
    assert evaluate({"field": "amount", "op": ">", "value": payload}, {"amount": 1}, FIELDS) is (
        False
    )
    assert not marker.exists()
    assert validate({"field": "title.__class__", "op": "==", "value": "x"}, FIELDS) == [
        "condition: unknown field 'title.__class__'"
    ]


def test_describe_reads_as_a_sentence_with_field_labels():
    condition = {
        "all": [
            {"field": "amount", "op": ">", "value": "1000"},
            {"not": {"field": "finish", "op": "in", "value": ["raw", "painted"]}},
            {"field": "notes", "op": "is_empty"},
        ]
    }
    assert describe(condition, {"amount": "Amount"}) == (
        "(Amount > 1000) and (not (finish in raw, painted)) and (notes is empty)"
    )
