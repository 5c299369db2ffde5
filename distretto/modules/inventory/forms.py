"""Forms of the inventory pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional


class ShipForm(FlaskForm):
    shipment_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    reason = StringField(_l("Reason for transport"), default="Vendita")
    carrier = SelectField(_l("Transport by"), choices=[], validate_choice=False, default="mittente")
    packages = IntegerField(_l("Packages"), validators=[Optional()])
    weight_kg = StringField(_l("Weight (kg)"))
    appearance = StringField(_l("Appearance of goods"), default="a vista")
    destination = StringField(_l("Destination (if different)"))
    notes = TextAreaField(_l("Notes"))


class ReceiveForm(FlaskForm):
    receipt_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    supplier_document = StringField(_l("Supplier's delivery note"))


class AdjustForm(FlaskForm):
    product_code = StringField(_l("Product code"))
    location_id = SelectField(_l("Location"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity now in the location"))
    note = StringField(_l("Reason"))


class TransferForm(FlaskForm):
    product_code = StringField(_l("Product code"))
    quantity = StringField(_l("Quantity"))
    from_location_id = SelectField(_l("From"), choices=[], validate_choice=False)
    to_location_id = SelectField(_l("To"), choices=[], validate_choice=False)


class CountForm(FlaskForm):
    location_id = SelectField(_l("Location"), choices=[], validate_choice=False)
    note = StringField(_l("Note"))


class SettingsForm(FlaskForm):
    allow_negative_stock = BooleanField(_l("Allow stock to go below zero"))


class EmptyForm(FlaskForm):
    pass
