"""The application factory."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from distretto import __version__
from distretto.platform import logging as platform_logging
from distretto.platform import web
from distretto.platform.config import load_config
from distretto.platform.db import write_intent
from distretto.platform.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Nothing here touches the database or the network.

    ``config`` overrides every other source; tests pass their database URL here.
    """
    app = Flask("distretto", instance_relative_config=True)
    app.import_name = "distretto.platform.app"
    import distretto.platform as platform_pkg

    app.root_path = platform_pkg.__path__[0]
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = str(config["INSTANCE_PATH"])
    load_config(app, config)
    platform_logging.init_app(app)

    db.init_app(app)
    from distretto.platform import migrations as migration_support

    # Alembic's own commands stay reachable as `distretto alembic ...`; `distretto db`
    # is ours (it also grants the app role its rights after upgrading).
    migrate.init_app(app, db, directory=migration_support.directory(), command="alembic")
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Europe/Rome")
    app.jinja_env.globals["get_locale"] = get_locale
    limiter.init_app(app)

    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a reverse proxy: the client's address (login throttling, logs)
        # and scheme come from the X-Forwarded-* headers the proxy sets.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    _import_models()
    web.init_app(app)
    _register_request_hooks(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_globals(app)

    from distretto.platform.modules import registry

    registry.init_app(app)
    from distretto.platform import api

    api.init_app(app)  # after the registry: it documents the modules' API blueprints

    from distretto.platform.cli import register_cli

    register_cli(app)
    from distretto.tenants.district_templates import register_cli as register_template_cli

    register_template_cli(app)
    from distretto.platform import usage

    usage.init_app(app)  # quota refusals, `distretto usage`, /metrics
    return app


def _import_models() -> None:
    """Import the kernel's models so the metadata is complete for migrations."""
    import distretto.platform.api.models
    import distretto.platform.audit
    import distretto.platform.auth.models
    import distretto.platform.customfields
    import distretto.platform.files
    import distretto.platform.imports
    import distretto.platform.listviews
    import distretto.platform.mail
    import distretto.platform.numbering
    import distretto.platform.outbox
    import distretto.platform.usage
    import distretto.platform.webhooks
    import distretto.platform.workflow.engine
    import distretto.tenants.district_templates
    import distretto.tenants.models
    import distretto.tenants.support  # noqa: F401


def _select_locale() -> str:
    from flask import current_app

    supported = current_app.config["SUPPORTED_LOCALES"]
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    tenant = g.get("tenant")
    if tenant is not None and tenant.default_locale in supported:
        return tenant.default_locale
    if current_user and current_user.is_authenticated:
        # Outside a firm (the firm chooser, the account page): the language the
        # person's firms share, when they share one.
        from distretto.platform.auth.services import firms_locale

        shared = firms_locale(current_user)
        if shared in supported:
            return shared
    return request.accept_languages.best_match(supported) or current_app.config["DEFAULT_LOCALE"]


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        write_intent.set(request.method in {"POST", "PUT", "PATCH", "DELETE"})
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() else (uuid.uuid4().hex)
        )

    # run the request-id hook before the tenant resolution registered by web.init_app
    funcs = app.before_request_funcs[None]
    funcs.insert(0, funcs.pop())

    @app.after_request
    def add_headers(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.teardown_request
    def forget_write_intent(exc: BaseException | None) -> None:
        write_intent.set(False)

    @app.after_request
    def commit_or_rollback(response: Any) -> Any:
        # The request boundary is the only place that commits; services flush.
        # Committing before the response leaves means a failed commit is never
        # reported to the user as a success.
        if response.status_code < 400 and not g.get("rollback_only"):
            db.session.commit()
        else:
            db.session.rollback()
        return response


def _register_blueprints(app: Flask) -> None:
    from distretto.platform.auth.account import bp as account_bp
    from distretto.platform.auth.views import bp as auth_bp
    from distretto.platform.health import bp as health_bp
    from distretto.tenants.operator import bp as operator_bp
    from distretto.tenants.settings import bp as settings_bp
    from distretto.tenants.views import bp as tenant_bp
    from distretto.tenants.views import home_bp

    blueprints = (health_bp, auth_bp, account_bp, home_bp, operator_bp, tenant_bp, settings_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    from distretto.platform.imports_views import bp as imports_bp
    from distretto.platform.lists_views import bp as lists_bp

    app.register_blueprint(lists_bp)
    app.register_blueprint(imports_bp)
    from distretto.platform.webhooks_views import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    from distretto.tenants import firm_settings, support

    app.register_blueprint(firm_settings.bp)
    from distretto.tenants import api_tokens

    app.register_blueprint(api_tokens.bp)
    support.init_app(app)  # support grants: the kernel's hook, page trail, banners
    from distretto.tenants import lifecycle_views

    app.register_blueprint(lifecycle_views.bp)
    app.register_blueprint(lifecycle_views.operator_bp)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        db.session.rollback()
        if request.path.startswith("/api/"):
            from distretto.platform.api.problems import from_http_exception

            return from_http_exception(error)  # RFC 9457 problem details
        if web.wants_json():
            body = {
                "type": "about:blank",
                "title": error.name,
                "status": error.code,
                "detail": error.description,
            }
            response = jsonify(body)
            response.status_code = error.code or 500
            response.content_type = "application/problem+json"
            return response
        template = "platform/error.html"
        return render_template(template, error=error), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error")
        if request.path.startswith("/api/"):
            from distretto.platform.api.problems import server_error

            return server_error()
        if web.wants_json():
            response = jsonify(
                {"type": "about:blank", "title": "Internal Server Error", "status": 500}
            )
            response.status_code = 500
            response.content_type = "application/problem+json"
            return response
        return render_template("platform/error.html", error=None), 500


def _register_template_globals(app: Flask) -> None:
    from distretto.platform import permissions
    from distretto.platform.context import current_tenant
    from distretto.platform.formatting import register_filters

    register_filters(app)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "current_tenant": current_tenant if g.get("tenant") is not None else None,
            "can": permissions.can,
            "menu_entries": _menu_entries,
            "workflow_svg": _workflow_svg,
            "state_label": _state_label,
            "distretto_version": __version__,
        }


def _state_label(document: Any) -> str:
    """A document's state in the reader's language, from the version it follows."""
    from flask_babel import get_locale

    from distretto.platform.workflow.engine import state_label

    return state_label(document, str(get_locale() or "it"))


def _workflow_svg(definition: Any, current_state: str | None = None) -> Any:
    """The workflow diagram, inline, with the document's state highlighted."""
    from flask_babel import get_locale
    from markupsafe import Markup

    from distretto.platform.workflow.diagram import render_svg

    svg = render_svg(definition, locale=str(get_locale() or "it"), current_state=current_state)
    return Markup(svg)  # noqa: S704 - render_svg escapes every label it writes


def _menu_entries() -> list[Any]:
    from distretto.platform.modules import enabled_modules
    from distretto.platform.permissions import can

    entries = [
        entry
        for module in enabled_modules()
        for entry in module.menu
        if entry.permission is None or can(entry.permission)
    ]
    return sorted(entries, key=lambda e: e.order)
