"""Declarative conditions on a document's fields, evaluated without eval/exec.

A condition is JSON a firm admin can write and the platform can check::

    {"field": "total", "op": ">", "value": "5000"}
    {"all": [cond, ...]}     {"any": [cond, ...]}     {"not": cond}

Values are coerced to the field's declared type before comparing, so a decimal
field compares as ``Decimal`` and a date as ``date``, never as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

FIELD_TYPES = ("text", "long_text", "integer", "decimal", "date", "boolean", "choice")

OPERATORS: dict[str, str] = {
    "==": "equals",
    "!=": "differs from",
    ">": "greater than",
    ">=": "at least",
    "<": "less than",
    "<=": "at most",
    "in": "one of",
    "not_in": "none of",
    "contains": "contains",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
_ORDERED = {">", ">=", "<", "<="}
_UNARY = {"is_empty", "is_not_empty"}
_LISTS = {"in", "not_in"}
MAX_DEPTH = 8


class ConditionError(ValueError):
    """The condition is malformed; the message names the part at fault."""


def coerce(value: Any, field_type: str) -> Any:
    """Turn a JSON value into the Python value of ``field_type`` (ValueError if it can't)."""
    if value is None or value == "":
        return None
    if field_type in ("decimal",):
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
    if field_type == "integer":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a whole number") from exc
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if field_type == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "si", "sì", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise ValueError(f"{value!r} is not yes/no")
    return str(value)


def validate(
    condition: Any, fields: Mapping[str, str], where: str = "condition", depth: int = 0
) -> list[str]:
    """Every problem of ``condition`` against ``fields`` (name -> type), each naming its place."""
    if depth > MAX_DEPTH:
        return [f"{where}: nested too deeply"]
    if condition is None:
        return []
    if not isinstance(condition, dict):
        return [f"{where}: must be an object"]
    combinators = [k for k in ("all", "any", "not") if k in condition]
    if combinators:
        if len(condition) != 1:
            return [f"{where}: '{combinators[0]}' cannot be mixed with other keys"]
        key = combinators[0]
        if key == "not":
            return validate(condition["not"], fields, f"{where}.not", depth + 1)
        items = condition[key]
        if not isinstance(items, list) or not items:
            return [f"{where}.{key}: must be a non-empty list"]
        problems: list[str] = []
        for index, item in enumerate(items):
            problems += validate(item, fields, f"{where}.{key}[{index}]", depth + 1)
        return problems
    field = condition.get("field")
    op = condition.get("op")
    unknown = set(condition) - {"field", "op", "value"}
    if unknown:
        return [f"{where}: unknown keys {sorted(unknown)}"]
    if field not in fields:
        return [f"{where}: unknown field {field!r}"]
    if op not in OPERATORS:
        return [f"{where}: unknown operator {op!r} (use one of {', '.join(OPERATORS)})"]
    field_type = fields[field]
    if op in _UNARY:
        return []
    if "value" not in condition:
        return [f"{where}: operator {op!r} needs a value"]
    value = condition["value"]
    if op in _ORDERED and field_type not in ("integer", "decimal", "date"):
        return [f"{where}: {op!r} compares numbers or dates, but {field!r} is {field_type}"]
    if op == "contains" and field_type not in ("text", "long_text", "choice"):
        return [f"{where}: 'contains' works on text, but {field!r} is {field_type}"]
    values = value if op in _LISTS else [value]
    if op in _LISTS and not isinstance(value, list):
        return [f"{where}: {op!r} needs a list of values"]
    for item in values:
        try:
            coerce(item, field_type)
        except ValueError as exc:
            return [f"{where}: value for {field!r}: {exc}"]
    return []


def evaluate(condition: Any, document_values: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    """Whether the document satisfies ``condition`` (assumed valid). None (no condition) is true."""
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(c, document_values, fields) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, document_values, fields) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], document_values, fields)
    field_type = fields[condition["field"]]
    op = condition["op"]
    try:
        actual = coerce(document_values.get(condition["field"]), field_type)
    except ValueError:
        return False
    if op == "is_empty":
        return actual is None
    if op == "is_not_empty":
        return actual is not None
    if op in _LISTS:
        options = [coerce(v, field_type) for v in condition["value"]]
        return (actual in options) if op == "in" else (actual not in options)
    expected = coerce(condition["value"], field_type)
    if op == "==":
        return actual == expected
    if op == "!=":
        return actual != expected
    if op == "contains":
        return actual is not None and str(expected).lower() in str(actual).lower()
    if actual is None or expected is None:
        return False
    if op == ">":
        return actual > expected
    if op == ">=":
        return actual >= expected
    if op == "<":
        return actual < expected
    return actual <= expected


def describe(condition: Any) -> str:
    """A short human reading of a condition, for pages and refusal messages."""
    if condition is None:
        return ""
    if "all" in condition:
        return " and ".join(f"({describe(c)})" for c in condition["all"])
    if "any" in condition:
        return " or ".join(f"({describe(c)})" for c in condition["any"])
    if "not" in condition:
        return f"not ({describe(condition['not'])})"
    op = condition["op"]
    if op in _UNARY:
        return f"{condition['field']} {OPERATORS[op]}"
    value = condition.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    return f"{condition['field']} {op} {shown}"
