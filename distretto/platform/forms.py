"""Glue between WTForms (rendering, CSRF) and marshmallow (the services' validation).

Pages render WTForms forms, but the rules live in the services' marshmallow
schemas so that pages, CSV imports and the API refuse exactly the same input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField

from distretto.platform.formatting import input_number


def put_errors(form: FlaskForm, messages: Mapping[str, Any]) -> None:
    """Attach marshmallow ``messages`` to the form's fields (others become form errors)."""
    for name, value in messages.items():
        texts = _flatten(value)
        field = getattr(form, name, None) if isinstance(name, str) else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + texts
        else:
            form.form_errors.extend(
                f"{name}: {text}" if name != "_schema" else text for text in texts
            )


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [
            f"{k}: {t}" if not isinstance(k, int) else f"#{k + 1} {t}"
            for k, v in value.items()
            for t in _flatten(v)
        ]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _flatten(item)]
    return [str(value)]


def form_values(form: FlaskForm) -> dict[str, Any]:
    """The form's data without the CSRF token and submit buttons."""
    return {k: v for k, v in form.data.items() if k not in {"csrf_token", "submit"}}


def select_choices(pairs: Iterable[tuple[Any, Any]]) -> list[Any]:
    """SelectField choices as WTForms 3.3+ wants them (tuples are deprecated there)."""
    try:
        from wtforms import SelectChoice
    except ImportError:  # WTForms < 3.3
        return [(str(value), label) for value, label in pairs]
    return [SelectChoice(str(value), label) for value, label in pairs]


class NumberField(StringField):
    """A text input for a number: a stored value shows in the reader's format (1234,5 in
    Italian, no grouping); what the clerk typed is shown back as typed. The services
    read both decimal marks."""

    def _value(self) -> str:
        if isinstance(self.data, str):
            return self.data
        return input_number(self.data)
