"""Fixtures of the API tests: a firm with catalog and orders, tokens, a client without cookies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from distretto.platform.context import tenant_context
from distretto.platform.db import db

VAT_NUMBER = "03777120167"


@dataclass
class Firm:
    tenant: Any
    owner: Any
    slug: str

    @property
    def base(self) -> str:
        return f"/api/v1/{self.slug}"


@pytest.fixture
def make_firm(make_tenant: Any, make_user: Any) -> Any:
    def factory(**fields: Any) -> Firm:
        tenant = make_tenant(modules=["catalog", "orders"], **fields)
        owner = make_user(tenant, "owner")
        return Firm(tenant, owner, tenant.slug)

    return factory


@pytest.fixture
def firm(make_firm: Any) -> Firm:
    return make_firm()


@pytest.fixture
def make_token(app: Any) -> Any:
    """``make_token(firm, permissions, user=None)`` -> the secret of a new token."""
    from distretto.platform.api.tokens import create_token

    def factory(firm: Firm, permissions: list[str], user: Any = None) -> str:
        user = user or firm.owner
        with tenant_context(firm.tenant, user.id):
            _row, secret = create_token(
                "test", permissions, created_by_id=user.id, allowed=permissions
            )
            db.session.commit()
        return secret

    return factory


class Api:
    """A client that calls the API with a bearer token and JSON bodies."""

    def __init__(self, client: Any, secret: str, base: str) -> None:
        self.client = client
        self.secret = secret
        self.base = base

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(
            self.base + path, headers=self.headers(kw.pop("headers", None)), **kw
        )

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(
            self.base + path, json=json, headers=self.headers(kw.pop("headers", None)), **kw
        )

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.patch(
            self.base + path, json=json, headers=self.headers(kw.pop("headers", None)), **kw
        )


ALL_ORDERS = ["catalog.view", "catalog.edit", "orders.view", "orders.edit", "orders.confirm"]


@pytest.fixture
def api(app: Any, firm: Firm, make_token: Any) -> Api:
    """The owner's token with catalog and order permissions, on ``firm``."""
    return Api(app.test_client(), make_token(firm, ALL_ORDERS), firm.base)


def new_customer(api: Api, name: str = "Rossi S.p.A.") -> dict[str, Any]:
    response = api.post(
        "/catalog/parties",
        {"legal_name": name, "is_customer": True, "vat_number": VAT_NUMBER},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def vat_rate(api: Api, code: str = "22") -> int:
    rates = api.get("/catalog/vat-rates?per_page=100").get_json()["items"]
    return next(r["id"] for r in rates if r["code"] == code)


def order_body(api: Api, party_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "customer_reference": "PO-1",
        "lines": [
            {
                "description": "Tornitura",
                "quantity": "10",
                "unit_price": "12.50",
                "vat_rate_id": vat_rate(api),
            }
        ],
        **extra,
    }
