"""Pages of the inventory module (thin: parse, call a service, render)."""

from __future__ import annotations

from distretto.sdk import tenant_blueprint

bp = tenant_blueprint("inventory", __name__, "/inventory", template_folder="templates")
