"""Business rules of inventory: the only place that changes stock.

Every quantity change is a ledger move plus an atomic, conditional update of
the levels in the same transaction. "Never oversell" is one statement,
``UPDATE ... SET reserved = reserved + :q WHERE on_hand - reserved >= :q``,
checked by its row count: concurrent reservations queue on the row lock and
re-check the condition, so 50 clerks reserving 10 units get exactly 10.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from distretto.modules.catalog.models import Party, Product
from distretto.modules.inventory.models import (
    Location,
    MoveType,
    ProductStock,
    Receipt,
    ReceiptLine,
    Reservation,
    Shipment,
    ShipmentLine,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMove,
    Warehouse,
)
from distretto.platform.context import current_actor_id
from distretto.sdk import (
    ActionContext,
    ActionError,
    audit,
    current_tenant,
    db,
    events,
    numbering,
    utcnow,
    workflow,
)

ZERO = Decimal("0")


class StockError(ActionError):
    """A stock rule refused the operation; the message is for the user."""


# --- settings and places ------------------------------------------------------------


def allows_negative_stock() -> bool:
    settings = getattr(current_tenant, "settings", None) or {}
    return bool(settings.get("inventory", {}).get("allow_negative_stock", False))


def set_allow_negative_stock(allowed: bool) -> None:
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    settings = dict(tenant.settings or {})
    settings["inventory"] = {**settings.get("inventory", {}), "allow_negative_stock": bool(allowed)}
    tenant.settings = settings
    db.session.flush()
    audit.record(
        "inventory.settings",
        None,
        object_type="settings",
        summary={"allow_negative_stock": allowed},
    )


def seed_inventory(_row: object = None) -> None:
    """A main warehouse with a default location, once."""
    if db.session.execute(select(Warehouse.id)).first():
        return
    warehouse = Warehouse(code="MAG", name="Magazzino principale")
    db.session.add(warehouse)
    db.session.flush()
    db.session.add(
        Location(warehouse_id=warehouse.id, code="GEN", name="Generale", is_default=True)
    )
    db.session.flush()


def default_location() -> Location:
    location = db.session.execute(
        select(Location).where(Location.is_default.is_(True), Location.active.is_(True)).limit(1)
    ).scalar_one_or_none()
    if location is None:
        seed_inventory()
        location = db.session.execute(
            select(Location).where(Location.active.is_(True)).order_by(Location.id).limit(1)
        ).scalar_one()
    return location


def _check_location(location_id: int) -> None:
    """Refuse a location the firm does not have (another firm's is unknown here too)."""
    if db.session.get(Location, location_id) is None:
        raise StockError(_("Unknown location."))


def locations() -> list[Location]:
    return list(
        db.session.execute(
            select(Location).where(Location.active.is_(True)).order_by(Location.id)
        ).scalars()
    )


def goods_refusal(document: Any) -> str | None:
    """Why no goods may move for ``document`` now (None when they may).

    Goods move only for an agreed document, one whose state locks its lines
    (a confirmed sales order, a sent purchase order), and never for a finished
    one (done, cancelled): what moves must match what was agreed; and only in a
    state the firm's workflow ships or receives from (not while awaiting approval).
    The pages and the API both ask here.
    """
    if getattr(document, "workflow_id", None) is None:
        return None
    _row, definition = workflow.engine.definition_of(document)
    number = getattr(document, "number", None) or ""
    if definition.is_final(document.state):
        return _("%(number)s is closed: no goods can move for it.", number=number)
    if not workflow.is_locked(document, "lines"):
        return _("%(number)s can still be changed: goods move once it is confirmed.", number=number)
    outstanding = any(line.outstanding > 0 for line in document.stock_lines())
    if outstanding and not workflow.accepts_delivery(document):
        return _(
            "%(number)s is %(state)s: its workflow does not let goods move in this state.",
            number=number,
            state=workflow.state_label(document, str(get_locale() or "it")),
        )
    return None


# --- levels -------------------------------------------------------------------------


def _ensure_rows(product_id: int, location_id: int | None) -> None:
    if (
        db.session.execute(
            select(ProductStock.id).where(ProductStock.product_id == product_id)
        ).first()
        is None
    ):
        try:
            with db.session.begin_nested():
                db.session.add(ProductStock(product_id=product_id))
        except IntegrityError:
            pass
    if (
        location_id is not None
        and db.session.execute(
            select(StockLevel.id).where(
                StockLevel.product_id == product_id, StockLevel.location_id == location_id
            )
        ).first()
        is None
    ):
        try:
            with db.session.begin_nested():
                db.session.add(StockLevel(product_id=product_id, location_id=location_id))
        except IntegrityError:
            pass


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise StockError(_("Unknown product."))
    return product


def post_move(
    product_id: int,
    quantity: Decimal,
    *,
    move_type: str,
    from_location_id: int | None = None,
    to_location_id: int | None = None,
    unit_cost: Decimal | None = None,
    reference: tuple[str, int] | None = None,
    on: date | None = None,
    note: str | None = None,
) -> StockMove:
    """Write one ledger move and update the levels; refuses to go below zero unless allowed."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise StockError(_("The quantity must be more than zero."))
    product = _product(product_id)
    if not product.stocked:
        raise StockError(_("%(code)s is not kept in stock.", code=product.code))
    allow_negative = allows_negative_stock()
    for location_id in (from_location_id, to_location_id):
        if location_id is not None:
            _check_location(location_id)
        _ensure_rows(product_id, location_id)
    if from_location_id is not None:
        level = (
            update(StockLevel)
            .where(StockLevel.product_id == product_id, StockLevel.location_id == from_location_id)
            .values(on_hand=StockLevel.on_hand - quantity)
        )
        if not allow_negative:
            level = level.where(StockLevel.on_hand >= quantity)
        if db.session.execute(level.execution_options(synchronize_session=False)).rowcount != 1:
            raise StockError(_("Not enough %(code)s in that location.", code=product.code))
        if to_location_id is None:  # leaving the firm
            total = (
                update(ProductStock)
                .where(ProductStock.product_id == product_id)
                .values(on_hand=ProductStock.on_hand - quantity)
            )
            if not allow_negative:
                total = total.where(ProductStock.on_hand >= quantity)
            if db.session.execute(total.execution_options(synchronize_session=False)).rowcount != 1:
                raise StockError(_("Not enough %(code)s in stock.", code=product.code))
    if to_location_id is not None:
        db.session.execute(
            update(StockLevel)
            .where(StockLevel.product_id == product_id, StockLevel.location_id == to_location_id)
            .values(on_hand=StockLevel.on_hand + quantity)
            .execution_options(synchronize_session=False)
        )
        if from_location_id is None:  # entering the firm: weighted-average cost
            cost = Decimal(unit_cost if unit_cost is not None else product.purchase_cost)
            db.session.execute(
                update(ProductStock)
                .where(ProductStock.product_id == product_id)
                .values(
                    average_cost=case(
                        (ProductStock.on_hand <= 0, cost),
                        else_=(ProductStock.on_hand * ProductStock.average_cost + quantity * cost)
                        / (ProductStock.on_hand + quantity),
                    ),
                    on_hand=ProductStock.on_hand + quantity,
                )
                .execution_options(synchronize_session=False)
            )
            unit_cost = cost
    move = StockMove(
        move_date=on or date.today(),
        move_type=move_type,
        product_id=product_id,
        quantity=quantity,
        from_location_id=from_location_id,
        to_location_id=to_location_id,
        unit_cost=unit_cost,
        reference_type=reference[0] if reference else None,
        reference_id=reference[1] if reference else None,
        note=note,
        created_by_id=current_actor_id(),
    )
    db.session.add(move)
    db.session.flush()
    _expire_levels(product_id)
    return move


def _expire_levels(product_id: int) -> None:
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (ProductStock, StockLevel)) and obj.product_id == product_id:
            db.session.expire(obj)


def stock_of(product_id: int) -> ProductStock | None:
    return db.session.execute(
        select(ProductStock).where(ProductStock.product_id == product_id)
    ).scalar_one_or_none()


def reserve(product_id: int, quantity: Decimal) -> bool:
    """Reserve if available (atomically); False when there is not enough."""
    quantity = Decimal(quantity)
    _ensure_rows(product_id, None)
    statement = (
        update(ProductStock)
        .where(ProductStock.product_id == product_id)
        .values(reserved=ProductStock.reserved + quantity)
    )
    if not allows_negative_stock():
        statement = statement.where(ProductStock.on_hand - ProductStock.reserved >= quantity)
    done = db.session.execute(statement.execution_options(synchronize_session=False)).rowcount == 1
    _expire_levels(product_id)
    return done


def unreserve(product_id: int, quantity: Decimal) -> None:
    db.session.execute(
        update(ProductStock)
        .where(ProductStock.product_id == product_id)
        .values(
            reserved=case(
                (ProductStock.reserved >= quantity, ProductStock.reserved - quantity), else_=0
            )
        )
        .execution_options(synchronize_session=False)
    )
    _expire_levels(product_id)


# --- workflow actions offered to other modules' documents ------------------------------


def _stocked_lines(document: Any) -> list[Any]:
    if not hasattr(document, "stock_lines"):
        raise StockError(_("This document does not carry goods."))
    lines = document.stock_lines()
    product_ids = {line.product_id for line in lines if line.product_id}
    stocked = (
        set(
            db.session.execute(
                select(Product.id).where(Product.id.in_(product_ids), Product.stocked.is_(True))
            ).scalars()
        )
        if product_ids
        else set()
    )
    return [line for line in lines if line.product_id in stocked]


def _available(product_ids: set[int]) -> dict[int, Decimal]:
    rows = db.session.execute(
        select(ProductStock.product_id, ProductStock.on_hand, ProductStock.reserved).where(
            ProductStock.product_id.in_(product_ids)
        )
    )
    return {pid: Decimal(on_hand) - Decimal(reserved) for pid, on_hand, reserved in rows}


@contextmanager
def watch_low_stock(product_ids: Iterable[int | None]) -> Iterator[None]:
    """Emit ``stock.low`` for each product whose available quantity falls to its reorder
    point (or below) in the block: once, as it crosses, not again while it stays low.

    Watched around whole operations (a reservation, a shipment, an adjustment) rather
    than each move, so a shipment that consumes its own reservation is not a fall.
    """
    ids = {pid for pid in product_ids if pid}
    before = _available(ids) if ids else {}
    yield
    if not ids:
        return
    after = _available(ids)
    products = db.session.execute(
        select(Product).where(
            Product.id.in_(ids), Product.stocked.is_(True), Product.reorder_point > 0
        )
    ).scalars()
    for product in products:
        point = Decimal(product.reorder_point)
        was, now = before.get(product.id, ZERO), after.get(product.id, ZERO)
        if was > point >= now:
            events.emit("stock.low", product=product, available=now, reorder_point=point)


def reserve_stock_action(context: ActionContext) -> None:
    """Reserve what each line still needs; what is already reserved for it counts (a
    workflow that passes twice through this action does not reserve twice)."""
    lines = context.document.stock_lines() if hasattr(context.document, "stock_lines") else []
    with watch_low_stock(line.product_id for line in lines):
        _reserve_stock(context)


def _reserve_stock(context: ActionContext) -> None:
    document = context.document
    held: dict[int, Decimal] = {}
    for row in db.session.execute(
        select(Reservation).where(
            Reservation.source_type == context.document_type.name,
            Reservation.source_id == document.id,
            Reservation.quantity > 0,
        )
    ).scalars():
        held[row.source_line_id] = held.get(row.source_line_id, ZERO) + Decimal(row.quantity)
    for line in _stocked_lines(document):
        needed = line.outstanding - held.get(line.line_id, ZERO)
        if needed <= 0:
            continue
        if not reserve(line.product_id, needed):
            product = _product(line.product_id)
            stock = stock_of(line.product_id)
            available = stock.available if stock else ZERO
            raise StockError(
                _(
                    "Not enough %(code)s: %(available)s available, %(needed)s needed.",
                    code=product.code,
                    available=_qty(available),
                    needed=_qty(needed),
                )
            )
        db.session.add(
            Reservation(
                product_id=line.product_id,
                source_type=context.document_type.name,
                source_id=document.id,
                source_line_id=line.line_id,
                quantity=needed,
            )
        )
    db.session.flush()


def release_reservation_action(context: ActionContext) -> None:
    release_for(context.document_type.name, context.document.id)


def release_for(source_type: str, source_id: int) -> None:
    rows = db.session.execute(
        select(Reservation).where(
            Reservation.source_type == source_type,
            Reservation.source_id == source_id,
            Reservation.quantity > 0,
        )
    ).scalars()
    for row in rows:
        unreserve(row.product_id, Decimal(row.quantity))
        row.quantity = ZERO
    db.session.flush()


def create_shipment_action(context: ActionContext) -> None:
    """Ship everything still outstanding on the document and issue its DDT."""
    document = context.document
    lines = [(line, line.outstanding) for line in document.stock_lines() if line.outstanding > 0]
    if not lines:
        raise StockError(_("Nothing is left to ship."))
    shipment = create_shipment(
        party_id=document.party_id,
        source=(context.document_type.name, document.id, getattr(document, "number", None)),
        lines=lines,
    )
    ship(shipment)


def create_receipt_action(context: ActionContext) -> None:
    document = context.document
    lines = [(line, line.outstanding) for line in _stocked_lines(document) if line.outstanding > 0]
    if not lines:
        raise StockError(_("Nothing is left to receive."))
    receive(
        party_id=getattr(document, "party_id", None),
        source=(context.document_type.name, document.id, getattr(document, "number", None)),
        lines=[(line.product_id, qty, line.unit_cost, line.line_id) for line, qty in lines],
    )


def post_shipment_action(context: ActionContext) -> None:
    """The DDT's own workflow step that moves the goods and gives it its number."""
    with watch_low_stock(line.product_id for line in context.document.lines):
        _post_shipment(context.document)


# --- shipments (DDT) --------------------------------------------------------------------


def create_shipment(
    *,
    party_id: int,
    lines: Iterable[tuple[Any, Decimal]],
    source: tuple[str, int, str | None] | None = None,
    shipment_date: date | None = None,
    location_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Shipment:
    """A draft shipment; ``lines`` are (StockLine, quantity) pairs, quantity up to outstanding."""
    if db.session.get(Party, party_id) is None:
        raise StockError(_("Unknown customer."))
    shipment = Shipment(
        shipment_date=shipment_date or date.today(),
        party_id=party_id,
        location_id=location_id or default_location().id,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        source_number=source[2] if source else None,
        **(details or {}),
    )
    for line, quantity in lines:
        quantity = Decimal(quantity)
        if quantity <= 0:
            continue
        if quantity > line.outstanding:
            raise StockError(
                _(
                    "%(description)s: %(quantity)s is more than the %(outstanding)s still to ship.",
                    description=line.description,
                    quantity=_qty(quantity),
                    outstanding=_qty(line.outstanding),
                )
            )
        shipment.lines.append(
            ShipmentLine(
                product_id=line.product_id,
                source_line_id=line.line_id,
                description=line.description,
                unit=line.unit,
                quantity=quantity,
            )
        )
    if not shipment.lines:
        raise StockError(_("Enter a quantity to ship on at least one line."))
    workflow.start(shipment, "transport_document")
    audit.record("transport_document.created", shipment, summary={"source": shipment.source_number})
    return shipment


def ship(shipment: Shipment) -> None:
    """Move the draft shipment along its workflow's ``ship`` step (as the platform)."""
    workflow.apply(shipment, "transport_document", "ship", role=workflow.SYSTEM)


SHIPMENT_DETAILS = (
    "shipment_date",
    "reason",
    "carrier",
    "packages",
    "weight_kg",
    "appearance",
    "destination",
    "notes",
    "custom",
)


def update_shipment(shipment: Shipment, values: dict[str, Any]) -> None:
    """Change a shipment's details (those in ``values``) while its state leaves them open:
    a shipped or cancelled DDT is locked (StockError naming the fields)."""
    changed = [
        key for key in SHIPMENT_DETAILS if key in values and getattr(shipment, key) != values[key]
    ]
    locked = [key for key in changed if workflow.is_locked(shipment, key)]
    if locked:
        raise StockError(
            _("This transport document can no longer change: %(fields)s.", fields=", ".join(locked))
        )
    for key in changed:
        setattr(shipment, key, values[key])
    db.session.flush()
    if changed:
        audit.record("transport_document.updated", shipment, summary={"fields": changed})


def _post_shipment(shipment: Shipment) -> None:
    sequence, number = numbering.next_number("transport_document", shipment.shipment_date)
    shipment.sequence, shipment.number = sequence, number
    delivered: list[tuple[int, Decimal]] = []
    stocked = set(
        db.session.execute(
            select(Product.id).where(
                Product.id.in_([line.product_id for line in shipment.lines if line.product_id]),
                Product.stocked.is_(True),
            )
        ).scalars()
    )
    for line in shipment.lines:
        if line.product_id in stocked:
            used = _consume_reservation(shipment.source_type, shipment.source_id, line)
            _take_unreserved(line.product_id, Decimal(line.quantity) - used)
            post_move(
                line.product_id,
                Decimal(line.quantity),
                move_type=MoveType.SHIPMENT,
                from_location_id=shipment.location_id,
                reference=("transport_document", shipment.id),
                on=shipment.shipment_date,
            )
        if line.source_line_id is not None:
            delivered.append((line.source_line_id, Decimal(line.quantity)))
    db.session.flush()
    if shipment.source_type:
        events.emit(
            "shipment.posted",
            source_type=shipment.source_type,
            source_id=shipment.source_id,
            lines=delivered,
            shipment=shipment,
        )


def _take_unreserved(product_id: int, quantity: Decimal) -> None:
    """Check that what a shipment takes beyond its own reservation is free.

    Without it a shipment could carry off goods reserved for other orders (and
    leave more reserved than on hand). Reserving and releasing in one go is the
    same atomic, conditional update that makes reservations safe.
    """
    if quantity <= 0:
        return
    if not reserve(product_id, quantity):
        stock = stock_of(product_id)
        raise StockError(
            _(
                "Not enough %(code)s: %(available)s available, %(needed)s needed.",
                code=_product(product_id).code,
                available=_qty(stock.available if stock else ZERO),
                needed=_qty(quantity),
            )
        )
    unreserve(product_id, quantity)


def _consume_reservation(
    source_type: str | None, source_id: int | None, line: ShipmentLine
) -> Decimal:
    """Release what the order reserved for this line, up to the quantity shipped; returns it."""
    if source_type is None or line.source_line_id is None:
        return ZERO
    rows = db.session.execute(
        select(Reservation)
        .where(
            Reservation.source_type == source_type,
            Reservation.source_id == source_id,
            Reservation.source_line_id == line.source_line_id,
            Reservation.quantity > 0,
        )
        .order_by(Reservation.id)
    ).scalars()
    left = Decimal(line.quantity)
    for row in rows:
        used = min(Decimal(row.quantity), left)
        if used <= 0:
            break
        unreserve(row.product_id, used)
        row.quantity = Decimal(row.quantity) - used
        left -= used
    return Decimal(line.quantity) - left


# --- receipts -------------------------------------------------------------------------------


def receive(
    *,
    lines: Iterable[tuple[int, Decimal, Decimal | None, int | None]],
    party_id: int | None = None,
    source: tuple[str, int, str | None] | None = None,
    receipt_date: date | None = None,
    location_id: int | None = None,
    supplier_document: str | None = None,
) -> Receipt:
    """Post goods in: ``lines`` are (product_id, quantity, unit_cost or None, source_line_id)."""
    receipt = Receipt(
        receipt_date=receipt_date or date.today(),
        party_id=party_id,
        location_id=location_id or default_location().id,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        source_number=source[2] if source else None,
        supplier_document=supplier_document,
    )
    db.session.add(receipt)
    db.session.flush()
    delivered = []
    for product_id, quantity, unit_cost, source_line_id in lines:
        quantity = Decimal(quantity)
        if quantity <= 0:
            continue
        product = _product(product_id)
        cost = Decimal(unit_cost) if unit_cost is not None else Decimal(product.purchase_cost)
        receipt.lines.append(
            ReceiptLine(
                product_id=product_id,
                quantity=quantity,
                unit_cost=cost,
                source_line_id=source_line_id,
            )
        )
        if product.stocked:
            post_move(
                product_id,
                quantity,
                move_type=MoveType.RECEIPT,
                to_location_id=receipt.location_id,
                unit_cost=cost,
                reference=("receipt", receipt.id),
                on=receipt.receipt_date,
            )
        if source_line_id is not None:
            delivered.append((source_line_id, quantity))
    if not receipt.lines:
        raise StockError(_("Enter a quantity received on at least one line."))
    db.session.flush()
    audit.record(
        "inventory.received",
        receipt,
        summary={"lines": len(receipt.lines), "source": receipt.source_number},
    )
    # every receipt (webhooks publish them); the orders module skips other sources
    events.emit(
        "receipt.posted",
        source_type=receipt.source_type,
        source_id=receipt.source_id,
        lines=delivered,
        receipt=receipt,
    )
    return receipt


# --- adjustments and counts --------------------------------------------------------------------


def adjust(
    product_id: int, location_id: int, new_quantity: Decimal, note: str | None = None
) -> StockMove | None:
    """Bring a location's quantity to ``new_quantity`` with an adjustment move."""
    with watch_low_stock([product_id]):
        return _adjust(product_id, location_id, new_quantity, note)


def _adjust(
    product_id: int, location_id: int, new_quantity: Decimal, note: str | None
) -> StockMove | None:
    _check_location(location_id)
    _ensure_rows(product_id, location_id)
    level = db.session.execute(
        select(StockLevel).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id
        )
    ).scalar_one()
    difference = Decimal(new_quantity) - Decimal(level.on_hand)
    if difference == 0:
        return None
    if difference > 0:
        return post_move(
            product_id,
            difference,
            move_type=MoveType.ADJUSTMENT,
            to_location_id=location_id,
            note=note,
        )
    return post_move(
        product_id,
        -difference,
        move_type=MoveType.ADJUSTMENT,
        from_location_id=location_id,
        note=note,
    )


def transfer(
    product_id: int, quantity: Decimal, from_location_id: int, to_location_id: int
) -> StockMove:
    if from_location_id == to_location_id:
        raise StockError(_("Choose two different locations."))
    return post_move(
        product_id,
        quantity,
        move_type=MoveType.TRANSFER,
        from_location_id=from_location_id,
        to_location_id=to_location_id,
    )


def start_count(
    location_id: int, product_ids: list[int] | None = None, note: str | None = None
) -> StockCount:
    """Snapshot the expected quantities of the stocked products at a location."""
    _check_location(location_id)
    query = select(Product).where(Product.stocked.is_(True), Product.archived.is_(False))
    if product_ids:
        query = query.where(Product.id.in_(product_ids))
    products = list(db.session.execute(query.order_by(Product.code)).scalars())
    levels = {
        level.product_id: level.on_hand
        for level in db.session.execute(
            select(StockLevel).where(StockLevel.location_id == location_id)
        ).scalars()
    }
    count = StockCount(count_date=date.today(), location_id=location_id, note=note)
    for product in products:
        count.lines.append(
            StockCountLine(product_id=product.id, expected=levels.get(product.id, ZERO))
        )
    db.session.add(count)
    db.session.flush()
    audit.record("inventory.count_started", count, summary={"products": len(products)})
    return count


def record_counted(count: StockCount, counted: dict[int, Decimal | None]) -> None:
    if count.status != "open":
        raise StockError(_("This count is already posted."))
    for line in count.lines:
        if line.product_id in counted:
            value = counted[line.product_id]
            if value is not None and Decimal(value) < 0:
                raise StockError(_("A counted quantity cannot be negative."))
            line.counted = value
    db.session.flush()


def post_count(count: StockCount) -> int:
    """Post an adjustment for every counted line that differs; returns how many."""
    # claimed with one conditional update, so two clerks posting at once post it once
    claimed = db.session.execute(
        update(StockCount)
        .where(StockCount.id == count.id, StockCount.status == "open")
        .values(status="posted", posted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.expire(count, ["status", "posted_at"])
        raise StockError(_("This count is already posted."))
    posted = 0
    for line in count.lines:
        if line.counted is None or line.difference == 0:
            continue
        adjust(line.product_id, count.location_id, Decimal(line.counted), note=f"count {count.id}")
        posted += 1
    db.session.expire(count, ["status", "posted_at"])
    db.session.flush()
    audit.record("inventory.count_posted", count, summary={"adjustments": posted})
    return posted


# --- reports -------------------------------------------------------------------------------


@dataclass
class StockRow:
    product: Product
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    average_cost: Decimal
    value: Decimal


def stock_query() -> Any:
    return (
        select(Product, ProductStock)
        .join(ProductStock, ProductStock.product_id == Product.id, isouter=True)
        .where(Product.stocked.is_(True))
    )


def low_stock_query() -> Any:
    available = ProductStock.on_hand - ProductStock.reserved
    return (
        select(Product, ProductStock)
        .join(ProductStock, ProductStock.product_id == Product.id, isouter=True)
        .where(Product.stocked.is_(True), Product.archived.is_(False), Product.reorder_point > 0)
        .where((available <= Product.reorder_point) | (ProductStock.id.is_(None)))
    )


def stock_value() -> Decimal:
    rows = db.session.execute(select(ProductStock.on_hand, ProductStock.average_cost)).all()
    return sum((Decimal(q) * Decimal(c) for q, c in rows if q and q > 0), ZERO).quantize(
        Decimal("0.01")
    )


def ledger_check() -> list[str]:
    """Recompute the levels from the ledger; every difference found, described."""
    problems = []
    totals: dict[int, Decimal] = {}
    per_location: dict[tuple[int, int], Decimal] = {}
    for move in db.session.execute(select(StockMove)).scalars():
        if move.from_location_id is not None:
            key = (move.product_id, move.from_location_id)
            per_location[key] = per_location.get(key, ZERO) - Decimal(move.quantity)
        if move.to_location_id is not None:
            key = (move.product_id, move.to_location_id)
            per_location[key] = per_location.get(key, ZERO) + Decimal(move.quantity)
        if (move.from_location_id is None) != (move.to_location_id is None):
            sign = 1 if move.to_location_id is not None else -1
            totals[move.product_id] = totals.get(move.product_id, ZERO) + sign * Decimal(
                move.quantity
            )
    for level in db.session.execute(select(StockLevel)).scalars():
        expected = per_location.get((level.product_id, level.location_id), ZERO)
        if Decimal(level.on_hand) != expected:
            problems.append(
                f"product {level.product_id} at location {level.location_id}: "
                f"{level.on_hand} != {expected}"
            )
    for stock in db.session.execute(select(ProductStock)).scalars():
        expected = totals.get(stock.product_id, ZERO)
        if Decimal(stock.on_hand) != expected:
            problems.append(
                f"product {stock.product_id}: on hand {stock.on_hand} != ledger {expected}"
            )
    return problems


def _qty(value: Decimal) -> str:
    """A quantity for a message, in the reader's format (2,5 in Italian)."""
    from flask_babel import format_decimal

    return format_decimal(Decimal(value), format="#,##0.###")
