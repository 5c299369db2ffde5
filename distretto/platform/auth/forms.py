"""Forms for signing in and setting passwords (Flask-WTF: CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from distretto.platform.auth.addresses import EmailAddress, PlainText
from distretto.platform.auth.passwords import MAX_LENGTH, MIN_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Length(max=254), PlainText()], filters=[_strip]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("Use at least %(num)d characters.", num=MIN_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=200), PlainText()],
        filters=[_strip],
    )
