"""``/metrics``: platform figures in Prometheus text format, for the district's monitoring.

Off by default: without ``METRICS_TOKEN`` the endpoint answers 404. With it,
a scraper must send ``Authorization: Bearer <token>`` (401 otherwise). The
figures are platform-wide aggregates read from the global usage tables
(:mod:`distretto.platform.usage`), never per-firm labels: a label per firm
would multiply series by thousands and name firms to whoever reads the
monitoring.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from distretto import __version__

bp = Blueprint("metrics", __name__)


class UsageCollector:
    """Reads the usage tables at each scrape: a fixed handful of aggregate queries."""

    def collect(self) -> Iterator[Any]:
        from distretto.platform import usage
        from distretto.tenants.models import TenantStatus

        figures = usage.overview()
        info = InfoMetricFamily("distretto_build", "Distretto version running")
        info.add_metric([], {"version": __version__})
        yield info

        firms = GaugeMetricFamily("distretto_firms", "Firms by status", labels=["status"])
        for status in sorted(set(TenantStatus.ALL) | set(figures.firms_by_status)):
            firms.add_metric([status], figures.firms_by_status.get(status, 0))
        yield firms

        yield GaugeMetricFamily(
            "distretto_users", "User accounts (operators excluded)", value=figures.users
        )
        yield GaugeMetricFamily(
            "distretto_users_active_30d",
            "User accounts that signed in during the last 30 days",
            value=figures.active_users,
        )

        created = CounterMetricFamily(
            "distretto_documents_created",
            "Documents created, all firms, by document type",
            labels=["document_type"],
        )
        for document_type, count in sorted(usage.documents_by_type_total().items()):
            created.add_metric([document_type], count)
        yield created

        this_month = GaugeMetricFamily(
            "distretto_documents_this_month",
            "Documents created in the current month (UTC), all firms, by document type",
            labels=["document_type"],
        )
        for document_type, count in sorted(figures.documents_by_type.items()):
            this_month.add_metric([document_type], count)
        yield this_month

        yield GaugeMetricFamily(
            "distretto_storage_files_bytes",
            "Bytes of files stored by all firms",
            value=figures.storage_bytes,
        )
        outbox = GaugeMetricFamily(
            "distretto_outbox_messages",
            "Outbox messages waiting for delivery (pending) or given up (failed)",
            labels=["state"],
        )
        outbox.add_metric(["pending"], figures.outbox_pending)
        outbox.add_metric(["failed"], figures.outbox_failed)
        yield outbox


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), str(token).encode())


@bp.get("/metrics")
def metrics() -> Any:
    if not _authorised():
        return Response(
            "401 Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UsageCollector())
    body = generate_latest(registry)
    return Response(body, status=200, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
