"""Custom fields: a firm adds its own fields to a document type, without code.

Definitions are rows per firm and document type; values live in the
document's ``custom`` JSON column. One marshmallow schema per firm and
document type validates them (forms, API and imports alike), and the same
definitions feed workflow conditions, list filters and exports.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    cast,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform import audit
from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.platform.workflow.conditions import FIELD_TYPES, coerce

FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_DECIMAL_PLACES = 6

TYPE_LABELS = {
    "text": _l("Text"),
    "long_text": _l("Long text"),
    "integer": _l("Whole number"),
    "decimal": _l("Decimal number"),
    "date": _l("Date"),
    "boolean": _l("Yes/no"),
    "choice": _l("Choice"),
}


class CustomFieldError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CustomFieldDefinition(TenantOwned, db.Model):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_type", "name"),
        Index("ix_custom_field_definitions_type", "tenant_id", "document_type", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    field_type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[Any] = mapped_column(JSON, nullable=True)
    help_text: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[list | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.field_type,
            "required": self.required,
            "default": self.default,
            "help_text": self.help_text,
            "choices": self.choices,
            "position": self.position,
            "active": self.active,
        }


def definitions(
    document_type: str, *, include_inactive: bool = False
) -> list[CustomFieldDefinition]:
    query = select(CustomFieldDefinition).where(
        CustomFieldDefinition.document_type == document_type
    )
    if not include_inactive:
        query = query.where(CustomFieldDefinition.active.is_(True))
    return list(
        db.session.execute(
            query.order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        ).scalars()
    )


def condition_fields(document_type: str, *, include_inactive: bool = False) -> dict[str, str]:
    return {
        d.name: d.field_type for d in definitions(document_type, include_inactive=include_inactive)
    }


def reserved_names(document_type: str) -> set[str]:
    """Names a custom field of ``document_type`` may not take (the built-in fields)."""
    from distretto.platform.workflow.engine import document_type as lookup

    doc_type = lookup(document_type)
    return set(doc_type.fields) | set(doc_type.lockable_fields)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CustomFieldError(str(_l("%(key)s must be text.", key=key)), key)
    return value.strip()


def _flag(data: dict[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    try:
        return bool(coerce(value, "boolean"))
    except ValueError as exc:
        raise CustomFieldError(str(_l("%(key)s must be yes or no.", key=key)), key) from exc


def _check(data: dict[str, Any], reserved: set[str]) -> dict[str, Any]:
    """The clean values of a field definition, or CustomFieldError naming the part at fault."""
    if not isinstance(data, dict):
        raise CustomFieldError(str(_l("A field definition must be an object.")))
    name = _text(data, "name")
    if not FIELD_NAME_RE.match(name):
        raise CustomFieldError(
            str(
                _l(
                    "The name may use lower-case letters, digits and _ (up to 40), "
                    "starting with a letter."
                )
            ),
            "name",
        )
    if name in reserved:
        raise CustomFieldError(str(_l("%(name)s is a built-in field.", name=name)), "name")
    label = _text(data, "label")
    if not label or len(label) > 120:
        raise CustomFieldError(str(_l("The label is required (up to 120 characters).")), "label")
    field_type = data.get("type") or data.get("field_type")
    if not isinstance(field_type, str) or field_type not in FIELD_TYPES:
        raise CustomFieldError(str(_l("Unknown field type %(type)s.", type=field_type)), "type")
    choices = data.get("choices") or None
    if field_type == "choice":
        if isinstance(choices, str):
            choices = [c.strip() for c in choices.split(",") if c.strip()]
        if (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(c, str) and c.strip() and len(c) <= 100 for c in choices)
        ):
            raise CustomFieldError(
                str(_l("A choice field needs at least one choice (up to 100 characters each).")),
                "choices",
            )
        choices = [c.strip() for c in choices]
        if len(set(choices)) != len(choices):
            raise CustomFieldError(str(_l("Choices must differ from each other.")), "choices")
    else:
        choices = None
    default = data.get("default")
    if default is None or (isinstance(default, str) and not default.strip()):
        default = None
    else:
        try:
            default = _to_json(_field_for(field_type, False, None, choices).deserialize(default))
        except ValidationError as exc:
            raise CustomFieldError(
                str(
                    _l(
                        "The default value is not valid: %(error)s",
                        error="; ".join(map(str, exc.messages)),
                    )
                ),
                "default",
            ) from exc
    help_text = _text(data, "help_text")
    if len(help_text) > 500:
        raise CustomFieldError(
            str(_l("The help text is too long (up to 500 characters).")), "help_text"
        )
    position = data.get("position") or 0
    try:
        position = coerce(position, "integer") or 0
    except ValueError as exc:
        raise CustomFieldError(str(_l("The position must be a whole number.")), "position") from exc
    return {
        "name": name,
        "label": label,
        "field_type": field_type,
        "required": _flag(data, "required", False),
        "default": default,
        "help_text": help_text or None,
        "choices": choices,
        "position": position,
        "active": _flag(data, "active", True),
    }


def define(document_type: str, data: dict[str, Any]) -> CustomFieldDefinition:
    """Add a field (or update the one with the same name) after checking it."""
    values = _check(data, reserved_names(document_type))
    row = db.session.execute(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.document_type == document_type,
            CustomFieldDefinition.name == values["name"],
        )
    ).scalar_one_or_none()
    if row is None:
        row = CustomFieldDefinition(document_type=document_type, **values)
        db.session.add(row)
        action = "custom_field.created"
    else:
        if row.field_type != values["field_type"]:
            raise CustomFieldError(
                str(_l("The type of an existing field cannot change; add a new field instead.")),
                "type",
            )
        for key, value in values.items():
            setattr(row, key, value)
        action = "custom_field.updated"
    db.session.flush()
    audit.record(action, row, summary={"document_type": document_type, **values})
    return row


def deactivate(row: CustomFieldDefinition) -> None:
    """Hide a field; values already stored stay in the documents."""
    row.active = False
    db.session.flush()
    audit.record("custom_field.deactivated", row, summary={"name": row.name})


# --- validation -----------------------------------------------------------------


class _Date(fields.Date):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class _Integer(fields.Integer):
    """Whole numbers only: 12.5 is refused, not silently cut to 12."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        try:
            return coerce(value, "integer")
        except ValueError as exc:
            raise ValidationError(str(_l("Not a valid whole number."))) from exc


