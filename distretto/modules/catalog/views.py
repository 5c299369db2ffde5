"""Pages of the catalog module (thin: parse, call a service, render)."""

from __future__ import annotations

from distretto.sdk import tenant_blueprint

bp = tenant_blueprint("catalog", __name__, "/catalog", template_folder="templates")
