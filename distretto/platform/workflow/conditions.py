"""Declarative conditions on a document's fields, evaluated without eval/exec.

A condition is JSON a firm admin can write and the platform can check::

    {"field": "total", "op": ">", "value": "5000"}
    {"all": [cond, ...]}     {"any": [cond, ...]}     {"not": cond}

Values are coerced to the field's declared type before comparing, so a decimal
field compares as ``Decimal`` and a date as ``date``, never as strings. The
evaluator is a plain tree walk over this data: nothing a firm writes is ever
compiled, imported or looked up as an attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

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
_ORDERED_TYPES = ("integer", "decimal", "date")
_TEXT_TYPES = ("text", "long_text", "choice")
MAX_DEPTH = 8
#: Numbers beyond this many integer digits are refused: nothing in a light ERP
#: needs them, and ``int()`` of a huge exponent costs memory and time.
MAX_INTEGER_DIGITS = 18

_TRUE = {"true", "1", "yes", "y", "si", "sì", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class ConditionError(ValueError):
    """The condition is malformed; the message names the part at fault."""


def operators_for(field_type: str) -> list[str]:
    """The operators that make sense for a field of ``field_type`` (for editors)."""
    result = ["==", "!=", "in", "not_in", "is_empty", "is_not_empty"]
    if field_type in _ORDERED_TYPES:
        result[2:2] = [">", ">=", "<", "<="]
    if field_type in _TEXT_TYPES:
        result.append("contains")
    return result


def _not_a(value: Any, whole: bool) -> str:
    if whole:
        return _("%(value)s is not a whole number", value=repr(value))
    return _("%(value)s is not a number", value=repr(value))


def _number(value: Any, whole: bool = False) -> Decimal:
    if isinstance(value, bool) or isinstance(value, list | dict | tuple | set):
        raise ValueError(_not_a(value, whole))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(_not_a(value, whole)) from exc
    if not number.is_finite():
        raise ValueError(_not_a(value, whole))
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(_("%(value)s is too large", value=repr(value)))
    return number


def coerce(value: Any, field_type: str) -> Any:
    """Turn a JSON value into the Python value of ``field_type`` (ValueError if it can't).

    ``None`` and the empty string mean "no value" and give ``None``.
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if field_type == "decimal":
        return _number(value)
    if field_type == "integer":
        number = _number(value, whole=True)
        if number != number.to_integral_value():
            raise ValueError(_not_a(value, whole=True))
        return int(number)
    if field_type == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise ValueError(_("%(value)s is not a date (YYYY-MM-DD)", value=repr(value)))
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(_("%(value)s is not a date (YYYY-MM-DD)", value=repr(value))) from exc
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | str):
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError(_("%(value)s is not yes/no", value=repr(value)))
    if field_type in ("text", "long_text", "choice"):
        if isinstance(value, list | dict | tuple | set):
            raise ValueError(_("%(value)s is not text", value=repr(value)))
        return str(value)
    raise ValueError(_("unknown field type %(type)s", type=repr(field_type)))


