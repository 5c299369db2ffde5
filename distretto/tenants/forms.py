"""Forms of the firm and operator pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from distretto.tenants.models import Role

ROLE_CHOICES = [
    (Role.OWNER, _l("Owner")),
    (Role.ADMIN, _l("Administrator")),
    (Role.STAFF, _l("Staff")),
    (Role.VIEWER, _l("Viewer")),
]


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.STAFF)


class TenantForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address name"), validators=[DataRequired(), Length(min=1, max=40)])
    vat_number = StringField(_l("VAT number"), validators=[DataRequired(), Length(max=16)])
    default_locale = SelectField(_l("Language"), choices=[("it", "Italiano"), ("en", "English")])
    admin_email = EmailField(
        _l("First administrator's e-mail"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class SuspendForm(FlaskForm):
    reason = TextAreaField(_l("Reason shown to the firm's users"), validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""
