"""Forms of the catalog pages (rendering and CSRF; rules are in schemas.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField

from distretto.platform.forms import NumberField, select_choices


class PartyForm(FlaskForm):
    legal_name = StringField(_l("Legal name"))
    code = StringField(_l("Code"), description=_l("Left empty, it is generated."))
    is_customer = BooleanField(_l("Customer"))
    is_supplier = BooleanField(_l("Supplier"))
    vat_number = StringField(_l("VAT number"))
    tax_code = StringField(_l("Codice fiscale"))
    country = StringField(_l("Country"), default="IT")
    street = StringField(_l("Street"))
    postcode = StringField(_l("Postcode"))
    city = StringField(_l("City"))
    province = StringField(_l("Province"))
    sdi_code = StringField(_l("SDI recipient code"))
    pec = EmailField(_l("PEC"))
    email = EmailField(_l("E-mail"))
    phone = StringField(_l("Phone"))
    payment_terms_id = SelectField(
        _l("Payment terms"), coerce=str, choices=[], validate_choice=False
    )
    vat_rate_id = SelectField(
        _l("Default VAT treatment"), coerce=str, choices=[], validate_choice=False
    )
    split_payment = BooleanField(_l("Split payment (public administration)"))
    notes = TextAreaField(_l("Notes"))


class ProductForm(FlaskForm):
    code = StringField(_l("Code"))
    description = StringField(_l("Description"))
    unit = StringField(_l("Unit of measure"), default="pz")
    sale_price = NumberField(_l("Sale price"), default="0")
    purchase_cost = NumberField(_l("Purchase cost"), default="0")
    vat_rate_id = SelectField(_l("VAT rate"), coerce=str, choices=[], validate_choice=False)
    is_service = BooleanField(_l("Service (not a physical good)"))
    stocked = BooleanField(_l("Kept in stock"), default=True)
    reorder_point = NumberField(_l("Reorder point"), default="0")


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=select_choices(
            [
                ("customers", _l("Customers")),
                ("suppliers", _l("Suppliers")),
                ("products", _l("Products")),
            ]
        ),
    )
    file = FileField(_l("CSV file"))
    content = TextAreaField()  # the previewed file, carried to the confirmation


class EmptyForm(FlaskForm):
    pass
