"""Forms of the invoicing pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional


class LineForm(Form):
    product_code = StringField(_l("Product code"))
    description = StringField(_l("Description"))
    quantity = StringField(_l("Quantity"))
    unit_price = StringField(_l("Unit price"))
    discount_percent = StringField(_l("Discount %"))
    vat_code = StringField(_l("VAT"))


class InvoiceForm(FlaskForm):
    party_code = StringField(_l("Customer (code or name)"))
    issue_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    series = StringField(_l("Series (sezionale)"))
    payment_terms_id = SelectField(_l("Payment terms"), choices=[], validate_choice=False)
    split_payment = BooleanField(_l("Split payment (public administration)"))
    causale = StringField(_l("Reason (causale)"))
    notes = TextAreaField(_l("Notes"))
    lines = FieldList(FormField(LineForm), min_entries=3, max_entries=500)
    version = HiddenField()


class PaymentForm(FlaskForm):
    amount = StringField(_l("Amount"))
    payment_date = DateField(_l("Date"), format="%Y-%m-%d", validators=[Optional()])
    note = StringField(_l("Note"))


class FromOrdersForm(FlaskForm):
    party_code = StringField(_l("Customer (code or name)"))
    deferred = BooleanField(_l("Deferred invoice (TD24) listing the transport documents"))


class ImportForm(FlaskForm):
    file = FileField(_l("FatturaPA XML file"))


class FiscalForm(FlaskForm):
    tax_code = StringField(_l("Codice fiscale of the firm"))
    regime = SelectField(_l("Tax regime"), choices=[], validate_choice=False)
    street = StringField(_l("Street"))
    postcode = StringField(_l("Postcode"))
    city = StringField(_l("City"))
    province = StringField(_l("Province"))
    iban = StringField(_l("IBAN for bank transfers"))


class ReportForm(FlaskForm):
    start = DateField(_l("From"), format="%Y-%m-%d", validators=[Optional()])
    end = DateField(_l("To"), format="%Y-%m-%d", validators=[Optional()])


class EmptyForm(FlaskForm):
    pass