class _Decimal(fields.Decimal):
    """Finite numbers of sensible size; stored as plain text such as ``"1250.50"``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace(" ", "")
            if "," in value and "." not in value:  # "12,50" as typed in Italy
                value = value.replace(",", ".")
        try:
            number = coerce(value, "decimal")
        except ValueError as exc:
            raise ValidationError(str(_l("Not a valid number."))) from exc
        places = -int(number.normalize().as_tuple().exponent) if number is not None else 0
        if places > MAX_DECIMAL_PLACES:
            raise ValidationError(
                str(_l("At most %(places)d decimal places.", places=MAX_DECIMAL_PLACES))
            )
        return number


_YES = {"si", "sì", "Si", "Sì", "SI", "SÌ"}


def _field_for(
    field_type: str, required: bool, help_text: str | None, choices: list[str] | None
) -> fields.Field:
    options: dict[str, Any] = {"required": required, "allow_none": not required}
    if field_type in ("text",):
        return fields.String(validate=validate.Length(max=500), **options)
    if field_type == "long_text":
        return fields.String(validate=validate.Length(max=10_000), **options)
    if field_type == "integer":
        return _Integer(**options)
    if field_type == "decimal":
        return _Decimal(places=None, allow_nan=False, **options)
    if field_type == "date":
        return _Date(**options)
    if field_type == "boolean":
        return fields.Boolean(truthy=fields.Boolean.truthy | _YES, **options)
    if field_type == "choice":
        return fields.String(validate=validate.OneOf(choices or []), **options)
    raise ValueError(field_type)


def schema_for(document_type: str) -> Schema:
    """A marshmallow schema of the firm's active custom fields for ``document_type``."""
    declared = {
        d.name: _field_for(d.field_type, d.required, d.help_text, d.choices)
        for d in definitions(document_type)
    }
    schema_class = Schema.from_dict(declared, name=f"Custom_{document_type}")
    return schema_class()


