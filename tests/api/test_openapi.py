"""The OpenAPI documents: generated, valid, and the firm's own lists its custom fields."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.api.conftest import Api


def test_the_platform_document_validates_and_covers_the_modules(app: Any) -> None:
    client = app.test_client()
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    paths = document["paths"]
    assert "/api/v1/{tenant}/orders/sales/{order_id}/transitions/{name}" in paths
    assert "/api/v1/{tenant}/catalog/parties" in paths
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page
    for cdn in ("//cdn", "unpkg", "jsdelivr"):
        assert cdn not in page
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()


def test_the_firm_document_has_its_custom_fields_and_only_its_modules(
    app: Any, firm: Any, make_firm: Any, make_token: Any
) -> None:
    from distretto.platform import customfields

    with tenant_context(firm.tenant, firm.owner.id):
        customfields.define(
            "sales_order",
            {"name": "commessa", "label": "Commessa", "type": "text", "required": True},
        )
        customfields.define(
            "sales_order",
            {
                "name": "priorita",
                "label": "Priorità",
                "type": "choice",
                "choices": ["alta", "bassa"],
            },
        )
        db.session.commit()
    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    custom = document["components"]["schemas"]["SalesOrderIn"]["properties"]["custom"]
    assert custom["properties"]["commessa"]["type"] == "string"
    assert custom["properties"]["priorita"]["enum"] == ["alta", "bassa"]
    assert custom["additionalProperties"] is False
    purchase = document["components"]["schemas"]["PurchaseOrderIn"]["properties"]["custom"]
    assert purchase["properties"] == {}
    tenant_param = next(
        p
        for p in document["paths"]["/api/v1/{tenant}/orders/sales"]["parameters"]
        if p["name"] == "tenant"
    )
    assert tenant_param["schema"]["enum"] == [firm.slug]
    # another firm's document knows nothing of these fields
    other = make_firm()
    other_doc = Api(app.test_client(), make_token(other, ["orders.view"]), other.base)
    other_custom = other_doc.get("/openapi.json").get_json()["components"]["schemas"][
        "SalesOrderIn"
    ]["properties"]["custom"]
    assert "commessa" not in other_custom["properties"]


def test_a_firm_without_orders_has_no_order_paths(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    tenant = make_tenant(modules=["catalog"])
    client = login(make_user(tenant, "owner"))
    document = client.get(f"/api/v1/{tenant.slug}/openapi.json").get_json()
    validate(document)
    assert not [p for p in document["paths"] if "/orders/" in p]
    assert any("/catalog/" in p for p in document["paths"])
    page = client.get(f"/api/v1/{tenant.slug}/docs")
    assert page.status_code == 200
    assert f"/api/v1/{tenant.slug}/openapi.json" in page.get_data(as_text=True)
    # and its orders API answers 404, as its pages do
    assert client.get(f"/api/v1/{tenant.slug}/orders/sales").status_code == 404
