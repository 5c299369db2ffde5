"""Signing in and out, and password resets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

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
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def _login_account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response: Any) -> bool:
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
        flash(outcome.message or _("E-mail or password is not right."), "error")
        return render_template("auth/login.html", form=form), 401
    login_user(outcome.user, remember=bool(form.remember.data))
    return redirect(_safe_next() or services.landing_url(outcome.user))


def _safe_next() -> str | None:
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return None


@bp.post("/logout")
@login_required
def logout() -> Any:
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], scope="password-forgot")
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        ).scalar_one_or_none()
        if user is not None and user.is_active:
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
