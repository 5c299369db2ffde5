"""A person's own account: name, language, password; and the navbar's language switch.

Accounts are global (one person, several firms), so these pages take no firm.
The language chosen here wins over the firm's default; "firm default" (no
choice stored) follows the language of whichever firm the person is working in.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from distretto.platform.auth import services
from distretto.platform.auth.addresses import PlainText
from distretto.platform.auth.passwords import MAX_LENGTH, MIN_LENGTH
from distretto.platform.forms import select_choices

bp = Blueprint("account", __name__)

FIRM_DEFAULT = ""
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200), PlainText()], filters=[_strip]
    )
    locale = SelectField(_l("Language"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
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


class LanguageForm(FlaskForm):
    pass


def _locale_choices() -> list[tuple[str, str]]:
    supported = current_app.config["SUPPORTED_LOCALES"]
    return [(FIRM_DEFAULT, _("Firm default"))] + [
        (code, LANGUAGE_NAMES.get(code, code)) for code in supported
    ]


def _page(profile: ProfileForm, password: PasswordForm, status: int = 200) -> Any:
    return render_template("auth/account.html", profile=profile, password=password), status


def _profile_form(formdata: Any = None) -> ProfileForm:
    form = ProfileForm(formdata=formdata, prefix="profile")
    form.locale.choices = select_choices(_locale_choices())
    return form


@bp.get("/account")
@login_required
def index() -> Any:
    profile = _profile_form()
    profile.name.data = current_user.name
    profile.locale.data = current_user.locale or FIRM_DEFAULT
    return _page(profile, PasswordForm(formdata=None, prefix="password"))


@bp.post("/account")
@login_required
def save_profile() -> Any:
    profile = _profile_form(request.form)
    if not profile.validate_on_submit():
        return _page(profile, PasswordForm(formdata=None, prefix="password"), 400)
    services.update_profile(current_user, name=profile.name.data, locale=profile.locale.data)
    refresh()  # the confirmation below speaks the language just chosen
    flash(_("Your account was saved."), "success")
    return redirect(url_for("account.index"))


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    form = PasswordForm(prefix="password")
    profile = _profile_form()
    profile.name.data = current_user.name
    profile.locale.data = current_user.locale or FIRM_DEFAULT
    if not form.validate_on_submit():
        return _page(profile, form, 400)
    user = current_user._get_current_object()
    try:
        services.change_password(user, form.current_password.data, form.password.data)
    except services.WrongPassword:
        form.current_password.errors = [_("The current password is not right.")]
        return _page(profile, form, 400)
    except ValueError as exc:
        form.password.errors = [str(exc)]
        return _page(profile, form, 400)
    login_user(user)  # this session stays signed in; every other one has ended
    flash(_("Your password was changed. Other devices were signed out."), "success")
    return redirect(url_for("account.index"))


@bp.post("/account/language")
@login_required
def set_language() -> Any:
    """The navbar's quick switch: store the choice and go back to the page it came from."""
    if not LanguageForm().validate_on_submit():
        abort(400)
    locale = request.form.get("locale", "")
    if locale != FIRM_DEFAULT and locale not in current_app.config["SUPPORTED_LOCALES"]:
        abort(400)
    services.update_profile(current_user, locale=locale)
    return redirect(_same_site(request.form.get("next")) or url_for("home.index"), 303)


def _same_site(target: str | None) -> str | None:
    """``next`` only when it is a path on this site (no scheme, host, ``//`` or ``\\``)."""
    from urllib.parse import urlsplit

    target = (target or "").rstrip("?")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
