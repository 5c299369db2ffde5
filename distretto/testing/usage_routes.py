"""Route-sweep declarations for quotas, usage, /metrics and district templates.

None of these routes is under ``/<tenant>/``: the operator pages read the firm
registry and the global usage tables (figures, never a firm's rows) and are
refused to anyone but a platform operator (tests/test_quotas.py,
tests/test_usage_metrics.py, tests/test_operator_templates.py check that).
"""

from __future__ import annotations

from distretto.testing.routes import tenant_free

tenant_free(
    "operator.firm_usage",
    "operator console: one firm's usage figures (documents per month, users, storage), no data",
)
tenant_free("operator.firm_quotas", "operator console: a firm's quotas, set by operators")
tenant_free("operator.overview", "operator console: platform-wide aggregates, no firm's data")
tenant_free("operator.templates", "operator console: district templates, shared by all firms")
tenant_free("operator.publish_template", "operator console: publishing a district template")
tenant_free(
    "operator.template_firms",
    "operator console: which firms adopted a template version (registry, no business data)",
)
tenant_free(
    "metrics.metrics",
    "Prometheus endpoint behind its own bearer token: platform-wide aggregates, no firm labels",
)
