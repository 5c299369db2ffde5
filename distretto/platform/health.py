"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from distretto.platform.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Any:
    """The process is alive: no dependencies checked, so it never flaps with the database."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Any:
    """Ready for traffic: database reachable and the schema at the migrations' head."""
    from distretto.platform.migrations import schema_status

    checks: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        checks["database"] = f"unreachable: {type(exc).__name__}"
        return jsonify(status="unavailable", checks=checks), 503
    status = schema_status()
    checks["migrations"] = status
    if status != "at head":
        return jsonify(status="unavailable", checks=checks), 503
    return jsonify(status="ok", checks=checks)
