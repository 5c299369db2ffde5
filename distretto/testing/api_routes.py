"""The kernel's API routes as the cross-firm sweep sees them (see :mod:`distretto.testing.routes`).

The platform-wide OpenAPI document and docs page show no firm's data; the
firm's own document and docs page, and the API-token settings pages, are
swept like every firm page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from distretto.testing.routes import RouteRequest, SweepFirm, route_case, tenant_free

tenant_free("api.openapi", "the OpenAPI document of the installed modules: schemas, no firm data")
tenant_free("api.docs", "the browsable API documentation of the installed modules, no firm data")


def _token(firm: SweepFirm) -> Any:
    from distretto.platform.api.tokens import create_token

    token, _secret = create_token(
        firm.unique("Gestionale"),
        ["firm.view"],
        created_by_id=firm.owner.id,
        allowed=["firm.view"],
    )
    return token


@route_case("api.firm_openapi", "GET")
@route_case("api.firm_docs", "GET")
def _firm_docs(firm: SweepFirm) -> None:
    from distretto.platform import customfields

    customfields.define(
        "sales_order", {"name": "commessa", "label": firm.unique("Commessa"), "type": "text"}
    )


@route_case("api_tokens.index", "GET")
def _tokens_page(firm: SweepFirm) -> None:
    _token(firm)


def _token_made(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.api.models import ApiToken
    from distretto.platform.db import db

    names = db.session.execute(select(ApiToken.name)).scalars().all()
    assert request.data is not None
    assert request.data["name"] in names
    assert "dst_" in response.get_data(as_text=True)  # the secret, shown once


@route_case("api_tokens.create", "POST", expect_ok={201}, verify=_token_made)
def _create_token(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(data={"name": firm.unique("E-commerce"), "permissions": ["firm.view"]})


def _token_revoked(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.api.models import ApiToken
    from distretto.platform.db import db

    assert db.session.get(ApiToken, request.url["token_id"]).revoked_at is not None


@route_case("api_tokens.revoke", "POST", expect_ok={302}, verify=_token_revoked)
def _revoke_token(firm: SweepFirm) -> RouteRequest:
    from distretto.platform.db import db

    token = _token(firm)
    db.session.flush()
    return RouteRequest(url={"token_id": token.id})
