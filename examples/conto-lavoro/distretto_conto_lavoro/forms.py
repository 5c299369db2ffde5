"""Forms of the conto lavoro pages: shape only; the rules live in services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from distretto_conto_lavoro import services

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

DISPATCH_LINES = 6


def choices(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, str(label)) for value, label in pairs]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def quantity_check(*, allow_zero: bool) -> Any:
    """Check a typed quantity with the services' own rule, so every error shows at once."""

    def check(form: Any, field: Any) -> None:
        if field.data in (None, ""):
            return
        try:
            services.parse_quantity(field.data, field.name, allow_zero=allow_zero)
        except services.ContoLavoroError as exc:
            raise ValidationError(str(exc)) from None

    return check


class SubcontractorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    vat_number = StringField(
        _l("VAT number"), validators=[DataRequired(), Length(max=20)], filters=[_strip]
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)], filters=[_strip])


class ItemForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)], filters=[_strip])
    description = StringField(
        _l("Description"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    unit = StringField(
        _l("Unit"), default="pz", validators=[DataRequired(), Length(max=10)], filters=[_strip]
    )


class DispatchLineForm(Form):
    item_id = SelectField(_l("Item"), validate_choice=False)
    quantity = StringField(
        _l("Quantity sent"), validators=[quantity_check(allow_zero=False)], filters=[_strip]
    )


class DispatchForm(FlaskForm):
    subcontractor_id = SelectField(_l("Subcontractor"), validate_choice=False)
    processing = StringField(
        _l("Processing requested"),
        validators=[DataRequired(), Length(max=200)],
        filters=[_strip],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    lines = FieldList(FormField(DispatchLineForm), min_entries=DISPATCH_LINES)

    def set_choices(self, subcontractors: Iterable[Any], items: Iterable[Any]) -> None:
        self.subcontractor_id.choices = choices(
            [("", "—"), *((str(s.id), s.name) for s in subcontractors)]
        )
        item_choices = [("", "—"), *((str(i.id), f"{i.code} · {i.description}") for i in items)]
        for entry in self.lines:
            entry.form.item_id.choices = choices(item_choices)


class ReturnLineForm(Form):
    dispatch_line_id = HiddenField()
    quantity = StringField(
        _l("Returned"), validators=[quantity_check(allow_zero=True)], filters=[_strip]
    )
    scrap = StringField(_l("Scrap"), validators=[quantity_check(allow_zero=True)], filters=[_strip])


class ReturnForm(FlaskForm):
    subcontractor_id = HiddenField()
    reference = StringField(
        _l("Subcontractor's document number"),
        validators=[DataRequired(), Length(max=40)],
        filters=[_strip],
    )
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    lines = FieldList(FormField(ReturnLineForm))


def attach_error(form: Any, field_name: str | None, message: str) -> None:
    """Show a service's refusal next to the field it names (``lines-2-quantity``)."""
    field = _find(form, field_name) if field_name else None
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


def _find(form: Any, name: str) -> Any:
    for field in form:
        if field.name == name:
            return field
        if field.type == "FieldList":
            for entry in field:
                found = _find(entry.form, name) if hasattr(entry, "form") else None
                if found is not None:
                    return found
    return None
