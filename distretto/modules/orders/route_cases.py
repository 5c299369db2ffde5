"""How the cross-firm route sweep exercises the order pages (see ``distretto.testing.routes``).

Orders are built through :func:`distretto.modules.orders.services.create_order`
for a customer or supplier and products made by the catalog's helpers, so
every order page shows telltales of its firm (the counterpart's name, the
products' descriptions, the clerk's reference). The URL's ``segment``
(``sales``/``purchases``) and a transition's ``name`` are not ids.

:func:`sales_order` and :func:`purchase_order` are also used by the inventory
cases (shipping and receiving against an order).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from distretto.modules.catalog.route_cases import customer, product, supplier, vat_rate_id
from distretto.testing.routes import RouteRequest, SweepFirm, response_text, route_case

ORDERS = ("catalog", "orders")
WITH_STOCK = ("catalog", "orders", "inventory")


def _lines(firm: SweepFirm, products: list[Any], quantity: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [{"product_id": p.id, "quantity": quantity} for p in products]
    lines.append(  # a line without a product: transport, priced by hand
        {
            "description": firm.unique("Trasporto"),
            "quantity": "1",
            "unit_price": "15",
            "vat_rate_id": vat_rate_id(),
        }
    )
    return lines


def sales_order(
    firm: SweepFirm, *, products: list[Any] | None = None, quantity: str = "4", **values: Any
) -> Any:
    """A draft sales order of ``firm`` to a new customer, flushed."""
    from distretto.modules.orders import services
    from distretto.platform.db import db

    products = products if products is not None else [product(firm)]
    order = services.create_order(
        "sale",
        {
            "party_id": customer(firm).id,
            "customer_reference": firm.unique("ordine cliente"),
            "lines": _lines(firm, products, quantity),
            **values,
        },
    )
    db.session.flush()
    return order


def purchase_order(
    firm: SweepFirm, *, products: list[Any] | None = None, quantity: str = "10", **values: Any
) -> Any:
    """A draft purchase order of ``firm`` to a new supplier, flushed."""
    from distretto.modules.orders import services
    from distretto.platform.db import db

    products = products if products is not None else [product(firm)]
    order = services.create_order(
        "purchase",
        {
            "party_id": supplier(firm).id,
            "customer_reference": firm.unique("offerta fornitore"),
            "lines": _lines(firm, products, quantity),
            **values,
        },
    )
    db.session.flush()
    return order


def advance(order: Any, *transitions: str) -> Any:
    """Move ``order`` along its workflow as the firm's owner would."""
    from distretto.platform import workflow
    from distretto.platform.db import db

    for name in transitions:
        workflow.apply(order, order.document_type, name, role="owner")
    db.session.flush()
    return order


def _order(document_id: int) -> Any:
    from distretto.modules.orders.models import Order
    from distretto.platform.db import db

    return db.session.get(Order, document_id)


# --- lists and pages ------------------------------------------------------------------------


@route_case("orders.sales", "GET", modules=ORDERS)
def _sales(firm: SweepFirm) -> None:
    sales_order(firm)
    advance(sales_order(firm), "confirm")


@route_case("orders.purchases", "GET", modules=ORDERS)
def _purchases(firm: SweepFirm) -> None:
    purchase_order(firm)
    advance(purchase_order(firm), "send")


