"""Every route of conto lavoro, swept across two firms by the platform's route sweep."""

from __future__ import annotations

import pytest
from distretto.testing.routes import registry

import distretto_conto_lavoro.route_cases  # noqa: F401 - registers the cases

MODULE_BLUEPRINTS = {"conto_lavoro", "conto_lavoro_api"}
CASES = [case for case in registry.cases() if case.endpoint.split(".")[0] in MODULE_BLUEPRINTS]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_firm_a_gets_404_on_firm_b_ids_and_succeeds_on_its_own(case, route_sweep):
    route_sweep(case)


def test_every_route_of_the_module_has_a_case(app):
    ours = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in MODULE_BLUEPRINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert ours == {case.key for case in CASES}
