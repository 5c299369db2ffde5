"""Structured log lines that carry the request id and the firm's slug."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from flask import Flask, g, has_request_context

from distretto.platform.context import current_scope


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        scope = current_scope()
        record.tenant = scope.slug if scope else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "tenant": getattr(record, "tenant", "-"),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s tenant=%(tenant)s] %(message)s"
)


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logger = logging.getLogger("distretto")
    for existing in list(logger.handlers):
        if getattr(existing, "_distretto", False):
            logger.removeHandler(existing)
    handler._distretto = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = True
    app.logger.handlers.clear()
    app.logger.propagate = True