def clean(
    document_type: str, raw: dict[str, Any], *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate ``raw`` values; returns the JSON to store (raises ValidationError).

    * Creating (``existing`` is None): a field left out or empty takes its
      default, else no value; a required field with neither is an error.
    * Editing (``existing`` given): a field left out keeps its stored value
      (so an API may send only what changes); a field sent empty is cleared,
      which a required field refuses.
    * An empty string counts as "no value", except for yes/no fields, where a
      field sent empty means "no" (an HTML form sends a hidden empty input
      before an unchecked checkbox).
    * Values of deactivated fields already stored are kept untouched; sending
      a value for an unknown or deactivated field is an error.
    """
    defs = definitions(document_type)
    raw = dict(raw or {})
    unknown = set(raw) - {d.name for d in defs}
    if unknown:
        raise ValidationError({name: [str(_l("Unknown field."))] for name in sorted(unknown)})
    data: dict[str, Any] = {}
    cleared: set[str] = set()
    for d in defs:
        present = d.name in raw
        value = raw.get(d.name)
        if isinstance(value, str):
            value = value.strip()
        empty = value is None or value == ""
        if existing is not None and not present:
            continue
        if empty and d.field_type == "boolean" and present:
            value, empty = False, False
        if empty and existing is None and d.default is not None:
            value, empty = d.default, False
        if empty:
            if not d.required:  # a required one is left out: marshmallow reports it missing
                cleared.add(d.name)
            continue
        data[d.name] = value
    loaded = schema_for(document_type).load(data)
    stored = dict(existing or {})
    for name in cleared:
        stored.pop(name, None)
    for name, value in loaded.items():
        stored[name] = _to_json(value)
    return stored


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def display(
    document_type: str, values: dict[str, Any] | None
) -> list[tuple[CustomFieldDefinition, Any]]:
    """(definition, typed value) pairs for a detail page, in the firm's order."""
    values = values or {}
    result = []
    for d in definitions(document_type):
        try:
            result.append((d, coerce(values.get(d.name), d.field_type)))
        except ValueError:
            result.append((d, values.get(d.name)))
    return result


FILTER_OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "contains", "is_empty")


def filter_clause(
    model: Any, definition: CustomFieldDefinition, value: Any, op: str | None = None
) -> Any:
    """A SQL condition on ``model.custom[name]`` that works on SQLite and PostgreSQL.

    ``op`` defaults to ``contains`` (case-insensitive) for text fields and
    ``==`` otherwise; ``>``/``>=``/``<``/``<=`` work on numbers and dates, and
    ``is_empty`` matches documents with no value. A value that does not fit
    the field's type raises ValueError (show it to the user as a bad filter).
    """
    field_type = definition.field_type
    text_like = field_type in ("text", "long_text")
    op = op or ("contains" if text_like else "==")
    if op not in FILTER_OPERATORS:
        raise ValueError(f"unknown filter operator {op!r}")
    column = model.custom[definition.name]
    if op == "is_empty":
        return column.as_string().is_(None)
    if field_type == "decimal" and isinstance(value, str) and "," in value and "." not in value:
        value = value.replace(",", ".")  # "12,50" as typed in Italy
    typed = coerce(value, field_type)
    if typed is None:
        raise ValueError("a filter needs a value")
    if op in (">", ">=", "<", "<=") and field_type not in ("integer", "decimal", "date"):
        raise ValueError(f"{op!r} compares numbers or dates, not {field_type}")
    if op == "contains" and field_type not in ("text", "long_text", "choice"):
        raise ValueError(f"'contains' works on text, not {field_type}")
    if field_type == "integer":
        expression: Any = cast(column.as_string(), Numeric(30, 0))
        typed = Decimal(typed)
    elif field_type == "decimal":
        # Stored as text ("1250.50"); compared as a number on both databases.
        expression = cast(column.as_string(), Numeric(30, MAX_DECIMAL_PLACES))
    elif field_type == "boolean":
        expression = column.as_boolean()
        if op not in ("==", "!="):
            raise ValueError(f"{op!r} does not apply to yes/no")
    elif field_type == "date":
        expression = column.as_string()  # ISO dates order as text
        typed = typed.isoformat()
    else:
        expression = column.as_string()
    if op == "contains":
        return expression.icontains(typed, autoescape=True)
    if op == "==":
        return expression == typed
    if op == "!=":
        return or_(expression.is_(None), expression != typed)
    if op == ">":
        return expression > typed
    if op == ">=":
        return expression >= typed
    if op == "<":
        return expression < typed
    return expression <= typed
