"""Per-firm rate limits: 429 problem with Retry-After; one firm's burst does not stop another."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api


@pytest.fixture
def app_config(distretto_database: Any) -> dict[str, Any]:
    return {**distretto_database.config(), "API_RATE_LIMIT": "3 per minute"}


def test_the_firm_over_its_limit_gets_429_with_retry_after(
    app: Any, firm: Any, make_firm: Any, make_token: Any
) -> None:
    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    for _ in range(3):
        response = api.get("/orders/sales")
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
    refused = api.get("/orders/sales")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert refused.get_json()["code"] == "rate_limited"
    # the limit is the firm's, whoever calls: a second token of the same firm is refused too
    other_token = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    assert other_token.get("/orders/sales").status_code == 429
    # another firm is not affected
    other = make_firm()
    assert (
        Api(app.test_client(), make_token(other, ["orders.view"]), other.base)
        .get("/orders/sales")
        .status_code
        == 200
    )


def test_a_firm_with_its_own_limit(app: Any, make_firm: Any, make_token: Any) -> None:
    from distretto.tenants.models import Tenant

    if not hasattr(Tenant, "api_requests_per_minute"):
        pytest.skip("firms have no api_requests_per_minute column yet (quotas)")
    from distretto.platform.db import db

    firm = make_firm()
    tenant = db.session.get(Tenant, firm.tenant.id)
    tenant.api_requests_per_minute = 5
    db.session.commit()
    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    statuses = [api.get("/orders/sales").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
