"""How the cross-firm route sweep exercises the catalog's pages (see ``distretto.testing.routes``).

Every build makes, in the firm it is given, the customers, suppliers and
products a page shows or acts on, through the catalog's services. Names and
descriptions come from :meth:`SweepFirm.unique`, so firm B's are telltales no
answer to firm A may show. Codes are unique per firm too (:func:`code`) but are
not telltales: they are what a clerk types into a form, and a refused form
shows the clerk's own input back.

The helpers here (:func:`code`, :func:`customer`, :func:`supplier`,
:func:`product`) are also used by the orders and inventory cases.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from distretto.testing.routes import RouteRequest, SweepFirm, route_case

VAT_NUMBER = "03777120167"  # a valid Italian partita IVA (not a telltale: both firms use it)
_codes = itertools.count(1)


def code(firm: SweepFirm, prefix: str) -> str:
    """A product or party code no other firm (nor call) gets, e.g. ``PA12-3``."""
    return f"{prefix}{firm.label}{firm.tenant_id}-{next(_codes)}"


def _party(firm: SweepFirm, *, customer: bool, **extra: Any) -> Any:
    from distretto.modules.catalog import services

    data = {
        "legal_name": firm.unique("Cliente" if customer else "Fornitore"),
        "code": code(firm, "C" if customer else "F"),
        "is_customer": customer,
        "is_supplier": not customer,
        "vat_number": VAT_NUMBER,
        "city": firm.unique("Lumezzane"),
        "email": f"{firm.unique('ufficio')}@example.com",
        **extra,
    }
    return services.create_party(data)


def customer(firm: SweepFirm, **extra: Any) -> Any:
    """A customer of ``firm`` (a Party), flushed."""
    return _party(firm, customer=True, **extra)


def supplier(firm: SweepFirm, **extra: Any) -> Any:
    """A supplier of ``firm`` (a Party), flushed."""
    return _party(firm, customer=False, **extra)


def vat_rate_id(rate: str = "22") -> int:
    from distretto.modules.catalog import services

    found = services.vat_rate_by_code(rate)
    assert found is not None, f"the catalog seeds VAT rate {rate}"
    return found.id


def payment_terms_id(terms: str = "BB30") -> int:
    from distretto.modules.catalog import services

    return next(t.id for t in services.payment_terms() if t.code == terms)


def product(firm: SweepFirm, **extra: Any) -> Any:
    """A stocked product of ``firm``, flushed."""
    from distretto.modules.catalog import services

    data = {
        "code": code(firm, "P"),
        "description": firm.unique("Bullone M8"),
        "sale_price": "1,25",
        "purchase_cost": "0.40",
        "vat_rate_id": vat_rate_id(),
        **extra,
    }
    return services.create_product(data)


def _party_row(party_id: int) -> Any:
    from distretto.modules.catalog.models import Party
    from distretto.platform.db import db

    return db.session.get(Party, party_id)


def _product_row(product_id: int) -> Any:
    from distretto.modules.catalog.models import Product
    from distretto.platform.db import db

    return db.session.get(Product, product_id)


def _parties_named(name: str) -> list[Any]:
    from distretto.modules.catalog.models import Party
    from distretto.platform.db import db

    return list(db.session.execute(select(Party).where(Party.legal_name == name)).scalars())


# --- customers and suppliers ------------------------------------------------------------


@route_case("catalog.customers", "GET")
@route_case("catalog.suppliers", "GET")
def _party_lists(firm: SweepFirm) -> None:
    customer(firm)
    supplier(firm)
    customer(firm, is_supplier=True)  # both at once


def _lists_own_customers(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party
    from distretto.platform.db import db

    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    names = db.session.execute(
        select(Party.legal_name).where(Party.is_customer.is_(True))
    ).scalars()
    for name in names:
        assert name in body, f"{name} missing from the export"


@route_case("catalog.export_parties", "GET", shared_values={"kind"}, verify=_lists_own_customers)
def _export_parties(firm: SweepFirm) -> dict[str, Any]:
    customer(firm)
    supplier(firm)
    return {"kind": "customers"}


@route_case("catalog.new_party", "GET")
def _new_party_form(firm: SweepFirm) -> RouteRequest:
    customer(firm)
    return RouteRequest(query={"kind": "supplier"})


def _party_form(firm: SweepFirm, **values: Any) -> dict[str, Any]:
    return {
        "legal_name": firm.unique("Nuova anagrafica"),
        "code": code(firm, "N"),
        "is_supplier": "y",
        "country": "IT",
        "vat_number": VAT_NUMBER,
        "street": "Via Roma 1",
        "postcode": "25065",
        "city": "Lumezzane",
        "province": "BS",
        "email": f"{firm.unique('amministrazione')}@example.com",
        "payment_terms_id": str(payment_terms_id("RB3060")),
        "vat_rate_id": str(vat_rate_id("N3.1")),
        **values,
    }


def _party_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert request.data is not None
    found = _parties_named(request.data["legal_name"])
    assert len(found) == 1, f"{len(found)} parties named {request.data['legal_name']}"
    party = found[0]
    assert party.is_supplier
    assert party.payment_terms_id == int(request.data["payment_terms_id"])
    assert party.vat_rate_id == int(request.data["vat_rate_id"])


# B's payment terms and VAT rate in A's form: refused as unknown (400), nothing saved.
@route_case(
    "catalog.new_party",
    "POST",
    expect_ok={302},
    id_fields={"payment_terms_id", "vat_rate_id"},
    expect_denied={400},
    verify=_party_saved,
)
def _new_party(firm: SweepFirm) -> RouteRequest:
    customer(firm)
    return RouteRequest(data=_party_form(firm))


@route_case("catalog.party_detail", "GET")
@route_case("catalog.edit_party", "GET")
def _party_page(firm: SweepFirm) -> dict[str, Any]:
    return {"party_id": customer(firm, notes=firm.unique("note")).id}


@route_case(
    "catalog.edit_party",
    "POST",
    expect_ok={302},
    id_fields={"payment_terms_id", "vat_rate_id"},
    verify=_party_saved,
)
def _edit_party(firm: SweepFirm) -> RouteRequest:
    party = supplier(firm)
    return RouteRequest(url={"party_id": party.id}, data=_party_form(firm, code=party.code))


def _archived(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    if "party_id" in request.url:
        assert _party_row(request.url["party_id"]).archived is True
    else:
        assert _product_row(request.url["product_id"]).archived is True


def _restored(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    if "party_id" in request.url:
        assert _party_row(request.url["party_id"]).archived is False
    else:
        assert _product_row(request.url["product_id"]).archived is False


def _deleted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    if "party_id" in request.url:
        assert _party_row(request.url["party_id"]) is None
    else:
        assert _product_row(request.url["product_id"]) is None


# a party in use answers 303 (kept, with a message): only 302 is a deletion
@route_case("catalog.archive_party", "POST", expect_ok={302}, verify=_archived)
@route_case("catalog.delete_party", "POST", expect_ok={302}, verify=_deleted)
def _party_action(firm: SweepFirm) -> dict[str, Any]:
    return {"party_id": customer(firm).id}


@route_case("catalog.restore_party", "POST", expect_ok={302}, verify=_restored)
def _restore_party(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.catalog import services

    party = customer(firm)
    services.set_archived(party, True)
    return {"party_id": party.id}


# --- products -------------------------------------------------------------------------------


@route_case("catalog.products", "GET")
def _product_list(firm: SweepFirm) -> None:
    product(firm)
    product(firm, is_service=True, description=firm.unique("Consulenza"))


def _lists_own_products(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Product
    from distretto.platform.db import db

    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    for description in db.session.execute(select(Product.description)).scalars():
        assert description in body, f"{description} missing from the export"


@route_case("catalog.export_products", "GET", verify=_lists_own_products)
def _export_products(firm: SweepFirm) -> None:
    product(firm)
    product(firm)


@route_case("catalog.new_product", "GET")
def _new_product_form(firm: SweepFirm) -> None:
    product(firm)


def _product_form(firm: SweepFirm, **values: Any) -> dict[str, Any]:
    return {
        "code": code(firm, "NP"),
        "description": firm.unique("Vite autofilettante"),
        "unit": "pz",
        "sale_price": "2,50",
        "purchase_cost": "0,90",
        "vat_rate_id": str(vat_rate_id("10")),
        "stocked": "y",
        "reorder_point": "5",
        **values,
    }


def _product_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from decimal import Decimal

    from distretto.modules.catalog.models import Product
    from distretto.platform.db import db

    assert request.data is not None
    found = db.session.execute(
        select(Product).where(Product.code == request.data["code"])
    ).scalar_one()
    assert found.description == request.data["description"]
    assert found.sale_price == Decimal("2.50")
    assert found.vat_rate_id == int(request.data["vat_rate_id"])


# B's VAT rate in A's form: refused as unknown (400), nothing saved.
@route_case(
    "catalog.new_product",
    "POST",
    expect_ok={302},
    id_fields={"vat_rate_id"},
    expect_denied={400},
    verify=_product_saved,
)
def _new_product(firm: SweepFirm) -> RouteRequest:
    product(firm)
    return RouteRequest(data=_product_form(firm))


@route_case("catalog.product_detail", "GET")
@route_case("catalog.edit_product", "GET")
def _product_page(firm: SweepFirm) -> dict[str, Any]:
    return {"product_id": product(firm).id}


@route_case(
    "catalog.edit_product",
    "POST",
    expect_ok={302},
    id_fields={"vat_rate_id"},
    verify=_product_saved,
)
def _edit_product(firm: SweepFirm) -> RouteRequest:
    item = product(firm)
    return RouteRequest(url={"product_id": item.id}, data=_product_form(firm, code=item.code))


@route_case("catalog.archive_product", "POST", expect_ok={302}, verify=_archived)
@route_case("catalog.delete_product", "POST", expect_ok={302}, verify=_deleted)
def _product_action(firm: SweepFirm) -> dict[str, Any]:
    return {"product_id": product(firm).id}


@route_case("catalog.restore_product", "POST", expect_ok={302}, verify=_restored)
def _restore_product(firm: SweepFirm) -> dict[str, Any]:
    from distretto.modules.catalog import services

    item = product(firm)
    services.set_archived(item, True)
    return {"product_id": item.id}


# --- CSV import ----------------------------------------------------------------------------


@route_case("catalog.import_csv", "GET")
def _import_form(firm: SweepFirm) -> RouteRequest:
    customer(firm)
    return RouteRequest(query={"kind": "suppliers"})


def _imported(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert request.data is not None
    for line in request.data["content"].splitlines()[1:]:
        party_code, name = line.split(";")[:2]
        found = _parties_named(name)
        assert len(found) == 1, f"{name} was not imported"
        assert found[0].code == party_code
        assert found[0].is_customer


@route_case("catalog.import_csv", "POST", expect_ok={302}, verify=_imported)
def _import(firm: SweepFirm) -> RouteRequest:
    customer(firm)  # the firm's customers so far: the import adds to them
    rows = [
        "code;legal_name;vat_number;city;payment_terms;vat_code",
        f"{code(firm, 'I')};{firm.unique('Importata')};{VAT_NUMBER};Brescia;BB30;22",
        f"{code(firm, 'I')};{firm.unique('Importata')};{VAT_NUMBER};Brescia;;",
    ]
    return RouteRequest(
        data={"kind": "customers", "content": "\n".join(rows) + "\n", "confirm": "1"}
    )


# the API endpoints (catalog_api.*)
import distretto.modules.catalog.api_route_cases  # noqa: E402, F401 - registers on import
