"""Authentication rules: who may sign in, and where they land."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from distretto.platform.auth.models import User
from distretto.platform.auth.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    verify_password,
)
from distretto.platform.auth.tokens import InvalidLink, fingerprint, make_token, read_token
from distretto.platform.db import db, utcnow
from distretto.platform.mail import send_mail
from distretto.tenants.models import Membership, Tenant, TenantStatus

RESET_SALT = "password-reset"


@dataclass
class LoginOutcome:
    user: User | None
    message: str | None = None


def find_user(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def authenticate(email: str, password: str) -> LoginOutcome:
    user = find_user(email)
    if user is None:
        verify_password(DUMMY_HASH, password)  # same cost as a real check
        return LoginOutcome(None)
    if not verify_password(user.password_hash, password):
        return LoginOutcome(None)
    if not user.is_active:
        return LoginOutcome(None, _("This account is disabled."))
    if not user.is_operator:
        firms = memberships_of(user)
        if firms and all(t.status == TenantStatus.SUSPENDED for _m, t in firms):
            reasons = "; ".join(f"{t.legal_name}: {t.suspended_reason or '-'}" for _m, t in firms)
            return LoginOutcome(None, _("Your firm is suspended (%(reasons)s).", reasons=reasons))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return LoginOutcome(user)


def memberships_of(user: User) -> list[tuple[Membership, Tenant]]:
    """Every firm the person belongs to (a read across firms limited to their own rows)."""
    rows = db.session.execute(
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user.id)
        .order_by(Tenant.legal_name)
        .execution_options(all_tenants=True)
    ).all()
    return [(m, t) for m, t in rows]


def landing_url(user: User) -> str:
    if user.is_operator:
        return url_for("operator.index")
    active = [t for _m, t in memberships_of(user) if t.status == TenantStatus.ACTIVE]
    if len(active) == 1:
        return url_for("tenant.home", tenant=active[0].slug)
    return url_for("home.index")


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    db.session.flush()


def send_password_reset(user: User) -> str:
    token = make_token(RESET_SALT, {"u": user.id, "f": fingerprint(user.password_hash)})
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
    with force_locale(user.locale or current_app.config["DEFAULT_LOCALE"]):
        send_mail(
            user.email,
            _("Choose a new Distretto password"),
            _(
                "Someone asked to change the password of this account. If it was you, open "
                "this link within an hour:\n\n%(link)s\n\nIf not, ignore this message.",
                link=link,
            ),
        )
    return link


def user_for_reset_token(token: str) -> User:
    data = read_token(RESET_SALT, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.is_active or fingerprint(user.password_hash) != data.get("f"):
        raise InvalidLink("used")
    return user
