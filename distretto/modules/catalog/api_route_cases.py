"""How the cross-firm route sweep exercises the catalog's API (``catalog_api.*``).

Requests run with the owner's browser session (the sweep adds X-CSRFToken to
writes); updates carry the If-Match of the record as built.
"""

from __future__ import annotations

from typing import Any

from distretto.modules.catalog.route_cases import (
    customer,
    payment_terms_id,
    product,
    supplier,
    vat_rate_id,
)
from distretto.testing.routes import RouteRequest, SweepFirm, route_case


def _etag(record: Any, schema: Any) -> str:
    from distretto.platform.api import etag_of
    from distretto.platform.db import db

    db.session.flush()
    db.session.refresh(record)
    return f'"{etag_of(schema().dump(record))}"'


@route_case("catalog_api.list_parties", "GET")
def _parties(firm: SweepFirm) -> None:
    customer(firm)
    supplier(firm)


@route_case("catalog_api.create_party", "POST")
def _create_party(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        json={
            "legal_name": firm.unique("Nuovo cliente"),
            "is_customer": True,
            "vat_number": "03777120167",
            "payment_terms_id": payment_terms_id(),
        }
    )


@route_case("catalog_api.get_party", "GET")
def _party(firm: SweepFirm) -> dict[str, Any]:
    return {"party_id": customer(firm).id}


@route_case("catalog_api.archive_party", "POST")
def _party_to_archive(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"party_id": customer(firm).id}, json={})


@route_case("catalog_api.restore_party", "POST")
def _archived_party(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog import services

    party = customer(firm)
    services.set_archived(party, True)
    return RouteRequest(url={"party_id": party.id}, json={})


@route_case("catalog_api.update_party", "PATCH")
def _update_party(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog.schemas import PartyOut

    party = customer(firm)
    return RouteRequest(
        url={"party_id": party.id},
        json={"city": firm.unique("Brescia")},
        headers={"If-Match": _etag(party, PartyOut)},
    )


@route_case("catalog_api.list_products", "GET")
def _products(firm: SweepFirm) -> None:
    product(firm)


@route_case("catalog_api.create_product", "POST")
def _create_product(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        json={
            "code": f"API{firm.label}{firm.tenant_id}",
            "description": firm.unique("Vite"),
            "sale_price": "2.50",
            "vat_rate_id": vat_rate_id(),
        }
    )


@route_case("catalog_api.get_product", "GET")
def _product(firm: SweepFirm) -> dict[str, Any]:
    return {"product_id": product(firm).id}


@route_case("catalog_api.archive_product", "POST")
def _product_to_archive(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"product_id": product(firm).id}, json={})


@route_case("catalog_api.restore_product", "POST")
def _archived_product(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog import services

    item = product(firm)
    services.set_archived(item, True)
    return RouteRequest(url={"product_id": item.id}, json={})


@route_case("catalog_api.update_product", "PATCH")
def _update_product(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.catalog.schemas import ProductOut

    item = product(firm)
    return RouteRequest(
        url={"product_id": item.id},
        json={"description": firm.unique("Dado")},
        headers={"If-Match": _etag(item, ProductOut)},
    )


@route_case("catalog_api.list_vat_rates", "GET")
@route_case("catalog_api.list_payment_terms", "GET")
def _reference_lists(firm: SweepFirm) -> None:
    return None


def _decoy_vat_rate(firm: SweepFirm) -> int:
    """A VAT rate only this firm has (both firms are seeded alike: B's ids must differ)."""
    from distretto.modules.catalog.models import VatRate
    from distretto.platform.db import db

    rate = VatRate(code=f"X{firm.label}", description=firm.unique("Aliquota"), rate=10)
    db.session.add(rate)
    db.session.flush()
    return rate.id


@route_case("catalog_api.get_vat_rate", "GET")
def _vat_rate(firm: SweepFirm) -> dict[str, Any]:
    return {"rate_id": _decoy_vat_rate(firm)}


@route_case("catalog_api.get_payment_terms", "GET")
def _payment_terms(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.catalog.models import PaymentTerms
    from distretto.platform.db import db

    terms = PaymentTerms(code=f"X{firm.label}", description=firm.unique("Rimessa"), instalments=[])
    db.session.add(terms)
    db.session.flush()
    return {"terms_id": terms.id}
