"""Forms of the firm and operator pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from distretto.platform.auth.addresses import EmailAddress, PlainText
from distretto.tenants.models import ROLE_LABELS, Role

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def select_choices(pairs: Iterable[tuple[Any, Any]]) -> list[Any]:
    """``(value, label)`` pairs in the form the installed WTForms expects."""
    if SelectChoice is None:
        return [(str(value), label) for value, label in pairs]
    return [SelectChoice(str(value), label) for value, label in pairs]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


ROLE_CHOICES = select_choices((role, ROLE_LABELS[role]) for role in Role.ALL)
LOCALE_CHOICES = select_choices([("it", "Italiano"), ("en", "English")])


class InviteForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.STAFF)


class TenantForm(FlaskForm):
    legal_name = StringField(
        _l("Legal name"),
        validators=[DataRequired(), Length(max=200), PlainText()],
        filters=[_strip],
    )
    slug = StringField(
        _l("Address name"), validators=[DataRequired(), Length(min=1, max=40)], filters=[_strip]
    )
    vat_number = StringField(
        _l("VAT number"), validators=[DataRequired(), Length(max=16)], filters=[_strip]
    )
    default_locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    admin_email = EmailField(
        _l("First administrator's e-mail"),
        validators=[DataRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )
    modules = SelectMultipleField(
        _l("Modules"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    template = SelectField(_l("District template"), choices=[], validate_choice=False)


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason shown to the firm's users"),
        validators=[DataRequired(), Length(max=2000), PlainText(multiline=True)],
        filters=[_strip],
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""
