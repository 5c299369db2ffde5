"""A firm running catalog, orders, inventory and invoicing, driven through the API.

Shared by the inventory, invoicing and schemathesis API tests: the firm, a token
holding every permission, and builders that go through HTTP as a client would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.api.conftest import VAT_NUMBER, Api, Firm, vat_rate

MODULES = ["catalog", "orders", "inventory", "invoicing"]
FISCAL = {
    "street": "Via Roma 1",
    "postcode": "24020",
    "city": "Gorle",
    "province": "BG",
    "regime": "RF01",
    "iban": "IT60X0542811101000000123456",
}


def all_permissions() -> list[str]:
    from distretto.platform.modules import registry

    return sorted(
        {p for name in MODULES for p in registry.modules[name].permissions}  # type: ignore[attr-defined]
    )


@dataclass
class Erp:
    firm: Firm
    api: Api


def make_erp(app: Any, make_tenant: Any, make_user: Any, make_token: Any, **fields: Any) -> Erp:
    tenant = make_tenant(modules=MODULES, **fields)
    owner = make_user(tenant, "owner")
    firm = Firm(tenant, owner, tenant.slug)
    return Erp(firm, Api(app.test_client(), make_token(firm, all_permissions()), firm.base))


@pytest.fixture(name="erp")
def erp_fixture(app: Any, make_tenant: Any, make_user: Any, make_token: Any) -> Erp:
    return make_erp(app, make_tenant, make_user, make_token)


@pytest.fixture(name="make_erp_firm")
def make_erp_firm_fixture(app: Any, make_tenant: Any, make_user: Any, make_token: Any) -> Any:
    return lambda **fields: make_erp(app, make_tenant, make_user, make_token, **fields)


def fiscal_data(erp: Erp) -> None:
    """The firm's address and IBAN, which issuing an e-invoice needs (a settings page)."""
    from distretto.modules.invoicing import services

    with tenant_context(erp.firm.tenant, erp.firm.owner.id):
        services.update_fiscal_settings(dict(FISCAL))
        db.session.commit()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def customer(api: Api, name: str = "Rossi S.p.A.", **extra: Any) -> dict[str, Any]:
    """A customer with what an e-invoice needs (address, SDI code)."""
    body = {
        "legal_name": name,
        "is_customer": True,
        "vat_number": VAT_NUMBER,
        "street": "Via dei Mille 3",
        "postcode": "24100",
        "city": "Bergamo",
        "province": "BG",
        "sdi_code": "ABC1234",
        **extra,
    }
    return ok(api.post("/catalog/parties", body), 201)


def supplier(api: Api, name: str = "Acciai Srl") -> dict[str, Any]:
    body = {"legal_name": name, "is_supplier": True, "vat_number": "04521870164"}
    return ok(api.post("/catalog/parties", body), 201)


def product(api: Api, code: str = "FL-10", **extra: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "description": f"Flangia {code}",
        "sale_price": "12.50",
        "purchase_cost": "4",
        "vat_rate_id": vat_rate(api),
        **extra,
    }
    return ok(api.post("/catalog/products", body), 201)


def receive(api: Api, product_id: int, quantity: str = "20") -> dict[str, Any]:
    body = {"lines": [{"product_id": product_id, "quantity": quantity, "unit_cost": "3.5"}]}
    return ok(api.post("/inventory/receipts", body), 201)


def confirmed_order(api: Api, party_id: int, product_id: int, quantity: str = "5") -> Any:
    order = ok(
        api.post(
            "/orders/sales",
            {"party_id": party_id, "lines": [{"product_id": product_id, "quantity": quantity}]},
        ),
        201,
    )
    return ok(api.post(f"/orders/sales/{order['id']}/transitions/confirm", {}))


def shipped_order(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(customer, order, shipment): stock received, an order confirmed and shipped with a DDT."""
    party = customer(api)
    item = product(api)
    receive(api, item["id"])
    order = confirmed_order(api, party["id"], item["id"])
    shipment = ok(
        api.post(
            "/inventory/shipments",
            {
                "source": {"document_type": "sales_order", "document_id": order["id"]},
                "packages": 2,
                "ship": True,
            },
        ),
        201,
    )
    return party, order, shipment


def draft_invoice(api: Api, party_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "party_id": party_id,
        "lines": [
            {
                "description": "Tornitura",
                "quantity": "2",
                "unit_price": "50",
                "vat_rate_id": vat_rate(api),
            }
        ],
        **extra,
    }
    return ok(api.post("/invoicing/invoices", body), 201)
