"""Business rules of orders: the only place that changes orders.

Orders depend on the catalog (its models and pricing are its public surface
for dependants) and never on inventory or invoicing: stock and invoices react
to orders through workflow actions and events, so a firm can run orders
without them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.catalog.models import Party, Product, VatRate
from distretto.modules.catalog.pricing import TaxedAmount, line_amount, totals
from distretto.modules.orders.models import DOCUMENT_TYPES, PURCHASE, SALE, Order, OrderLine
from distretto.modules.orders.schemas import OrderSchema
from distretto.platform.context import current_actor_id
from distretto.platform.listing import like_pattern
from distretto.sdk import audit, current_role, customfields, db, events, numbering, workflow

# Amounts are numeric(14,2): a line stays below 10^10 and the taxable total below 10^11,
# so that the total with VAT fits too.
MAX_LINE_AMOUNT = Decimal("10000000000")
MAX_TAXABLE = Decimal("100000000000")


class StaleOrder(Exception):
    """The order changed since the caller read it (optimistic concurrency)."""


class OrderLocked(Exception):
    """The order's state does not allow editing."""


def load(kind: str, data: dict[str, Any], order: Order | None = None) -> dict[str, Any]:
    """Validate input and resolve references; raises ValidationError with field messages."""
    values = OrderSchema().load(data)
    errors: dict[str, Any] = {}
    party = db.session.get(Party, values["party_id"])
    if party is None:
        errors["party_id"] = [_("Unknown counterpart.")]
    elif party.archived and (order is None or order.party_id != party.id):
        errors["party_id"] = [_("%(name)s is archived.", name=party.legal_name)]
    elif kind == SALE and not party.is_customer:
        errors["party_id"] = [_("%(name)s is not a customer.", name=party.legal_name)]
    elif kind == PURCHASE and not party.is_supplier:
        errors["party_id"] = [_("%(name)s is not a supplier.", name=party.legal_name)]
    product_ids = {line["product_id"] for line in values["lines"] if line.get("product_id")}
    rate_ids = {line["vat_rate_id"] for line in values["lines"] if line.get("vat_rate_id")}
    products = (
        {
            p.id: p
            for p in db.session.execute(
                select(Product).where(Product.id.in_(product_ids))
            ).scalars()
        }
        if product_ids
        else {}
    )
    rates = (
        {
            r.id: r
            for r in db.session.execute(select(VatRate).where(VatRate.id.in_(rate_ids))).scalars()
        }
        if rate_ids
        else {}
    )
    # an order already holding an archived product or party may keep it when edited
    kept_products = {line.product_id for line in order.lines} if order is not None else set()
    taxable = Decimal("0")
    line_errors: dict[int, Any] = {}
    for index, line in enumerate(values["lines"]):
        problems: dict[str, list[str]] = {}
        product = products.get(line.get("product_id")) if line.get("product_id") else None
        if line.get("product_id") and product is None:
            problems["product_id"] = [_("Unknown product.")]
        elif product is not None and product.archived and product.id not in kept_products:
            problems["product_id"] = [_("%(code)s is archived.", code=product.code)]
        if line.get("vat_rate_id") and line["vat_rate_id"] not in rates:
            problems["vat_rate_id"] = [_("Unknown VAT rate.")]
        if not problems:
            price = line.get("unit_price")
            if price is None and product is not None:
                price = product.sale_price if kind == SALE else product.purchase_cost
            amount = line_amount(
                line["quantity"], price or Decimal("0"), line.get("discount_percent")
            )
            if amount >= MAX_LINE_AMOUNT:
                problems["quantity"] = [_("The line amount is too large.")]
            taxable += amount
        if problems:
            line_errors[index] = problems
            continue
        line["_product"] = product
        line["_rate"] = rates.get(line.get("vat_rate_id")) if line.get("vat_rate_id") else None
    if line_errors:
        errors["lines"] = line_errors
    elif taxable >= MAX_TAXABLE:
        errors["_schema"] = [_("The order total is too large.")]
    document_type = DOCUMENT_TYPES[kind]
    try:
        values["custom"] = customfields.clean(
            document_type, values.get("custom") or {}, existing=order.custom if order else None
        )
    except ValidationError as exc:
        errors["custom"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if party is not None and party.vat_rate_id:
        values["_party_rate_id"] = party.vat_rate_id
    return values


def _build_lines(values: dict[str, Any], kind: str) -> list[OrderLine]:
    default_rate_id = values.get("_party_rate_id")
    rate_cache: dict[int, VatRate] = {}
    lines = []
    for position, data in enumerate(values["lines"], start=1):
        product: Product | None = data.get("_product")
        rate: VatRate | None = data.get("_rate")
        if rate is None:
            rate_id = default_rate_id or (product.vat_rate_id if product else None)
            if rate_id is not None:
                rate = rate_cache.get(rate_id) or db.session.get(VatRate, rate_id)
                rate_cache[rate_id] = rate
        if data.get("unit_price") is not None:
            price = data["unit_price"]
        elif product is not None:
            price = product.sale_price if kind == SALE else product.purchase_cost
        else:
            price = Decimal("0")
        discount = data.get("discount_percent") or Decimal("0")
        lines.append(
            OrderLine(
                position=position,
                product_id=product.id if product else None,
                description=data.get("description") or (product.description if product else ""),
                unit=data.get("unit") or (product.unit if product else "pz"),
                quantity=data["quantity"],
                unit_price=price,
                discount_percent=discount,
                vat_rate_id=rate.id,
                vat_rate=rate.rate,
                natura=rate.natura,
                amount=line_amount(data["quantity"], price, discount),
            )
        )
    return lines


def _apply_totals(order: Order) -> None:
    result = totals(TaxedAmount(line.amount, line.vat_rate, line.natura) for line in order.lines)
    order.taxable_total = result.taxable
    order.vat_total = result.vat
    order.total = result.total


def create_order(kind: str, data: dict[str, Any]) -> Order:
    values = load(kind, data)
    order_date = values.get("order_date") or date.today()
    document_type = DOCUMENT_TYPES[kind]
    order = Order(
        kind=kind,
        number=numbering.next_number(document_type, order_date)[1],
        order_date=order_date,
        expected_date=values.get("expected_date"),
        party_id=values["party_id"],
        customer_reference=values.get("customer_reference"),
        notes=values.get("notes"),
        custom=values["custom"],
        created_by_id=current_actor_id(),
    )
    order.lines = _build_lines(values, kind)
    _apply_totals(order)
    workflow.start(order, document_type)
    audit.record(
        f"{document_type}.created",
        order,
        summary={"number": order.number, "total": str(order.total), "lines": len(order.lines)},
    )
    events.emit(f"{document_type}.created", document=order)
    return order


def locked_fields(order: Order) -> set[str]:
    _row, definition = workflow.engine.definition_of(order)
    state = definition.state(order.state)
    return set(state.locked_fields) if state else {"*"}


def update_order(order: Order, data: dict[str, Any]) -> Order:
    """Replace the order's content; refused when its state locks the changed fields."""
    expected = str(data.get("version") or "").strip()
    if expected and (not expected.isdigit() or int(expected) != order.version):
        raise StaleOrder(_("Someone changed this order meanwhile: reload it and redo your change."))
    values = load(order.kind, data, order)
    locked = locked_fields(order)
    new_lines = _build_lines(values, order.kind)
    changed: set[str] = set()
    if values["party_id"] != order.party_id:
        changed.add("party_id")
    for key in ("order_date", "expected_date", "customer_reference", "notes"):
        value = values.get(key) if key != "order_date" else (values.get(key) or order.order_date)
        if value != getattr(order, key):
            changed.add(key)
    if _line_signature(new_lines) != _line_signature(order.lines):
        changed.add("lines")
    for name, value in values["custom"].items():
        if (order.custom or {}).get(name) != value:
            changed.add(name)
    blocked = sorted(changed) if "*" in locked else sorted(changed & locked)
    if blocked:
        raise OrderLocked(
            _(
                "In the state %(state)s these cannot change: %(fields)s.",
                state=order.state,
                fields=", ".join(blocked),
            )
        )
    if not changed:
        return order
    order.party_id = values["party_id"]
    order.order_date = values.get("order_date") or order.order_date
    order.expected_date = values.get("expected_date")
    order.customer_reference = values.get("customer_reference")
    order.notes = values.get("notes")
    order.custom = values["custom"]
    if "lines" in changed:
        order.lines = new_lines
        _apply_totals(order)
    db.session.flush()
    audit.record(f"{order.document_type}.updated", order, summary={"changed": sorted(changed)})
    return order


def _line_signature(lines: list[OrderLine]) -> list[tuple[Any, ...]]:
    return [
        (
            line.product_id,
            line.description,
            line.unit,
            Decimal(line.quantity).normalize(),
            Decimal(line.unit_price).normalize(),
            Decimal(line.discount_percent or 0).normalize(),
            line.vat_rate_id,
        )
        for line in lines
    ]


def delete_order(order: Order) -> None:
    """Only a draft that never moved may be deleted; others are cancelled."""
    _row, definition = workflow.engine.definition_of(order)
    if order.state != definition.initial.name:
        raise OrderLocked(_("Only draft orders can be deleted; cancel this one instead."))
    if order.delivered_any:
        raise OrderLocked(_("Goods were already delivered for this order."))
    audit.record(f"{order.document_type}.deleted", order, summary={"number": order.number})
    db.session.delete(order)
    db.session.flush()


def transition(order: Order, name: str, comment: str | None = None) -> None:
    workflow.apply(order, order.document_type, name, role=current_role(), comment=comment)


def get_order(order_id: int, kind: str) -> Order | None:
    order = db.session.execute(
        select(Order)
        .where(Order.id == order_id, Order.kind == kind)
        .options(selectinload(Order.lines))
    ).scalar_one_or_none()
    return order


def order_query(
    kind: str, q: str | None = None, state: str | None = None, party_id: int | None = None
) -> Any:
    query = select(Order).where(Order.kind == kind)
    if state:
        query = query.where(Order.state == state)
    if party_id:
        query = query.where(Order.party_id == party_id)
    if q:
        pattern = like_pattern(q.strip())
        party_ids = select(Party.id).where(Party.legal_name.ilike(pattern, escape="\\"))
        query = query.where(
            Order.number.ilike(pattern, escape="\\")
            | Order.customer_reference.ilike(pattern, escape="\\")
            | Order.party_id.in_(party_ids)
        )
    return query


# --- reacting to stock movements (events from an inventory module) -------------------


def on_goods_delivered(
    source_type: str, source_id: int, lines: list[tuple[int, Decimal]], **_: Any
) -> None:
    """Shipments and receipts move the order's delivered quantities and its state.

    The state follows through the workflow's automatic transitions
    (``mark_partially_shipped`` / ``mark_shipped`` and their purchase twins),
    so a firm whose workflow lacks them keeps the state unchanged.
    """
    kind = (
        SALE
        if source_type == "sales_order"
        else PURCHASE
        if source_type == "purchase_order"
        else None
    )
    if kind is None:
        return
    order = get_order(source_id, kind)
    if order is None:
        return
    by_id = {line.id: line for line in order.lines}
    for line_id, quantity in lines:
        line = by_id.get(line_id)
        if line is not None:
            line.quantity_delivered = Decimal(line.quantity_delivered) + Decimal(quantity)
    db.session.flush()
    if workflow.engine.in_transition(order):
        return
    full, partial = (
        ("mark_shipped", "mark_partially_shipped")
        if kind == SALE
        else ("mark_received", "mark_partially_received")
    )
    target = full if order.delivered_fully else partial
    _row, definition = workflow.engine.definition_of(order)
    candidate = definition.transition(target)
    if candidate is not None and order.state in candidate.sources:
        workflow.apply(order, order.document_type, target, role=workflow.SYSTEM)


def archive_order(order: Order) -> None:
    """Take a finished order off the lists (soft): only in a final state of its workflow."""
    _row, definition = workflow.engine.definition_of(order)
    if not definition.is_final(order.state):
        raise OrderLocked(
            _("Only finished orders can be archived; this one is %(state)s.", state=order.state)
        )
    if order.archived:
        return
    order.archived = True
    db.session.flush()
    audit.record(f"{order.document_type}.archived", order, summary={"number": order.number})