def _export_lists_a_orders(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    text = response_text(response)
    assert text.splitlines()[0].lstrip("\ufeff").startswith("number;date;")
    assert firm.legal_name not in text


@route_case(
    "orders.export_orders",
    "GET",
    modules=ORDERS,
    shared_values={"segment"},
    verify=_export_lists_a_orders,
)
def _export(firm: SweepFirm) -> RouteRequest:
    advance(sales_order(firm), "confirm")
    return RouteRequest(url={"segment": "sales"})


@route_case("orders.sale_detail", "GET", modules=ORDERS)
def _sale_page(firm: SweepFirm) -> dict[str, Any]:
    order = advance(sales_order(firm, notes=firm.unique("consegna al mattino")), "confirm")
    return {"document_id": order.id}


@route_case("orders.purchase_detail", "GET", modules=ORDERS)
def _purchase_page(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": advance(purchase_order(firm), "send").id}


def _is_pdf(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party
    from distretto.platform.db import db

    assert response.mimetype == "application/pdf"
    order = _order(request.url["document_id"])
    printed = response_text(response)
    assert order.number in printed
    assert db.session.get(Party, order.party_id).legal_name in printed
    for line in order.lines:
        assert line.description in printed, f"{line.description} is not printed"


@route_case("orders.order_pdf", "GET", modules=ORDERS, shared_values={"segment"}, verify=_is_pdf)
def _order_pdf(firm: SweepFirm) -> dict[str, Any]:
    return {"segment": "sales", "document_id": advance(sales_order(firm), "confirm").id}


# --- the order form ---------------------------------------------------------------------------


@route_case("orders.new_order", "GET", modules=ORDERS, shared_values={"segment"})
def _new_order_form(firm: SweepFirm) -> dict[str, Any]:
    supplier(firm)  # offered in the counterpart list
    product(firm)  # offered in the product list
    return {"segment": "purchases"}


def _order_form(firm: SweepFirm, party: Any, item: Any, **values: Any) -> dict[str, Any]:
    return {
        "party_code": party.code,
        "order_date": date.today().isoformat(),
        "customer_reference": firm.unique("rif"),
        "notes": firm.unique("note"),
        "lines-0-product_code": item.code,
        "lines-0-quantity": "3",
        "lines-0-discount_percent": "10",
        "lines-1-description": firm.unique("Imballo"),
        "lines-1-quantity": "1",
        "lines-1-unit_price": "12,50",
        "lines-1-vat_code": "22",
        **values,
    }


def _order_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.catalog.models import Party, Product
    from distretto.modules.orders.models import Order
    from distretto.platform.db import db

    data = request.data
    assert data is not None
    order = db.session.execute(
        select(Order).where(Order.customer_reference == data["customer_reference"])
    ).scalar_one()
    party = db.session.execute(select(Party).where(Party.code == data["party_code"])).scalar_one()
    item = db.session.execute(
        select(Product).where(Product.code == data["lines-0-product_code"])
    ).scalar_one()
    assert order.party_id == party.id
    assert order.notes == data["notes"]
    assert [line.product_id for line in order.lines] == [item.id, None]
    assert order.lines[0].quantity == Decimal("3")
    assert order.lines[1].description == data["lines-1-description"]
    assert response.headers["Location"].endswith(f"/{order.id}")


# The counterpart and the products are typed as codes: B's codes in A's form are
# unknown in A (400, the form shown again), and nothing of B's is touched.
@route_case(
    "orders.new_order",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"segment"},
    id_fields={"party_code", "lines-0-product_code"},
    expect_denied={400},
    verify=_order_saved,
)
def _new_order(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        url={"segment": "sales"}, data=_order_form(firm, customer(firm), product(firm))
    )


@route_case("orders.edit_order", "GET", modules=ORDERS, shared_values={"segment"})
def _edit_order_form(firm: SweepFirm) -> dict[str, Any]:
    return {"segment": "purchases", "document_id": purchase_order(firm).id}


@route_case(
    "orders.edit_order",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"segment"},
    id_fields={"party_code", "lines-0-product_code"},
    verify=_order_saved,
)
def _edit_order(firm: SweepFirm) -> RouteRequest:
    order = sales_order(firm)
    other_customer, other_product = customer(firm), product(firm)
    return RouteRequest(
        url={"segment": "sales", "document_id": order.id},
        data=_order_form(firm, other_customer, other_product, version=str(order.version)),
    )


# --- workflow and deletion ----------------------------------------------------------------------


def _confirmed_and_reserved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.modules.inventory import services as inventory

    order = _order(request.url["document_id"])
    assert order.state == "confirmed"
    reserved = inventory.stock_of(order.lines[0].product_id).reserved
    assert reserved == order.lines[0].quantity


# confirming reserves the stock (inventory's action), so inventory runs too;
# a refused step answers 303, so only 302 is a success
@route_case(
    "orders.transition",
    "POST",
    modules=WITH_STOCK,
    expect_ok={302},
    shared_values={"segment", "name"},
    verify=_confirmed_and_reserved,
)
def _confirm(firm: SweepFirm) -> RouteRequest:
    from distretto.modules.inventory import services as inventory

    item = product(firm)
    inventory.receive(lines=[(item.id, Decimal("10"), Decimal("0.40"), None)])
    order = sales_order(firm, products=[item], quantity="4")
    return RouteRequest(
        url={"segment": "sales", "document_id": order.id, "name": "confirm"},
        data={"comment": firm.unique("confermato al telefono")},
    )


def _order_gone(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _order(request.url["document_id"]) is None


# an order that can no longer be deleted answers 303: only 302 is a deletion
@route_case(
    "orders.delete_order",
    "POST",
    modules=ORDERS,
    expect_ok={302},
    shared_values={"segment"},
    verify=_order_gone,
)
def _delete_order(firm: SweepFirm) -> dict[str, Any]:
    return {"segment": "purchases", "document_id": purchase_order(firm).id}


# the API endpoints (orders_api.*)
import distretto.modules.orders.api_route_cases  # noqa: E402, F401 - registers on import
