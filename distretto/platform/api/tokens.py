"""Per-firm API tokens: made by firm administrators, shown once, stored as SHA-256.

A request carrying ``Authorization: Bearer dst_...`` on ``/api/v1/<tenant>/...``
is signed in as the token's creator through Flask-Login's request loader, so the
kernel's own scope logic (:func:`distretto.platform.web._enter_scope`) then
checks membership, support grants and suspension exactly as for a browser.
The token narrows what the member may do to the permissions chosen for it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import abort, g, request
from flask_babel import gettext as _
from sqlalchemy import select, update

from distretto.platform import audit
from distretto.platform.api.models import ApiToken
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.permissions import all_permissions, role_has

TOKEN_PREFIX = "dst_"  # noqa: S105 - the public prefix, not a secret
SHOWN_PREFIX_LENGTH = 12  # "dst_" and 8 characters of the secret: enough to tell tokens apart
#: last_used_at is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TokenIdentity:
    """What a request signed in by token knows of its token (plain values, no ORM row)."""

    id: int
    tenant_id: int
    name: str
    permissions: frozenset[str]
    created_by_id: int
    last_used_at: datetime | None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def grantable_permissions(role: str | None, enabled_modules: list[str]) -> list[str]:
    """Permissions a member of ``role`` may put on a token: their own, of enabled modules."""
    names = []
    for name in sorted(all_permissions()):
        area = name.split(".", 1)[0]
        if area != "firm" and area not in enabled_modules:
            continue
        if name.startswith("firm.") and name != "firm.view":
            continue  # settings, members and audit stay in the browser
        if role_has(role, name):
            names.append(name)
    return names


def create_token(
    name: str,
    permissions: list[str],
    *,
    created_by_id: int,
    allowed: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for the current firm; returns the row and the secret (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError("name", "name")
    chosen = sorted(set(permissions))
    if not chosen:
        raise TokenError("permissions", "permissions")
    if set(chosen) - set(allowed):
        raise TokenError("permissions", "permissions")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        permissions=chosen,
        created_by_id=created_by_id,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.created",
        token,
        summary={"name": name, "prefix": token.prefix, "permissions": chosen},
    )
    return token, secret


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record("api_token.revoked", token, summary={"name": token.name, "prefix": token.prefix})


def tokens() -> list[ApiToken]:
    return list(
        db.session.execute(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        ).scalars()
    )


# --- signing a request in by its token ------------------------------------------------


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def load_user_from_token(req: Any) -> Any:
    """Flask-Login request loader: the creator of a valid token of the addressed firm.

    Only for ``/api/v1/<tenant>/...``. A token the addressed firm does not know
    (another firm's, or made up) gets the same 404 as a firm one is not a member
    of; a token the firm knows but that was revoked or has expired gets 401.
    """
    from distretto.platform.auth.models import User
    from distretto.tenants.models import Tenant

    if not req.path.startswith("/api/"):
        return None
    secret = bearer_secret()
    slug = g.get("tenant_slug")
    if secret is None or slug is None:
        return None
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        abort(404)
    with tenant_context(tenant):
        row = db.session.execute(
            select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret))
        ).scalar_one_or_none()
        if row is None:
            abort(404)
        if not row.is_usable():
            abort(401, _("This API token was revoked or has expired."))
        identity = TokenIdentity(
            id=row.id,
            tenant_id=tenant.id,
            name=row.name,
            permissions=frozenset(row.permissions or ()),
            created_by_id=row.created_by_id,
            last_used_at=row.last_used_at,
        )
    user = db.session.get(User, identity.created_by_id)
    if user is None or not user.is_active:
        abort(401, _("The member who made this API token can no longer sign in."))
    g.api_token = identity
    g.api_permissions = identity.permissions
    return user


def touch(identity: TokenIdentity) -> None:
    """Note the token's use, at most once a minute (a cheap conditional UPDATE)."""
    now = utcnow()
    if identity.last_used_at is not None and now - identity.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == identity.id)
        .where(
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - LAST_USED_RESOLUTION)
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
