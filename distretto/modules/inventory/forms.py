"""Forms of the inventory pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError


def weight(_form: Any, field: Any) -> None:
    """A weight in kg as clerks type it (12,5 or 12.5), within what the DDT column holds."""
    text = (field.data or "").strip().replace(" ", "")
    if not text:
        return
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value >= 10**8:
        raise ValidationError(str(_l("Enter a weight in kg (0 or more).")))


class ShipForm(FlaskForm):
    shipment_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    reason = StringField(_l("Reason for transport"), default="Vendita", validators=[Length(max=60)])
    carrier = SelectField(_l("Transport by"), choices=[], default="mittente")
    packages = IntegerField(_l("Packages"), validators=[Optional(), NumberRange(min=0, max=99999)])
    weight_kg = StringField(_l("Weight (kg)"), validators=[weight])
    appearance = StringField(
        _l("Appearance of goods"), default="a vista", validators=[Length(max=60)]
    )
    destination = StringField(_l("Destination (if different)"), validators=[Length(max=300)])
    notes = TextAreaField(_l("Notes"))


class ReceiveForm(FlaskForm):
    receipt_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    supplier_document = StringField(_l("Supplier's delivery note"), validators=[Length(max=60)])


class AdjustForm(FlaskForm):
    product_code = StringField(_l("Product code"))
    location_id = SelectField(_l("Location"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity now in the location"))
    note = StringField(_l("Reason"), validators=[Length(max=300)])


class TransferForm(FlaskForm):
    product_code = StringField(_l("Product code"))
    quantity = StringField(_l("Quantity"))
    from_location_id = SelectField(_l("From"), choices=[], validate_choice=False)
    to_location_id = SelectField(_l("To"), choices=[], validate_choice=False)


class CountForm(FlaskForm):
    location_id = SelectField(_l("Location"), choices=[], validate_choice=False)
    note = StringField(_l("Note"), validators=[Length(max=300)])


class SettingsForm(FlaskForm):
    allow_negative_stock = BooleanField(_l("Allow stock to go below zero"))


class EmptyForm(FlaskForm):
    pass
