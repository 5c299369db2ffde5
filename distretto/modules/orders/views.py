"""Pages of the orders module (thin: parse, call a service, render)."""

from __future__ import annotations

from distretto.sdk import tenant_blueprint

bp = tenant_blueprint("orders", __name__, "/orders", template_folder="templates")
