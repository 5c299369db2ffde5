"""Authentication rules: who may sign in, and where they land."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from distretto.platform.auth.models import User
from distretto.platform.auth.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    spend_verification_time,
    verify_password,
)
from distretto.platform.auth.tokens import (
    InvalidLink,
    external_link,
    fingerprint,
    make_token,
    read_token,
)
from distretto.platform.context import actor_context
from distretto.platform.db import db, refresh_database_scope, utcnow
from distretto.platform.mail import send_mail
from distretto.tenants.models import Membership, Tenant, TenantStatus

RESET_SALT = "password-reset"


@dataclass
class LoginOutcome:
    """``user`` is set when sign-in succeeds; otherwise ``message`` and ``status`` say why.

    401 is a wrong e-mail or password (and counts towards throttling); 403 is a
    right password for an account that may not sign in now (disabled, or every
    firm it belongs to is suspended).
    """

    user: User | None
    message: str | None = None
    status: int = 200


def find_user(email: str) -> User | None:
    if not email or len(email) > 254 or "\x00" in email:
        return None  # no such address can exist (and PostgreSQL refuses NUL)
    return db.session.execute(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    ).scalar_one_or_none()


def authenticate(email: str, password: str) -> LoginOutcome:
    user = find_user(email)
    if user is None:
        spend_verification_time(password)  # "no such account" costs what "wrong password" does
        return LoginOutcome(None, _("E-mail or password is not right."), 401)
    if not verify_password(user.password_hash, password):
        return LoginOutcome(None, _("E-mail or password is not right."), 401)
    if not user.active:
        return LoginOutcome(None, _("This account is disabled."), 403)
    if not user.is_operator:
        firms = memberships_of(user)
        if firms and all(t.status == TenantStatus.SUSPENDED for _m, t in firms):
            reasons = "; ".join(f"{t.legal_name}: {t.suspended_reason or '-'}" for _m, t in firms)
            return LoginOutcome(
                None, _("Your firm is suspended (%(reasons)s).", reasons=reasons), 403
            )
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return LoginOutcome(user)


@contextmanager
def acting_as(user: User) -> Iterator[None]:
    """Read as ``user`` before the request knows who it is (during sign-in).

    On PostgreSQL a person's memberships across firms are readable only when
    ``app.user_id`` names them; the request started anonymous, so set it here.
    """
    try:
        with actor_context(user.id):
            refresh_database_scope()
            yield
    finally:
        refresh_database_scope()


def memberships_of(user: User) -> list[tuple[Membership, Tenant]]:
    """Every firm the person belongs to (a read across firms limited to their own rows)."""
    with acting_as(user):
        rows = db.session.execute(
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.user_id == user.id)
            .order_by(Tenant.legal_name, Tenant.id)
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
    """Store a new password; every other session and reset link of the account dies with it."""
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    user.password_hash = hash_password(password)
    db.session.flush()


def reset_link(user: User) -> str:
    token = make_token(RESET_SALT, {"u": user.id, "f": fingerprint(user.password_hash)})
    return external_link("auth.reset_password", token=token)


def send_password_reset(user: User) -> str:
    link = reset_link(user)
    with force_locale(user.locale or current_app.config["DEFAULT_LOCALE"]):
        _send_reset_mail(user, link)
    return link


def _send_reset_mail(user: User, link: str) -> None:
    send_mail(
        user.email,
        _("Choose a new Distretto password"),
        _(
            "Someone asked to change the password of this account. If it was you, open "
            "this link within an hour:\n\n%(link)s\n\nIf not, ignore this message.",
            link=link,
        ),
    )


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for; :class:`InvalidLink` once used, expired or forged.

    The link carries a fingerprint of the password hash it was issued against,
    so setting any new password voids it: single use without a table of tokens.
    """
    data = read_token(RESET_SALT, token, int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    user_id = data.get("u")
    user = db.session.get(User, user_id) if type(user_id) is int else None
    if user is None or not user.active or fingerprint(user.password_hash) != data.get("f"):
        raise InvalidLink("used")
    return user


class WrongPassword(ValueError):
    """The current password given to change it is not the account's."""


def update_profile(user: User, *, name: str | None = None, locale: str | None = None) -> None:
    """Store the person's name and language ("" or None: each firm's default language)."""
    if name is not None:
        user.name = name.strip()
    if locale is not None:
        supported = current_app.config["SUPPORTED_LOCALES"]
        if locale and locale not in supported:
            raise ValueError(f"unsupported language {locale!r}")
        user.locale = locale or None
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one; other sessions end with it."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword(_("The current password is not right."))
    set_password(user, new)


def firms_locale(user: User) -> str | None:
    """The default language of the person's firms if they all share one, else None.

    Read once per request (cached in ``g``): pages outside any firm speak it to a
    person who has not chosen a language.
    """
    from flask import g

    cache = g.setdefault("_firms_locale", {})
    if user.id not in cache:
        with acting_as(user):
            locales = set(
                db.session.execute(
                    select(Tenant.default_locale)
                    .join(Membership, Membership.tenant_id == Tenant.id)
                    .where(Membership.user_id == user.id)
                    .distinct()
                    .limit(2)
                    .execution_options(all_tenants=True)
                ).scalars()
            )
        cache[user.id] = locales.pop() if len(locales) == 1 else None
    return cache[user.id]
