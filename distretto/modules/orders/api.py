"""REST API of orders: sales orders (``/sales``) and purchase orders (``/purchases``).

Thin views over :mod:`distretto.modules.orders.services`: the same validation
(OrderSchema plus the firm's custom fields), the same locks of the workflow
(only what the order's state leaves open may change), the same transitions.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.orders import services
from distretto.modules.orders.models import DOCUMENT_TYPES, PURCHASE, SALE, Order
from distretto.modules.orders.schemas import (
    PurchaseOrderIn,
    PurchaseOrderOut,
    SalesOrderIn,
    SalesOrderOut,
)
from distretto.sdk import (
    Problem,
    api_blueprint,
    check_if_match,
    custom_field_filters,
    db,
    json_body,
    list_args,
    locked,
    merge_patch,
    page_schema,
    paginate,
    permission_required,
    respond,
    transition_input,
    workflow_step,
)

blp = api_blueprint(
    "orders", __name__, "Sales orders to customers and purchase orders to suppliers."
)

ETAG_HEADER = {
    "ETag": {"description": "Send it back in If-Match to update.", "schema": {"type": "string"}}
}
SORTS = {
    "date": Order.order_date,
    "number": Order.number,
    "total": Order.total,
    "state": Order.state,
    "expected_date": Order.expected_date,
    "created_at": Order.created_at,
}
OrderListArgs = list_args(
    "OrderListArgs",
    list(SORTS),
    "-date",
    q=fields.String(metadata={"description": "Search number, reference, counterpart's name."}),
    state=fields.String(validate=validate.Length(max=40)),
    party_id=fields.Integer(validate=validate.Range(min=1)),
    date_from=fields.Date(metadata={"description": "Order date from (inclusive)."}),
    date_to=fields.Date(metadata={"description": "Order date up to (inclusive)."}),
    archived=fields.Boolean(load_default=False, metadata={"description": "List archived ones."}),
)
CUSTOM_FILTERS_DOC = (
    " Filter on the firm's custom fields with cf_<name>=value or cf_<name>__<op>=value "
    "(op: eq, ne, gt, gte, lt, lte, contains, empty)."
)
KINDS = {
    SALE: ("sales", SalesOrderIn, SalesOrderOut, "sales order"),
    PURCHASE: ("purchases", PurchaseOrderIn, PurchaseOrderOut, "purchase order"),
}


def _order(kind: str, order_id: int, *, lock: bool = False) -> Order:
    query = (
        select(Order)
        .where(Order.id == order_id, Order.kind == kind)
        .options(selectinload(Order.lines))
    )
    order = db.session.execute(locked(query, Order) if lock else query).scalar_one_or_none()
    if order is None:
        raise Problem(404, _("No such order."))
    return order


def _plain(value: Any) -> str:
    return format(value, "f")


def order_input(order: Order) -> dict[str, Any]:
    """The order as service input, for a PATCH to change only what it sends."""
    return {
        "party_id": order.party_id,
        "order_date": order.order_date.isoformat(),
        "expected_date": order.expected_date.isoformat() if order.expected_date else None,
        "customer_reference": order.customer_reference,
        "notes": order.notes,
        "custom": {},  # left out: the stored values stay (customfields.clean)
        "lines": [
            {
                "product_id": line.product_id,
                "description": line.description,
                "unit": line.unit,
                "quantity": _plain(line.quantity),
                "unit_price": _plain(line.unit_price),
                "discount_percent": _plain(line.discount_percent),
                "vat_rate_id": line.vat_rate_id,
            }
            for line in order.lines
        ],
    }


def _register(kind: str) -> None:
    segment, schema_in, schema_out, label = KINDS[kind]
    document_type = DOCUMENT_TYPES[kind]
    single = "sale" if kind == SALE else "purchase"
    dump = schema_out().dump

    def list_orders(args: dict[str, Any]) -> Any:
        query = services.order_query(kind, args.get("q"), args.get("state"), args.get("party_id"))
        query = query.where(Order.archived.is_(args["archived"]))
        if args.get("date_from"):
            query = query.where(Order.order_date >= args["date_from"])
        if args.get("date_to"):
            query = query.where(Order.order_date <= args["date_to"])
        for clause in custom_field_filters(Order, document_type):
            query = query.where(clause)
        query = query.options(selectinload(Order.lines))
        return paginate(query, args, SORTS, schema_out(many=True).dump)

    def create_order() -> Any:
        order = services.create_order(kind, json_body(schema_in))
        db.session.flush()
        return respond(dump(order), 201, location=url_for(f".{single}", order_id=order.id))

    def get_order(order_id: int) -> Any:
        return respond(dump(_order(kind, order_id)))

    def update_order(order_id: int) -> Any:
        order = _order(kind, order_id, lock=True)
        check_if_match(dump(order))
        patch = json_body(schema_in)
        try:
            services.update_order(order, merge_patch(order_input(order), patch))
        except services.OrderLocked as exc:
            raise Problem(409, str(exc), code="locked") from exc
        except services.StaleOrder as exc:
            raise Problem(412, str(exc), code="stale") from exc
        db.session.flush()
        return respond(dump(order))

    def archive_order(order_id: int) -> Any:
        order = _order(kind, order_id, lock=True)
        try:
            services.archive_order(order)
        except services.OrderLocked as exc:
            raise Problem(409, str(exc), code="not_final") from exc
        return respond(dump(order))

    def transition(order_id: int, name: str) -> Any:
        order = _order(kind, order_id, lock=True)
        values = transition_input()
        workflow_step(order, name)
        services.transition(order, name, values.get("comment"))
        db.session.flush()
        return respond(dump(order))

    list_orders.__doc__ = f"List {label}s." + CUSTOM_FILTERS_DOC
    create_order.__doc__ = f"Create a {label} (a draft, numbered by the firm's rule)."
    get_order.__doc__ = f"One {label}, with its ETag."
    update_order.__doc__ = (
        f"Change a {label}: send only what changes; `lines` replaces all lines. "
        "If-Match required (428 without, 412 when stale); 409 when the state locks a field."
    )
    archive_order.__doc__ = f"Archive a finished {label} (409 unless its state is final)."
    transition.__doc__ = (
        f"Move a {label} through its workflow (e.g. `confirm`); 409 with the reason when a "
        "guard refuses."
    )

    base, item = f"/{segment}", f"/{segment}/<int:order_id>"
    blp.route(base, methods=["GET"], endpoint=segment)(
        permission_required("orders.view")(
            blp.arguments(OrderListArgs, location="query", as_kwargs=False)(
                blp.response(200, page_schema(schema_out))(list_orders)
            )
        )
    )
    blp.route(base, methods=["POST"], endpoint=f"create_{single}")(
        permission_required("orders.edit")(
            blp.body(schema_in)(blp.response(201, schema_out, headers=ETAG_HEADER)(create_order))
        )
    )
    blp.route(item, methods=["GET"], endpoint=single)(
        permission_required("orders.view")(
            blp.response(200, schema_out, headers=ETAG_HEADER)(get_order)
        )
    )
    blp.route(item, methods=["PATCH"], endpoint=f"update_{single}")(
        permission_required("orders.edit")(
            blp.body(schema_in(partial=True))(
                blp.response(200, schema_out, headers=ETAG_HEADER)(update_order)
            )
        )
    )
    blp.route(f"{item}/archive", methods=["POST"], endpoint=f"archive_{single}")(
        permission_required("orders.edit")(
            blp.response(200, schema_out, headers=ETAG_HEADER)(archive_order)
        )
    )
    blp.route(f"{item}/transitions/<name>", methods=["POST"], endpoint=f"{single}_transition")(
        permission_required("orders.view")(
            blp.response(200, schema_out, headers=ETAG_HEADER)(transition)
        )
    )


for _kind in (SALE, PURCHASE):
    _register(_kind)

__all__ = ["blp", "order_input"]
