"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from distretto.platform.extensions import db, limiter

bp = Blueprint("health", __name__)
logger = logging.getLogger("distretto.health")


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Any:
    """The process is alive: no dependencies checked, so it never flaps with the database."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Any:
    """Ready for traffic: database reachable and the schema at the migrations' head.

    Always JSON, 200 or 503, so the load balancer keeps a node out of rotation
    while it cannot serve, without the app raising an error page.
    """
    from distretto.platform.migrations import schema_status

    checks: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        logger.warning("readiness: database unreachable: %s", exc)
        checks["database"] = f"unreachable: {type(exc).__name__}"
        return _unavailable(checks)
    try:
        status = schema_status()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        logger.warning("readiness: cannot read the schema version: %s", exc)
        checks["migrations"] = f"unknown: {type(exc).__name__}"
        return _unavailable(checks)
    checks["migrations"] = status
    if status != "at head":
        return _unavailable(checks)
    return jsonify(status="ok", checks=checks)


def _unavailable(checks: dict[str, Any]) -> Any:
    response = jsonify(status="unavailable", checks=checks)
    response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    response.headers["Retry-After"] = "5"
    return response