def validate(
    condition: Any, fields: Mapping[str, str], where: str = "condition", depth: int = 0
) -> list[str]:
    """Every problem of ``condition`` against ``fields`` (name -> type), each naming its place.

    ``None`` at the top means "no condition"; inside all/any/not it is an error.
    """
    if depth > MAX_DEPTH:
        return [f"{where}: " + _("nested too deeply (at most %(num)d levels)", num=MAX_DEPTH)]
    if condition is None:
        return [] if depth == 0 else [f"{where}: " + _("must be a condition, not null")]
    if not isinstance(condition, dict):
        return [f"{where}: " + _("must be an object")]
    combinators = [k for k in ("all", "any", "not") if k in condition]
    if combinators:
        if len(condition) != 1:
            return [
                f"{where}: "
                + _("%(key)s cannot be mixed with other keys", key=repr(combinators[0]))
            ]
        key = combinators[0]
        if key == "not":
            return validate(condition["not"], fields, f"{where}.not", depth + 1)
        items = condition[key]
        if not isinstance(items, list) or not items:
            return [f"{where}.{key}: " + _("must be a non-empty list")]
        problems: list[str] = []
        for index, item in enumerate(items):
            problems += validate(item, fields, f"{where}.{key}[{index}]", depth + 1)
        return problems
    unknown = set(condition) - {"field", "op", "value"}
    if unknown:
        return [f"{where}: " + _("unknown keys %(keys)s", keys=sorted(unknown))]
    field = condition.get("field")
    op = condition.get("op")
    if not isinstance(field, str) or field not in fields:
        return [f"{where}: " + _("unknown field %(field)s", field=repr(field))]
    if not isinstance(op, str) or op not in OPERATORS:
        return [
            f"{where}: "
            + _(
                "unknown operator %(op)s (use one of %(ops)s)",
                op=repr(op),
                ops=", ".join(OPERATORS),
            )
        ]
    field_type = fields[field]
    if field_type not in FIELD_TYPES:
        return [
            f"{where}: "
            + _(
                "field %(field)s has unknown type %(type)s",
                field=repr(field),
                type=repr(field_type),
            )
        ]
    if op in _UNARY:
        return []
    if op in _ORDERED and field_type not in _ORDERED_TYPES:
        return [
            f"{where}: "
            + _(
                "%(op)s compares numbers or dates, but %(field)s is %(type)s",
                op=repr(op),
                field=repr(field),
                type=field_type,
            )
        ]
    if op == "contains" and field_type not in _TEXT_TYPES:
        return [
            f"{where}: "
            + _(
                "'contains' works on text, but %(field)s is %(type)s",
                field=repr(field),
                type=field_type,
            )
        ]
    if "value" not in condition:
        return [f"{where}: " + _("operator %(op)s needs a value", op=repr(op))]
    value = condition["value"]
    if op in _LISTS:
        if not isinstance(value, list) or not value:
            return [f"{where}: " + _("%(op)s needs a non-empty list of values", op=repr(op))]
        values = value
    else:
        values = [value]
    for item in values:
        try:
            typed = coerce(item, field_type)
        except ValueError as exc:
            return [
                f"{where}: " + _("value for %(field)s: %(problem)s", field=repr(field), problem=exc)
            ]
        if typed is None:
            return [
                f"{where}: "
                + _(
                    "operator %(op)s on %(field)s needs a value "
                    "(use is_empty to test for no value)",
                    op=repr(op),
                    field=repr(field),
                )
            ]
    return []


def check(condition: Any, fields: Mapping[str, str]) -> None:
    """Raise :class:`ConditionError` listing every problem of ``condition``."""
    problems = validate(condition, fields)
    if problems:
        raise ConditionError("; ".join(problems))


def evaluate(condition: Any, document_values: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    """Whether the document satisfies ``condition``. None (no condition) is true.

    The condition was validated when its definition was published; a field
    that has since disappeared, or a stored value that no longer fits its
    type, makes the comparison false rather than failing the request.
    """
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(c, document_values, fields) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, document_values, fields) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], document_values, fields)
    field = condition.get("field")
    field_type = fields.get(field) if isinstance(field, str) else None
    if field_type is None:
        return False
    op = condition["op"]
    try:
        actual = coerce(document_values.get(condition["field"]), field_type)
    except ValueError:
        return False
    if op == "is_empty":
        return actual is None
    if op == "is_not_empty":
        return actual is not None
    try:
        if op in _LISTS:
            options = [coerce(v, field_type) for v in condition["value"]]
            return (actual in options) if op == "in" else (actual not in options)
        expected = coerce(condition["value"], field_type)
    except ValueError:
        return False
    if op == "==":
        return actual == expected
    if op == "!=":
        return actual != expected
    if actual is None or expected is None:
        return False
    if op == "contains":
        return str(expected).lower() in str(actual).lower()
    if op == ">":
        return bool(actual > expected)
    if op == ">=":
        return bool(actual >= expected)
    if op == "<":
        return bool(actual < expected)
    if op == "<=":
        return bool(actual <= expected)
    return False


def describe(condition: Any, labels: Mapping[str, str] | None = None) -> str:
    """A short human reading of a condition, for pages and refusal messages.

    ``labels`` maps field names to what the user knows them as.
    """
    if condition is None:
        return ""
    labels = labels or {}
    if "all" in condition:
        return " and ".join(f"({describe(c, labels)})" for c in condition["all"])
    if "any" in condition:
        return " or ".join(f"({describe(c, labels)})" for c in condition["any"])
    if "not" in condition:
        return f"not ({describe(condition['not'], labels)})"
    op = condition["op"]
    name = labels.get(condition["field"], condition["field"])
    if op in _UNARY:
        return f"{name} {OPERATORS[op]}"
    value = condition.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    return f"{name} {op} {shown}"
