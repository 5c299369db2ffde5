"""Structured log lines that carry the request id and the firm's slug.

Everything the platform logs goes through the ``distretto`` logger (Flask's
``app.logger`` is that same logger), whose one handler stamps each record with
the request id (``X-Request-ID``, echoed back or generated) and the slug of the
firm in scope. ``LOG_FORMAT=json`` writes one JSON object per line for a log
collector; ``text`` writes the same fields for a person reading a terminal.

Every request ends with one line on ``distretto.request`` (method, path,
status, duration): the access log, with the firm in it, which gunicorn's own
access log cannot know.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

from distretto.platform.context import current_scope

LOGGER_NAME = "distretto"
request_logger = logging.getLogger("distretto.request")

#: Record attributes a request line carries, written as JSON fields.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr")


class ContextFilter(logging.Filter):
    """Stamp every record with the request id and the firm in scope ('-' if none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (g.get("request_id") or "-") if has_request_context() else "-"
        if not hasattr(record, "tenant"):
            scope = current_scope()
            record.tenant = scope.slug if scope else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "tenant": getattr(record, "tenant", "-"),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                payload[name] = getattr(record, name)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s tenant=%(tenant)s] %(message)s"
)


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler._distretto = True  # type: ignore[attr-defined]
    return handler


def init_app(app: Flask) -> None:
    """Give the ``distretto`` logger its one handler, and log every request."""
    logger = logging.getLogger(LOGGER_NAME)
    for existing in list(logger.handlers):
        if getattr(existing, "_distretto", False) or existing is default_handler:
            logger.removeHandler(existing)
    logger.addHandler(make_handler(app.config["LOG_FORMAT"]))
    logger.setLevel(app.config["LOG_LEVEL"])
    # Records also reach the root logger, so pytest's caplog and any handler an
    # embedding application installs there still see them.
    logger.propagate = True

    app.before_request(_start_clock)
    app.after_request(_log_request)


def _start_clock() -> None:
    g.request_started = time.perf_counter()


def _log_request(response: Any) -> Any:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    fields = {
        "method": request.method,
        "path": _loggable_path(),
        "status": response.status_code,
        "duration_ms": duration_ms,
        "remote_addr": request.remote_addr,
    }
    request_logger.info(
        "%s %s %s %sms",
        fields["method"],
        fields["path"],
        fields["status"],
        duration_ms,
        extra=fields,
    )
    return response


def _loggable_path() -> str:
    """The path, with single-use link tokens (invitations, resets) blanked out."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "[token]")
    return path
