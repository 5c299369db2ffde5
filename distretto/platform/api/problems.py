"""Errors of the API as problem details (RFC 9457, ``application/problem+json``).

Everything under ``/api/`` answers errors in this one shape; marshmallow's
messages become ``errors: {field: [message, ...]}`` so a client can show them
next to its own fields. A 500 says nothing of its cause (it is logged with the
request id, which the answer carries so support can find it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, g, json, request
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "https://distretto.invalid/problems/"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class Problem(HTTPException):
    """Raise to answer with a problem: ``raise Problem(409, "Only drafts can change.")``.

    ``errors`` holds field-level messages, ``code`` a short machine-readable reason
    (``"stale"``, ``"transition_refused"``...), ``headers`` extra response headers.
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: Any = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.problem_code = code
        self.extra_headers = dict(headers or {})
        self.extra = dict(extra or {})

    @property
    def name(self) -> str:  # type: ignore[override]
        return TITLES.get(self.code or 500, "Error")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Any = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"{TYPE_BASE}{code}" if code else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if code:
        body["code"] = code
    if errors:
        body["errors"] = _plain(errors)
    body["instance"] = request.path
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="distretto"')
    return response


def _plain(errors: Any) -> Any:
    """marshmallow messages as JSON: keys as strings (list indexes too), texts as strings."""
    if isinstance(errors, Mapping):
        return {str(k): _plain(v) for k, v in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [_plain(v) for v in errors]
    return str(errors)


def validation_problem(error: ValidationError) -> Response:
    messages = error.messages
    if isinstance(messages, (list, tuple)):
        messages = {"_schema": list(messages)}
    return problem_response(
        422,
        _("The request has invalid fields."),
        errors=messages,
        code="invalid",
    )


def from_http_exception(error: HTTPException) -> Response:
    """Any HTTP error raised under /api/ (abort, webargs, Flask-Limiter, CSRF...) as a problem."""
    status = error.code or 500
    if isinstance(error, Problem):
        return problem_response(
            status,
            error.description,
            errors=error.errors,
            code=error.problem_code,
            headers=error.extra_headers,
            extra=error.extra,
        )
    headers: dict[str, str] = {}
    errors = None
    detail = error.description
    data = getattr(error, "data", None)  # webargs' abort: {"messages": {location: {...}}}
    if isinstance(data, Mapping):
        messages = data.get("messages") or data.get("errors")
        if isinstance(messages, Mapping) and len(messages) == 1:
            messages = next(iter(messages.values()))  # drop webargs' location level
        errors = messages
        headers.update(data.get("headers") or {})
        if errors:
            detail = _("The request has invalid parameters.")
    if status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    if status == 429:
        detail = _("Too many requests for this firm: slow down and retry later.")
        retry = (error.get_headers() if hasattr(error, "get_headers") else []) or []
        for name, value in retry:
            if name.lower() == "retry-after":
                headers["Retry-After"] = value
        headers.setdefault("Retry-After", "60")
    if status >= 500:
        detail = None
    code = "csrf" if type(error).__name__ == "CSRFError" else None
    return problem_response(status, detail, errors=errors, code=code, headers=headers)


def server_error() -> Response:
    return problem_response(
        500, _("Something went wrong on our side; the request changed nothing.")
    )
