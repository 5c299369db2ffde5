"""Tenant lifecycle rules: onboarding, members, invitations, suspension.

Services flush and never commit; the caller's boundary (request or CLI
command) commits once, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from stdnum.it import iva

from distretto.platform import audit
from distretto.platform.auth.addresses import normalise_email, same_address
from distretto.platform.auth.models import User
from distretto.platform.auth.passwords import hash_password, password_problem
from distretto.platform.auth.tokens import InvalidLink, external_link, make_token, read_token
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.mail import send_mail
from distretto.tenants.models import (
    RESERVED_SLUGS,
    SLUG_PATTERN,
    Invitation,
    Membership,
    Role,
    Tenant,
    TenantStatus,
    role_label,
)

INVITATION_SALT = "invitation"


class TenantError(ValueError):
    """A request the rules refuse; ``field`` names the input at fault, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_vat(value: str) -> str:
    """The 11-digit Italian VAT number (partita IVA), validated, without ``IT``."""
    compact = iva.compact(value or "")
    if compact.upper().startswith("IT"):
        compact = compact[2:]
    if not iva.is_valid(compact):
        raise TenantError(
            _("%(value)s is not a valid Italian VAT number.", value=value), "vat_number"
        )
    return compact


def check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise TenantError(
            _("The address name may use lower-case letters, digits and dashes (2 to 40)."), "slug"
        )
    if slug in RESERVED_SLUGS:
        raise TenantError(_("%(slug)s is reserved by the platform.", slug=slug), "slug")
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first():
        raise TenantError(_("%(slug)s is already taken.", slug=slug), "slug")
    return slug


def create_tenant(
    slug: str,
    legal_name: str,
    vat_number: str,
    *,
    default_locale: str = "it",
    modules: list[str] | None = None,
) -> Tenant:
    """Onboard a firm: a few rows, no schema or database of its own."""
    legal_name = (legal_name or "").strip()
    if not legal_name or len(legal_name) > 200:
        raise TenantError(_("The legal name is required (at most 200 characters)."), "legal_name")
    if default_locale not in current_app.config["SUPPORTED_LOCALES"]:
        raise TenantError(
            _("Unsupported language %(code)s.", code=default_locale), "default_locale"
        )
    tenant = Tenant(
        slug=check_slug(slug),
        legal_name=legal_name,
        vat_number=normalise_vat(vat_number),
        default_locale=default_locale,
        status=TenantStatus.ACTIVE,
        settings={},
    )
    db.session.add(tenant)
    db.session.flush()
    with tenant_context(tenant):
        audit.record("tenant.created", tenant, summary={"slug": tenant.slug, "name": legal_name})
        if modules:
            from distretto.platform.modules import enable_module

            for name in modules:
                enable_module(name)
    return tenant


def set_status(tenant: Tenant, status: str, reason: str | None = None) -> Tenant:
    if status not in TenantStatus.ALL:
        raise TenantError(f"unknown status {status!r}", "status")
    if status == TenantStatus.SUSPENDED and not (reason or "").strip():
        raise TenantError(_("Say why the firm is suspended: its users will read it."), "reason")
    previous = tenant.status
    tenant.status = status
    tenant.suspended_reason = (
        reason.strip() if status == TenantStatus.SUSPENDED and reason else None
    )
    db.session.flush()
    with tenant_context(tenant):
        audit.record(
            f"tenant.{'suspended' if status == TenantStatus.SUSPENDED else 'resumed'}",
            tenant,
            summary={"status": [previous, status], "reason": tenant.suspended_reason},
        )
    return tenant


