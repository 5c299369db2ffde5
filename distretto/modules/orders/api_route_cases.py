"""How the cross-firm route sweep exercises the orders API (``orders_api.*``).

Orders are built with :func:`distretto.modules.orders.route_cases.sales_order`
and ``purchase_order``; the JSON bodies name the firm's own counterpart and
VAT rate. A transition's ``name`` is not an id.
"""

from __future__ import annotations

from typing import Any

from distretto.modules.catalog.route_cases import customer, supplier, vat_rate_id
from distretto.modules.orders.route_cases import purchase_order, sales_order
from distretto.testing.routes import RouteRequest, SweepFirm, route_case

KINDS = {"sale": (sales_order, customer), "purchase": (purchase_order, supplier)}
FIRST_STEP = {"sale": "confirm", "purchase": "send"}  # the default workflows' first transition
SEGMENTS = {"sale": "sales", "purchase": "purchases"}


def _etag(order: Any) -> str:
    from distretto.modules.orders.schemas import PurchaseOrderOut, SalesOrderOut
    from distretto.platform.api import etag_of
    from distretto.platform.db import db

    db.session.flush()
    db.session.expire_all()
    schema = SalesOrderOut if order.kind == "sale" else PurchaseOrderOut
    return f'"{etag_of(schema().dump(order))}"'


def _finished(order: Any) -> Any:
    from distretto.sdk import workflow

    workflow.apply(order, order.document_type, "cancel", role=workflow.SYSTEM, comment="annullato")
    return order


for _kind, (_build_order, _counterpart) in KINDS.items():
    _segment = SEGMENTS[_kind]

    def _list(firm: SweepFirm, build: Any = _build_order) -> None:
        build(firm)

    def _create(firm: SweepFirm, party: Any = _counterpart) -> RouteRequest:
        return RouteRequest(
            json={
                "party_id": party(firm).id,
                "customer_reference": firm.unique("rif"),
                "lines": [
                    {
                        "description": firm.unique("Lavorazione"),
                        "quantity": "2",
                        "unit_price": "30",
                        "vat_rate_id": vat_rate_id(),
                    }
                ],
            }
        )

    def _one(firm: SweepFirm, build: Any = _build_order) -> dict[str, Any]:
        return {"order_id": build(firm).id}

    def _update(firm: SweepFirm, build: Any = _build_order) -> RouteRequest:
        order = build(firm)
        return RouteRequest(
            url={"order_id": order.id},
            json={"notes": firm.unique("nota")},
            headers={"If-Match": _etag(order)},
        )

    def _archive(firm: SweepFirm, build: Any = _build_order) -> RouteRequest:
        return RouteRequest(url={"order_id": _finished(build(firm)).id}, json={})

    def _transition(
        firm: SweepFirm, build: Any = _build_order, step: str = FIRST_STEP[_kind]
    ) -> RouteRequest:
        return RouteRequest(url={"order_id": build(firm).id, "name": step}, json={"comment": "ok"})

    route_case(f"orders_api.{_segment}", "GET")(_list)
    route_case(f"orders_api.create_{_kind}", "POST")(_create)
    route_case(f"orders_api.{_kind}", "GET")(_one)
    route_case(f"orders_api.update_{_kind}", "PATCH")(_update)
    route_case(f"orders_api.archive_{_kind}", "POST")(_archive)
    route_case(f"orders_api.{_kind}_transition", "POST", shared_values={"name"})(_transition)
