"""Tenant-addressed URLs: ``/<tenant>/...`` resolved once per request.

A view of a tenant blueprint runs only after the firm was found by its slug,
the user's membership in it checked, and the tenant context entered; anyone
else gets the same 404 whether or not the firm exists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh as refresh_language
from flask_login import current_user
from sqlalchemy import select

from distretto.platform.context import enter_request_scope, leave_request_scope
from distretto.platform.db import db, refresh_database_scope
from distretto.platform.extensions import login_manager
from distretto.tenants.models import Membership, Tenant

TENANT_ARG = "tenant"


def tenant_blueprint(name: str, import_name: str, url_prefix: str = "", **kwargs: Any) -> Blueprint:
    """A blueprint whose every URL lives under ``/<tenant>`` + ``url_prefix``."""
    return Blueprint(name, import_name, url_prefix=f"/<{TENANT_ARG}>{url_prefix}", **kwargs)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_pop_tenant_slug)
    app.url_defaults(_add_tenant_slug)
    app.before_request(_enter_scope)
    app.teardown_request(_leave_scope)


def _pop_tenant_slug(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and TENANT_ARG in values:
        g.tenant_slug = values.pop(TENANT_ARG)


def _add_tenant_slug(endpoint: str, values: dict[str, Any]) -> None:
    if TENANT_ARG in values or "tenant" not in g:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, TENANT_ARG):
        values[TENANT_ARG] = g.tenant.slug


def _enter_scope() -> Any:
    user_id = current_user.id if current_user.is_authenticated else None
    g.scope_tokens = enter_request_scope(None, user_id)
    refresh_database_scope()
    slug = g.pop("tenant_slug", None)
    if slug is None:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401, _("Sign in, or send an API token: Authorization: Bearer dst_..."))
        return login_manager.unauthorized()
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        abort(404)
    g.scope_tokens += enter_request_scope(tenant, user_id)
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user_id)
    ).scalar_one_or_none()
    grant = None
    if membership is None:
        grant = _active_support_grant(tenant)
        if grant is None:
            abort(404)
    g.tenant = tenant
    g.membership = membership
    g.support_grant = grant
    refresh_language()  # forget any language chosen before the firm was known
    if not tenant.is_active:
        if request.path.startswith("/api/"):
            abort(403, _("This firm is suspended."))
        return (
            render_template("platform/suspended.html", tenant=tenant),
            403,
        )
    return None


def _active_support_grant(tenant: Tenant) -> Any:
    """Operators reach a firm's pages only under a live grant (see tenants.support)."""
    hook = current_app.extensions.get("distretto.support_grant")
    if hook is None or not current_user.is_authenticated or not current_user.is_operator:
        return None
    return hook(tenant, current_user)


def _leave_scope(exc: BaseException | None) -> None:
    tokens = g.pop("scope_tokens", None)
    if tokens:
        leave_request_scope(tokens)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.path.startswith("/api/")