def find_tenant(slug: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise TenantError(_("No firm with the address %(slug)s.", slug=slug), "slug")
    return tenant


def create_user(
    email: str, password: str | None, name: str = "", *, operator: bool = False
) -> User:
    email = _checked_email(email)
    if db.session.execute(select(User.id).where(func.lower(User.email) == email.lower())).first():
        raise TenantError(_("%(email)s already has an account.", email=email), "email")
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise TenantError(_("Password too weak: %(problem)s.", problem=problem), "password")
    user = User(
        email=email,
        name=(name or "").strip(),
        password_hash=hash_password(password) if password else None,
        is_operator=operator,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _checked_email(value: str | None) -> str:
    email = normalise_email(value)
    if email is None:
        shown = (value or "").strip()[:254]
        raise TenantError(_("%(email)s is not an e-mail address.", email=shown), "email")
    return email


def check_role(role: str) -> str:
    if role not in Role.ALL:
        raise TenantError(
            _(
                "Unknown role %(role)s; choose one of %(roles)s.",
                role=role,
                roles=", ".join(Role.ALL),
            ),
            "role",
        )
    return role


def grant(tenant: Tenant, user: User, role: str) -> Membership:
    """Give ``user`` a role in ``tenant`` (or change the role they have).

    A firm always keeps an owner: demoting its last owner is refused.
    """
    check_role(role)
    with tenant_context(tenant):
        membership = db.session.execute(
            select(Membership).where(Membership.user_id == user.id)
        ).scalar_one_or_none()
        previous = membership.role if membership else None
        if membership is None:
            _check_user_quota(tenant, except_email=user.email)
            membership = Membership(user_id=user.id, role=role)
            db.session.add(membership)
        else:
            if previous == Role.OWNER and role != Role.OWNER and _owner_count() <= 1:
                raise TenantError(_("The firm's last owner cannot be removed."), "role")
            membership.role = role
        db.session.flush()
        audit.record(
            "member.granted", membership, summary={"user": user.email, "role": [previous, role]}
        )
    return membership


def _check_user_quota(tenant: Tenant, *, except_email: str) -> None:
    """Members plus pending invitations may not pass the firm's user quota.

    A pending invitation to ``except_email`` is not counted: it is being
    replaced, or redeemed by the membership about to be added.
    """
    from distretto.platform.quotas import QuotaExceeded, check_users

    try:
        check_users(tenant, except_email=except_email)
    except QuotaExceeded as exc:
        raise TenantError(str(exc), "email") from exc


@dataclass
class SentInvitation:
    invitation: Invitation
    link: str


def invite(
    tenant: Tenant,
    email: str,
    role: str,
    invited_by: User | None = None,
    *,
    inviter_role: str | None = None,
) -> SentInvitation:
    """Write an invitation and mail its single-use, expiring link.

    ``inviter_role`` is the role of the member inviting from the firm's pages:
    only an owner may make someone an owner (an administrator cannot raise
    anyone above themselves). Operators and the CLI pass None.

    A new invitation to the same address replaces any pending one.
    """
    email = _checked_email(email)
    check_role(role)
    if role == Role.OWNER and inviter_role is not None and inviter_role != Role.OWNER:
        raise TenantError(_("Only an owner can invite another owner."), "role")
    if not tenant.is_active:
        raise TenantError(
            _("%(firm)s is suspended: nobody can join it now.", firm=tenant.legal_name), "email"
        )
    nonce = secrets.token_urlsafe(24)
    max_age = int(current_app.config["INVITATION_MAX_AGE"])
    with tenant_context(tenant):
        already = db.session.execute(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(func.lower(User.email) == email.lower())
        ).first()
        if already is not None:
            raise TenantError(_("%(email)s is already a member.", email=email), "email")
        _check_user_quota(tenant, except_email=email)
        now = utcnow()
        db.session.execute(
            update(Invitation)
            .where(
                func.lower(Invitation.email) == email.lower(),
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
        invitation = Invitation(
            email=email,
            role=role,
            nonce_hash=hashlib.sha256(nonce.encode()).hexdigest(),
            invited_by_id=invited_by.id if invited_by else None,
            expires_at=utcnow() + timedelta(seconds=max_age),
        )
        db.session.add(invitation)
        db.session.flush()
        token = make_token(INVITATION_SALT, {"t": tenant.id, "i": invitation.id, "n": nonce})
        link = external_link("home.accept_invitation", token=token)
        audit.record("member.invited", invitation, summary={"email": email, "role": role})
        # In the invitee's language if they have an account, else in the firm's.
        known_locale = db.session.execute(
            select(User.locale).where(func.lower(User.email) == email.lower())
        ).scalar_one_or_none()
        with force_locale(known_locale or tenant.default_locale):
            send_mail(
                email,
                _("Invitation to %(firm)s on Distretto", firm=tenant.legal_name),
                _(
                    "You are invited to join %(firm)s as %(role)s. Open this link to accept "
                    "(it works once and expires in %(days)d days):\n\n%(link)s",
                    firm=tenant.legal_name,
                    role=role_label(role),
                    days=max(1, max_age // 86400),
                    link=link,
                ),
                platform=False,
            )
    return SentInvitation(invitation, link)


@dataclass
class PendingInvitation:
    tenant: Tenant
    invitation: Invitation
    existing_user: User | None


def open_invitation(token: str) -> PendingInvitation:
    """Check a link; raises :class:`InvalidLink` if it cannot be used (any more)."""
    data = read_token(INVITATION_SALT, token, int(current_app.config["INVITATION_MAX_AGE"]))
    tenant = db.session.get(Tenant, data.get("t")) if isinstance(data.get("t"), int) else None
    if tenant is None:
        raise InvalidLink("invalid")
    if not tenant.is_active:
        raise InvalidLink("suspended")
    invitation_id = data.get("i")
    if type(invitation_id) is not int:
        raise InvalidLink("invalid")
    with tenant_context(tenant):
        invitation = db.session.get(Invitation, invitation_id)
        nonce_hash = hashlib.sha256(str(data.get("n")).encode()).hexdigest()
        if (
            invitation is None
            or not secrets.compare_digest(invitation.nonce_hash, nonce_hash)
            or invitation.accepted_at is not None
        ):
            raise InvalidLink("used")
        if invitation.expires_at <= utcnow():
            raise InvalidLink("expired")
    existing = db.session.execute(
        select(User).where(func.lower(User.email) == invitation.email.lower())
    ).scalar_one_or_none()
    return PendingInvitation(tenant, invitation, existing)


def accept_invitation(
    token: str, *, name: str = "", password: str | None = None, user: User | None = None
) -> tuple[Tenant, User]:
    """Redeem the link once: a new account (name, password) or an existing ``user``.

    An existing account accepts only as itself: ``user`` must be the invited
    address. The invitation is claimed first, with a conditional UPDATE, so two
    simultaneous submissions cannot both redeem it (nor both create the account).
    """
    pending = open_invitation(token)
    tenant, invitation = pending.tenant, pending.invitation
    if user is not None and not same_address(user.email, invitation.email):
        raise TenantError(_("This invitation is for %(email)s.", email=invitation.email), "email")
    if user is None and pending.existing_user is not None:
        raise TenantError(_("Sign in as %(email)s to accept.", email=invitation.email), "email")
    if user is None and not password:
        raise TenantError(_("Choose a password for your new account."), "password")
    with tenant_context(tenant):
        claimed = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
            .values(accepted_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:  # somebody redeemed it a moment ago
            raise InvalidLink("used")
    if user is None:
        user = create_user(invitation.email, password, name)
    with tenant_context(tenant, actor_id=user.id):
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id)
            .values(accepted_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        audit.record("member.joined", invitation, summary={"email": user.email})
        existing = db.session.execute(
            select(Membership).where(Membership.user_id == user.id)
        ).scalar_one_or_none()
    if existing is None:
        grant(tenant, user, invitation.role)
    return tenant, user


def _owner_count() -> int:
    return db.session.execute(
        select(func.count()).select_from(Membership).where(Membership.role == Role.OWNER)
    ).scalar_one()


def change_role(
    membership: Membership, role: str, *, changer_role: str | None = None
) -> Membership:
    """Give a member of the current firm another role.

    ``changer_role`` is the role of the member doing it from the firm's pages:
    only an owner may make someone an owner or change an owner's role (an
    administrator cannot raise anyone above themselves). The firm's last owner
    keeps the role, so a firm is never left without one.
    """
    check_role(role)
    previous = membership.role
    if previous == role:
        return membership
    if (
        changer_role is not None
        and changer_role != Role.OWNER
        and Role.OWNER in (role, previous)
    ):
        raise TenantError(_("Only an owner can grant or take away the owner role."), "role")
    if previous == Role.OWNER and _owner_count() <= 1:
        raise TenantError(
            _("The firm's last owner cannot be demoted: make someone else owner first."), "role"
        )
    membership.role = role
    db.session.flush()
    audit.record(
        "member.role_changed",
        membership,
        summary={"user": membership.user.email, "role": [previous, role]},
    )
    return membership


def remove_member(membership: Membership, *, remover_role: str | None = None) -> None:
    """Remove a person from the current firm; the last owner cannot be removed.

    ``remover_role`` is the role of the member doing it from the firm's pages:
    only an owner may remove an owner.
    """
    if membership.role == Role.OWNER:
        if remover_role is not None and remover_role != Role.OWNER:
            raise TenantError(_("Only an owner can remove an owner."), "role")
        if _owner_count() <= 1:
            raise TenantError(_("The firm's last owner cannot be removed."), "role")
    audit.record("member.removed", membership, summary={"user_id": membership.user_id})
    db.session.delete(membership)
    db.session.flush()
