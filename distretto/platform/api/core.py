"""The API's request handling: blueprints, authentication, CSRF, rate limits, idempotency.

Module API blueprints are made with :func:`api_blueprint` and declared on the
module's ``Module(api_blueprint=...)``; the registry mounts them at
``/api/v1/<tenant>/<module>``. Before any of their views runs, the kernel has
resolved the firm and the caller exactly as for a page (``web._enter_scope``:
membership or support grant, suspension); then the hooks here

* require the CSRF token on writes made with a browser session (token requests
  are exempt: a bearer token is not sent by the browser on its own);
* note the token's use (at most once a minute);
* count the request against the firm's rate limit (429 with Retry-After);
* refuse a body that is not JSON (415);
* replay the stored answer of a POST repeated with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint as SmorestBlueprint
from limits import parse
from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from distretto.platform.api.models import IdempotencyKey
from distretto.platform.api.problems import Problem, problem_response, validation_problem
from distretto.platform.db import db, utcnow
from distretto.platform.extensions import csrf, limiter

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENCY_TTL = timedelta(hours=24)
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
EXTENSION = "distretto.api"


class ApiBlueprint(SmorestBlueprint):
    """A flask-smorest blueprint whose errors are problem details.

    Use :meth:`response` and :meth:`arguments` (query strings) of flask-smorest to
    document and parse; document JSON bodies with :meth:`body` and read them with
    :func:`distretto.platform.api.json_body`, then hand them to the module's
    service, which validates them with the module's marshmallow schemas.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register_error_handler(ValidationError, validation_problem)
        from distretto.platform.workflow import TransitionRefused

        self.register_error_handler(TransitionRefused, _transition_refused)
        # a value the database cannot hold (a 30-digit id, a NUL in a text) is bad input
        self.register_error_handler(OverflowError, _unstorable)
        self.register_error_handler(DataError, _unstorable)
        self.register_error_handler(StatementError, _statement_error)

    def body(self, schema: Any, *, description: str | None = None, example: Any = None) -> Any:
        """Document the JSON request body (the view reads it with ``json_body()``)."""
        parameters: dict[str, Any] = {"in": "json", "required": True, "schema": schema}
        if description:
            parameters["description"] = description
        if example is not None:
            parameters["example"] = example

        def decorator(func: Any) -> Any:
            from copy import deepcopy

            func._apidoc = deepcopy(getattr(func, "_apidoc", {}))
            docs = func._apidoc.setdefault("arguments", {})
            docs.setdefault("parameters", []).append(parameters)
            docs.setdefault("responses", {})[422] = "UNPROCESSABLE_ENTITY"
            return func

        return decorator


def api_blueprint(module: str, import_name: str, description: str = "") -> ApiBlueprint:
    """The API blueprint of ``module``: named ``<module>_api``, at ``/api/v1/<tenant>/<module>``."""
    return ApiBlueprint(
        f"{module}_api",
        import_name,
        url_prefix=f"{API_PREFIX}/<tenant>/{module}",
        description=description,
    )


def _unstorable(error: Exception) -> Response:
    db.session.rollback()
    return problem_response(
        422, "A value is out of range or cannot be stored.", code="out_of_range"
    )


def _statement_error(error: StatementError) -> Response:
    if isinstance(error.orig, (OverflowError, ValueError)) or isinstance(error, DataError):
        return _unstorable(error)
    raise error


def _transition_refused(error: Any) -> Response:
    return problem_response(
        409,
        str(error),
        code="transition_refused",
        extra={"reason": getattr(error, "code", "refused")},
    )


def api_blueprints(app: Flask) -> list[ApiBlueprint]:
    return list(app.extensions[EXTENSION]["blueprints"])


def is_api_resource() -> bool:
    """Whether the request is for a module's API resource (not a docs page)."""
    state = current_app.extensions.get(EXTENSION)
    return bool(state) and request.blueprint in state["blueprint_names"]


