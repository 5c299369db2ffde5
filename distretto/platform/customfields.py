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
from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform import audit
from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.platform.workflow.conditions import FIELD_TYPES, coerce

FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

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


def _check(data: dict[str, Any], reserved: set[str]) -> dict[str, Any]:
    name = (data.get("name") or "").strip()
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
    label = (data.get("label") or "").strip()
    if not label or len(label) > 120:
        raise CustomFieldError(str(_l("The label is required (up to 120 characters).")), "label")
    field_type = data.get("type") or data.get("field_type")
    if field_type not in FIELD_TYPES:
        raise CustomFieldError(str(_l("Unknown field type %(type)s.", type=field_type)), "type")
    choices = data.get("choices") or None
    if field_type == "choice":
        if isinstance(choices, str):
            choices = [c.strip() for c in choices.split(",") if c.strip()]
        if not choices or not all(isinstance(c, str) and c for c in choices):
            raise CustomFieldError(str(_l("A choice field needs at least one choice.")), "choices")
        if len(set(choices)) != len(choices):
            raise CustomFieldError(str(_l("Choices must differ from each other.")), "choices")
    else:
        choices = None
    default = data.get("default")
    if default in ("", None):
        default = None
    else:
        try:
            _field_for(field_type, False, None, choices).deserialize(default)
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
    return {
        "name": name,
        "label": label,
        "field_type": field_type,
        "required": bool(data.get("required")),
        "default": default,
        "help_text": (data.get("help_text") or "").strip() or None,
        "choices": choices,
        "position": int(data.get("position") or 0),
        "active": bool(data.get("active", True)),
    }


def define(document_type: str, data: dict[str, Any]) -> CustomFieldDefinition:
    """Add a field (or update the one with the same name) after checking it."""
    from distretto.platform.workflow.engine import document_type as lookup

    doc_type = lookup(document_type)
    values = _check(data, set(doc_type.fields) | set(doc_type.lockable_fields))
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
        if isinstance(value, date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


def _field_for(
    field_type: str, required: bool, help_text: str | None, choices: list[str] | None
) -> fields.Field:
    options: dict[str, Any] = {"required": required, "allow_none": not required}
    if field_type in ("text",):
        return fields.String(validate=validate.Length(max=500), **options)
    if field_type == "long_text":
        return fields.String(validate=validate.Length(max=10_000), **options)
    if field_type == "integer":
        return fields.Integer(strict=False, **options)
    if field_type == "decimal":
        return fields.Decimal(places=None, allow_nan=False, **options)
    if field_type == "date":
        return _Date(**options)
    if field_type == "boolean":
        return fields.Boolean(**options)
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

    Empty strings count as "no value". Missing optional fields take their
    default on creation; values of deactivated fields already stored are kept.
    """
    defs = definitions(document_type)
    data: dict[str, Any] = {}
    for d in defs:
        value = raw.get(d.name)
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            if existing is None and d.default is not None:
                value = d.default
            elif d.field_type == "boolean" and d.name in raw:
                value = False
            else:
                value = None
        if value is not None or d.required:
            data[d.name] = value
    unknown = set(raw) - {d.name for d in defs}
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    loaded = schema_for(document_type).load(data)
    stored = dict(existing or {})
    for name, value in loaded.items():
        stored[name] = _to_json(value)
    return stored


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
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


def filter_clause(model: Any, definition: CustomFieldDefinition, value: str) -> Any:
    """A SQL condition ``custom[name] == value`` that works on SQLite and PostgreSQL."""
    column = model.custom[definition.name]
    typed = coerce(value, definition.field_type)
    if definition.field_type in ("integer",):
        return column.as_integer() == typed
    if definition.field_type == "decimal":
        return column.as_float() == float(typed)
    if definition.field_type == "boolean":
        return column.as_boolean() == typed
    if definition.field_type == "date":
        return column.as_string() == typed.isoformat()
    if definition.field_type in ("text", "long_text"):
        return column.as_string().ilike(f"%{typed}%")
    return column.as_string() == typed
