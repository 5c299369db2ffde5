"""Forms of the firm's self-service settings: firm data, logo, support access, audit filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from distretto.platform.auth.addresses import EmailAddress, PlainText
from distretto.tenants.forms import LOCALE_CHOICES, ROLE_CHOICES


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class FirmForm(FlaskForm):
    legal_name = StringField(
        _l("Legal name"),
        validators=[DataRequired(), Length(max=200), PlainText()],
        filters=[_strip],
    )
    vat_number = StringField(
        _l("VAT number"), validators=[DataRequired(), Length(max=16)], filters=[_strip]
    )
    tax_code = StringField(
        _l("Codice fiscale"), validators=[Optional(), Length(max=16)], filters=[_strip]
    )
    street = StringField(
        _l("Street and number"), validators=[Length(max=200), PlainText()], filters=[_strip]
    )
    postcode = StringField(_l("Postcode"), validators=[Length(max=10)], filters=[_strip])
    city = StringField(_l("City"), validators=[Length(max=60), PlainText()], filters=[_strip])
    province = StringField(_l("Province"), validators=[Length(max=2)], filters=[_strip])
    country = StringField(_l("Country"), validators=[Length(max=2)], filters=[_strip])
    phone = StringField(_l("Phone"), validators=[Length(max=40), PlainText()], filters=[_strip])
    email = EmailField(
        _l("E-mail"), validators=[Optional(), EmailAddress(), Length(max=254)], filters=[_strip]
    )
    pec = EmailField(
        _l("PEC"), validators=[Optional(), EmailAddress(), Length(max=254)], filters=[_strip]
    )
    default_locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG or JPEG)"))


class SupportGrantForm(FlaskForm):
    operator_email = EmailField(
        _l("Operator's e-mail"),
        validators=[DataRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )
    hours = IntegerField(
        _l("Hours"),
        default=4,
        validators=[InputRequired(), NumberRange(min=1, max=72)],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=2000), PlainText(multiline=True)],
        filters=[_strip],
    )


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, read from the query string (no CSRF: it only reads)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=254)], filters=[_strip])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=80)], filters=[_strip])
    object_type = StringField(
        _l("Object type"), validators=[Optional(), Length(max=80)], filters=[_strip]
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