def init_app(app: Flask) -> None:
    """Hook the API in; call after the module registry mounted the modules' blueprints."""
    from distretto.platform.api import docs
    from distretto.platform.api.tokens import load_user_from_token
    from distretto.platform.extensions import login_manager
    from distretto.platform.modules import registry

    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    blueprints = [m.api_blueprint for m in registry.modules.values() if m.api_blueprint is not None]
    app.extensions[EXTENSION] = {
        "blueprints": blueprints,
        "blueprint_names": {bp.name for bp in blueprints},
        "spec_cache": {},
    }
    for blueprint in blueprints:
        csrf.exempt(blueprint)  # checked in _before_api_request, for browser sessions only
    login_manager.request_loader(load_user_from_token)
    app.register_blueprint(docs.bp)
    app.before_request(_before_api_request)
    app.after_request(_after_api_request)


# --- per request -----------------------------------------------------------------------


MAX_ID = 2**63 - 1


def _before_api_request() -> Response | None:
    if not is_api_resource() or g.get("tenant") is None:
        return None
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise Problem(404, _("No such resource."))
    identity = g.get("api_token")
    if identity is not None:
        from distretto.platform.api.tokens import touch

        touch(identity)
    elif request.method not in SAFE_METHODS:
        csrf.protect()  # a browser session: same-origin calls send X-CSRFToken
    _count_request()
    if request.method in {"POST", "PUT", "PATCH"} and _has_body() and not request.is_json:
        raise Problem(415, _("Send the body as JSON (Content-Type: application/json)."))
    return _replay_idempotent()


def _has_body() -> bool:
    return bool(request.content_length) or bool(request.get_data(cache=True))


def _count_request() -> None:
    """Count the request against its firm's limit: the firm's own, else API_RATE_LIMIT.

    A firm's ``api_requests_per_minute`` of 0 (or an empty API_RATE_LIMIT) means no limit.
    """
    if not limiter.enabled:
        return
    tenant = g.tenant
    per_minute = getattr(tenant, "api_requests_per_minute", None)
    if per_minute is not None:
        if int(per_minute) <= 0:
            return
        text = f"{int(per_minute)} per minute"
    else:
        text = str(current_app.config.get("API_RATE_LIMIT") or "").strip()
        if not text or text == "0":
            return
    item = parse(text)
    key = f"api-firm-{tenant.id}"
    strategy = limiter.limiter
    allowed = strategy.hit(item, key)
    stats = strategy.get_window_stats(item, key)
    reset = max(1, int(stats.reset_time - time.time()) + 1)
    g.api_rate = (item.amount, max(0, stats.remaining), reset)
    if not allowed:
        raise Problem(
            429,
            _("Too many requests for this firm: slow down and retry later."),
            code="rate_limited",
            headers={
                "Retry-After": str(reset),
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
            },
        )


def _actor_key() -> str:
    identity = g.get("api_token")
    if identity is not None:
        return f"token:{identity.id}"
    return f"user:{current_user.get_id().split(':', 1)[0]}"


def _replay_idempotent() -> Response | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method != "POST":
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise Problem(400, _("The Idempotency-Key must be 1 to 200 printable characters."))
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.full_path.encode())
    digest.update(b"\0" + request.get_data(cache=True))
    fingerprint = digest.hexdigest()
    actor = _actor_key()
    row = db.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.actor == actor, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    if row is not None and row.expires_at <= utcnow():
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        row = None
    if row is None:
        g.idempotency = (key, actor, fingerprint)
        return None
    if row.fingerprint != fingerprint:
        raise Problem(
            422,
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    response = Response(row.body, status=row.status_code)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _after_api_request(response: Response) -> Response:
    rate = g.pop("api_rate", None)
    if rate is not None:
        limit, remaining, reset = rate
        response.headers.setdefault("RateLimit-Limit", str(limit))
        response.headers.setdefault("RateLimit-Remaining", str(remaining))
        response.headers.setdefault("RateLimit-Reset", str(reset))
    pending = g.pop("idempotency", None)
    if pending is None or not 200 <= response.status_code < 300:
        return response
    key, actor, fingerprint = pending
    row = IdempotencyKey(
        key=key,
        actor=actor,
        method=request.method,
        path=request.path[:500],
        fingerprint=fingerprint,
        status_code=response.status_code,
        headers={k: response.headers[k] for k in REPLAYED_HEADERS if k in response.headers},
        body=response.get_data(as_text=True),
        expires_at=utcnow() + IDEMPOTENCY_TTL,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return problem_response(
            409,
            _("Another request with this Idempotency-Key is being processed; retry it."),
            code="idempotency_key_in_use",
        )
    return response
