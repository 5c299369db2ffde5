"""Pages of invoicing (thin: parse, call a service, render)."""

from __future__ import annotations

from distretto.sdk import tenant_blueprint

bp = tenant_blueprint("invoicing", __name__, "/invoicing", template_folder="templates")
