"""Signing in and out, and password resets."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from distretto.platform.auth import services
from distretto.platform.auth.forms import ForgotPasswordForm, LoginForm, NewPasswordForm
from distretto.platform.auth.models import User
from distretto.platform.auth.tokens import InvalidLink
from distretto.platform.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page says enough
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id made by ``User.get_id`` (``<id>:<password stamp>``)."""
    user_id, _sep, stamp = str(session_id).partition(":")
    if not user_id.isdigit() or not stamp:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_stamp, stamp):
        return None  # the password changed since: this session is over
    return user


def _login_account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response: Any) -> bool:
    """Only a wrong e-mail or password counts towards the sign-in limits."""
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
    error_message=lambda: _("Too many failed sign-in attempts from this address. Try again later."),
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
    error_message=lambda: _("Too many failed sign-in attempts for this account. Try again later."),
)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form), status
    outcome = services.authenticate(form.email.data, form.password.data)
    if outcome.user is None:
        return render_template("auth/login.html", form=form, error=outcome.message), (
            outcome.status
        )
    login_user(outcome.user, remember=bool(form.remember.data))
    return redirect(_safe_next() or services.landing_url(outcome.user))


def _safe_next() -> str | None:
    """``?next=`` only when it stays on this site (no scheme, host or ``//``/``\\`` tricks)."""
    target = request.args.get("next") or ""
    if not target.startswith("/") or "\\" in target or target.startswith("//"):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.post("/logout")
@login_required
def logout() -> Any:
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="password-forgot")
@limiter.limit(
    "3 per hour",
    key_func=lambda: "reset:" + (request.form.get("email") or "").strip().lower(),
    methods=["POST"],
    scope="password-forgot-account",
)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user is not None and user.active:
            services.send_password_reset(user)
        # The same answer whether or not the address is known.
        flash(
            _("If the address is registered, a link to choose a new password is on its way."),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    try:
        user = services.user_for_reset_token(token)
    except InvalidLink:
        return render_template("auth/invalid_link.html"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        flash(_("Your password was changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if request.method == "POST" else 200
