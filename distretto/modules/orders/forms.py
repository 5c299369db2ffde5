"""Forms of the order pages (rendering and CSRF; rules are in schemas.py and services.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import Optional


class LineForm(Form):
    product_code = StringField(_l("Product code"))
    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"))
    unit_price = StringField(_l("Unit price"))
    discount_percent = StringField(_l("Discount %"))
    vat_code = StringField(_l("VAT"))


class OrderForm(FlaskForm):
    party_code = StringField(_l("Counterpart (code or name)"))
    # a browser sends an empty date field as "": empty means today / not known
    order_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    expected_date = DateField(_l("Expected delivery"), format="%Y-%m-%d", validators=[Optional()])
    customer_reference = StringField(_l("Counterpart's reference"))
    notes = TextAreaField(_l("Notes"))
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=500)
    version = HiddenField()


class TransitionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"))


class EmptyForm(FlaskForm):
    pass
