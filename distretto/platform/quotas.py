"""Per-firm quotas: how many users, how much storage, how many API requests.

Firms share one installation, so no firm may starve the others. Operators set
a firm's quotas on its ``tenants`` row (``max_users``, ``max_storage_mb``,
``api_requests_per_minute``); where a column is empty the platform default
from the configuration applies (``QUOTA_MAX_USERS``, ``QUOTA_MAX_STORAGE_MB``,
``API_RATE_LIMIT``). A limit of 0 means no limit.

* Users: members plus pending invitations, checked when someone is invited or
  added (an accepted invitation was counted when it was sent).
* Storage: the bytes of the firm's stored files (exact, read at the moment of
  the check) plus an estimate of its rows, ``rows x ROW_BYTES_ESTIMATE``, where
  the row count is the one the last ``distretto usage collect`` recorded (counting
  every table of a firm on each upload would cost more than the upload).
* API rate: read by the API layer from ``tenant.api_requests_per_minute``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from distretto.platform.db import db, utcnow

#: Bytes one row is assumed to take, indexes included, for the storage estimate.
ROW_BYTES_ESTIMATE = 512
MB = 1024 * 1024


class QuotaExceeded(ValueError):
    """A quota of the firm is reached; the message says which and what to do."""


def _config_int(key: str) -> int | None:
    if not has_app_context():
        return None
    value = current_app.config.get(key)
    try:
        number = int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def max_users(tenant: Any) -> int | None:
    """The firm's user limit, or None for no limit."""
    own = getattr(tenant, "max_users", None)
    if own is not None:
        return own if own > 0 else None
    return _config_int("QUOTA_MAX_USERS")


def max_storage_mb(tenant: Any) -> int | None:
    """The firm's storage limit in MB, or None for no limit."""
    own = getattr(tenant, "max_storage_mb", None)
    if own is not None:
        return own if own > 0 else None
    return _config_int("QUOTA_MAX_STORAGE_MB")


def default_api_rate() -> int | None:
    """Requests per minute from ``API_RATE_LIMIT`` (a number, or "120 per minute")."""
    if not has_app_context():
        return None
    value = current_app.config.get("API_RATE_LIMIT")
    if isinstance(value, str):
        value = value.strip().split(" ", 1)[0].split("/", 1)[0]
    try:
        number = int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def api_requests_per_minute(tenant: Any) -> int | None:
    own = getattr(tenant, "api_requests_per_minute", None)
    if own is not None:
        return own if own > 0 else None
    return default_api_rate()


# --- users ---------------------------------------------------------------------------


def users_in_use(*, except_email: str | None = None) -> int:
    """Members plus pending invitations of the current firm.

    ``except_email``: a pending invitation to that address is not counted (a new
    invitation to the same address replaces it).
    """
    from distretto.tenants.models import Invitation, Membership

    members = db.session.execute(select(func.count()).select_from(Membership)).scalar_one()
    pending = (
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
    )
    if except_email:
        pending = pending.where(func.lower(Invitation.email) != except_email.lower())
    return int(members) + int(db.session.execute(pending).scalar_one())


def check_users(tenant: Any, *, except_email: str | None = None) -> None:
    """Refuse one more user for the current firm when its quota is reached."""
    limit = max_users(tenant)
    if limit is None:
        return
    if users_in_use(except_email=except_email) >= limit:
        raise QuotaExceeded(
            ngettext(
                "%(firm)s has reached its quota of %(num)d user (members and pending "
                "invitations). Remove a member, or ask the district's operators for a "
                "higher quota.",
                "%(firm)s has reached its quota of %(num)d users (members and pending "
                "invitations). Remove a member, or ask the district's operators for a "
                "higher quota.",
                limit,
                firm=tenant.legal_name,
            )
        )


# --- storage -------------------------------------------------------------------------


def rows_estimate(tenant_id: int) -> int:
    """Rows of the firm as the last collection counted them (0 if never collected)."""
    from distretto.platform.usage import TenantStats

    rows = db.session.execute(
        select(TenantStats.rows_estimate).where(TenantStats.firm_id == tenant_id)
    ).scalar_one_or_none()
    return int(rows or 0)


def storage_used(tenant_id: int, *, excluding_purpose: str | None = None) -> int:
    """Bytes the current firm uses: its files (exact) plus its rows (estimated)."""
    from distretto.platform.files import StoredFile

    query = select(func.coalesce(func.sum(StoredFile.size), 0))
    if excluding_purpose is not None:
        query = query.where(StoredFile.purpose != excluding_purpose)
    files = int(db.session.execute(query).scalar_one())
    return files + rows_estimate(tenant_id) * ROW_BYTES_ESTIMATE


def check_storage(adding: int, *, replacing_purpose: str | None = None) -> None:
    """Refuse ``adding`` more bytes for the current firm when they exceed its quota."""
    from distretto.platform.context import current_scope

    scope = current_scope()
    if scope is None:
        return
    from distretto.tenants.models import Tenant

    tenant = db.session.get(Tenant, scope.id)
    limit_mb = max_storage_mb(tenant)
    if limit_mb is None:
        return
    used = storage_used(scope.id, excluding_purpose=replacing_purpose)
    if used + adding > limit_mb * MB:
        raise QuotaExceeded(
            _(
                "%(firm)s has used its storage quota (%(used)s of %(limit)d MB): this file "
                "(%(size)s) does not fit. Delete files the firm no longer needs, or ask the "
                "district's operators for a higher quota.",
                firm=tenant.legal_name,
                used=_megabytes(used),
                limit=limit_mb,
                size=_megabytes(adding),
            )
        )


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def init_app(app: Any) -> None:
    """A quota reached anywhere is a clear refusal (413), never a 500."""
    from werkzeug.exceptions import RequestEntityTooLarge

    @app.errorhandler(QuotaExceeded)
    def quota_exceeded(error: QuotaExceeded) -> Any:
        db.session.rollback()
        flash(str(error), "error")
        return app.handle_user_exception(RequestEntityTooLarge(description=str(error)))
