"""REST API of inventory: stock levels, the ledger, shipments (DDT), receipts,
adjustments and stock counts, at ``/api/v1/<tenant>/inventory``.

Thin views over :mod:`distretto.modules.inventory.services`: the same rules as
the pages (goods move only for an agreed order, never more than is free, the
ledger and the levels in one transaction). Stock itself is read-only here; it
changes through receipts, shipments, adjustments and counts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.catalog.models import Product
from distretto.modules.inventory import services
from distretto.modules.inventory.models import (
    Location,
    MoveType,
    ProductStock,
    Receipt,
    Shipment,
    StockCount,
    StockLevel,
    StockMove,
)
from distretto.platform.listing import like_pattern
from distretto.sdk import (
    CustomFields,
    DecimalString,
    Problem,
    StockLine,
    UtcDateTime,
    api_blueprint,
    check_if_match,
    current_role,
    custom_field_filters,
    customfields,
    db,
    json_body,
    list_args,
    locked,
    page_schema,
    paginate,
    permission_required,
    respond,
    transition_input,
    workflow,
    workflow_step,
)

blp = api_blueprint(
    "inventory",
    __name__,
    "Stock levels and the stock ledger, shipments with their transport documents (DDT), "
    "receipts, adjustments and stock counts.",
)

DOCUMENT_TYPE = "transport_document"
MAX_QUANTITY = Decimal("99999999999.999")
MAX_COST = Decimal("9999999999.999999")
ETAG_HEADER = {
    "ETag": {"description": "The representation's version.", "schema": {"type": "string"}}
}


def _quantity(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        places=3,
        validate=validate.Range(
            min=Decimal("0.001"), max=MAX_QUANTITY, error="Between 0.001 and 99999999999.999."
        ),
        **kwargs,
    )


# --- schemas ---------------------------------------------------------------------------------


class LocationOut(Schema):
    id = fields.Integer()
    warehouse_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    label = fields.String(metadata={"description": "Warehouse/location code."})
    is_default = fields.Boolean()


class LevelOut(Schema):
    location_id = fields.Integer()
    on_hand = DecimalString(places=3)


class StockOut(Schema):
    """A stocked product's quantities: on hand, reserved for orders, free to promise."""

    product_id = fields.Integer()
    code = fields.String()
    description = fields.String()
    unit = fields.String()
    on_hand = DecimalString(places=3)
    reserved = DecimalString(places=3)
    available = DecimalString(places=3)
    average_cost = DecimalString(places=6)
    value = DecimalString(places=2)
    reorder_point = DecimalString(places=3)
    low = fields.Boolean(metadata={"description": "Available at or below the reorder point."})
    archived = fields.Boolean()


class StockDetailOut(StockOut):
    locations = fields.List(fields.Nested(LevelOut))


class MoveOut(Schema):
    id = fields.Integer()
    move_date = fields.Date()
    move_type = fields.String(metadata={"description": ", ".join(MoveType.ALL)})
    product_id = fields.Integer()
    quantity = DecimalString(places=3)
    from_location_id = fields.Integer(allow_none=True)
    to_location_id = fields.Integer(allow_none=True)
    unit_cost = DecimalString(places=6, allow_none=True)
    reference_type = fields.String(allow_none=True)
    reference_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = UtcDateTime()


class ShipmentLineOut(Schema):
    id = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    source_line_id = fields.Integer(allow_none=True)
    description = fields.String()
    unit = fields.String()
    quantity = DecimalString(places=3)


class ShipmentOut(Schema):
    """A shipment and its transport document (numbered when shipped)."""

    id = fields.Integer()
    number = fields.String(allow_none=True, metadata={"description": "Given when shipped."})
    state = fields.String(metadata={"description": "The state in the firm's workflow."})
    shipment_date = fields.Date()
    party_id = fields.Integer()
    location_id = fields.Integer()
    source_type = fields.String(allow_none=True)
    source_id = fields.Integer(allow_none=True)
    source_number = fields.String(allow_none=True)
    reason = fields.String()
    carrier = fields.String()
    packages = fields.Integer(allow_none=True)
    weight_kg = DecimalString(places=2, allow_none=True)
    appearance = fields.String(allow_none=True)
    destination = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    invoiced = fields.Boolean()
    custom = CustomFields(DOCUMENT_TYPE, output=True)
    created_at = UtcDateTime()
    lines = fields.List(fields.Nested(ShipmentLineOut))


class SourceIn(Schema):
    document_type = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The document that carries the goods, e.g. sales_order."},
    )
    document_id = fields.Integer(required=True, validate=validate.Range(min=1))


class ShipmentLineIn(Schema):
    class Meta:
        unknown = EXCLUDE

    source_line_id = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "With a source: the line of the document to ship."},
    )
    product_id = fields.Integer(validate=validate.Range(min=1))
    description = fields.String(validate=validate.Length(min=1, max=300))
    unit = fields.String(validate=validate.Length(min=1, max=10))
    quantity = _quantity(required=True)


CARRIERS = ("mittente", "destinatario", "vettore")


class ShipmentIn(Schema):
    """A shipment from a document (``source``) or standalone (``party_id`` and lines)."""

    class Meta:
        unknown = EXCLUDE

    source = fields.Nested(SourceIn)
    party_id = fields.Integer(validate=validate.Range(min=1))
    lines = fields.List(
        fields.Nested(ShipmentLineIn),
        validate=validate.Length(max=500),
        metadata={"description": "With a source, leave out to ship everything outstanding."},
    )
    shipment_date = fields.Date()
    location_id = fields.Integer(validate=validate.Range(min=1))
    reason = fields.String(validate=validate.Length(min=1, max=60))
    carrier = fields.String(validate=validate.OneOf(CARRIERS))
    packages = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    weight_kg = fields.Decimal(
        allow_none=True, places=2, validate=validate.Range(min=0, max=Decimal("99999999.99"))
    )
    appearance = fields.String(allow_none=True, validate=validate.Length(max=60))
    destination = fields.String(allow_none=True, validate=validate.Length(max=300))
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    custom = CustomFields(DOCUMENT_TYPE, load_default=dict)
    ship = fields.Boolean(
        load_default=False,
        metadata={"description": "Ship at once (move the goods, number the DDT)."},
    )

    @validates_schema
    def source_or_party(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("source") is None:
            if data.get("party_id") is None:
                raise ValidationError({"party_id": ["Send a source document or a party_id."]})
            if not data.get("lines"):
                raise ValidationError({"lines": ["A shipment without a source needs lines."]})


class ShipmentDetailsIn(Schema):
    """What may change on a shipment being prepared (its lines are chosen at creation)."""

    shipment_date = fields.Date()
    reason = fields.String(validate=validate.Length(min=1, max=60))
    carrier = fields.String(validate=validate.OneOf(CARRIERS))
    packages = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    weight_kg = fields.Decimal(
        allow_none=True, places=2, validate=validate.Range(min=0, max=Decimal("99999999.99"))
    )
    appearance = fields.String(allow_none=True, validate=validate.Length(max=60))
    destination = fields.String(allow_none=True, validate=validate.Length(max=300))
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    custom = CustomFields(DOCUMENT_TYPE)


class ReceiptLineOut(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    source_line_id = fields.Integer(allow_none=True)
    quantity = DecimalString(places=3)
    unit_cost = DecimalString(places=6)


class ReceiptOut(Schema):
    id = fields.Integer()
    receipt_date = fields.Date()
    party_id = fields.Integer(allow_none=True)
    location_id = fields.Integer()
    source_type = fields.String(allow_none=True)
    source_id = fields.Integer(allow_none=True)
    source_number = fields.String(allow_none=True)
    supplier_document = fields.String(allow_none=True)
    created_at = UtcDateTime()
    lines = fields.List(fields.Nested(ReceiptLineOut))


class ReceiptLineIn(Schema):
    class Meta:
        unknown = EXCLUDE

    source_line_id = fields.Integer(validate=validate.Range(min=1))
    product_id = fields.Integer(validate=validate.Range(min=1))
    quantity = _quantity(required=True)
    unit_cost = fields.Decimal(
        places=6, allow_none=True, validate=validate.Range(min=0, max=MAX_COST)
    )


class ReceiptIn(Schema):
    """Goods in, posted at once: from a document (``source``) or standalone."""

    class Meta:
        unknown = EXCLUDE

    source = fields.Nested(SourceIn)
    party_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    lines = fields.List(
        fields.Nested(ReceiptLineIn),
        validate=validate.Length(max=500),
        metadata={"description": "With a source, leave out to receive everything outstanding."},
    )
    receipt_date = fields.Date()
    location_id = fields.Integer(validate=validate.Range(min=1))
    supplier_document = fields.String(allow_none=True, validate=validate.Length(max=60))

    @validates_schema
    def lines_without_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("source") is None and not data.get("lines"):
            raise ValidationError({"lines": ["A receipt without a source needs lines."]})


class AdjustmentIn(Schema):
    product_id = fields.Integer(required=True, validate=validate.Range(min=1))
    location_id = fields.Integer(validate=validate.Range(min=1))
    quantity = fields.Decimal(
        required=True,
        places=3,
        validate=validate.Range(min=0, max=MAX_QUANTITY),
        metadata={"description": "The quantity the location holds now (counted)."},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=300))


class AdjustmentOut(Schema):
    move = fields.Nested(MoveOut, allow_none=True, metadata={"description": "None: no change."})
    stock = fields.Nested(StockOut)


class CountLineOut(Schema):
    product_id = fields.Integer()
    expected = DecimalString(places=3)
    counted = DecimalString(places=3, allow_none=True)
    difference = DecimalString(places=3, allow_none=True)


class CountOut(Schema):
    id = fields.Integer()
    count_date = fields.Date()
    location_id = fields.Integer()
    status = fields.String(metadata={"description": "open or posted"})
    note = fields.String(allow_none=True)
    created_at = UtcDateTime()
    posted_at = UtcDateTime(allow_none=True)
    lines = fields.List(fields.Nested(CountLineOut))


class CountIn(Schema):
    location_id = fields.Integer(validate=validate.Range(min=1))
    product_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1)),
        validate=validate.Length(max=5000),
        metadata={"description": "Leave out to count every stocked product."},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=300))


class CountedLineIn(Schema):
    product_id = fields.Integer(required=True, validate=validate.Range(min=1))
    counted = fields.Decimal(
        required=True, allow_none=True, places=3, validate=validate.Range(min=0, max=MAX_QUANTITY)
    )


class CountedIn(Schema):
    lines = fields.List(
        fields.Nested(CountedLineIn), required=True, validate=validate.Length(max=5000)
    )
    post = fields.Boolean(
        load_default=False, metadata={"description": "Post the adjustments right after."}
    )


# --- lists' arguments --------------------------------------------------------------------------

STOCK_SORTS = {
    "code": Product.code,
    "description": Product.description,
    "on_hand": ProductStock.on_hand,
    "reserved": ProductStock.reserved,
}
StockListArgs = list_args(
    "StockListArgs",
    list(STOCK_SORTS),
    "code",
    q=fields.String(
        validate=validate.Length(max=200), metadata={"description": "Search code, description."}
    ),
    low=fields.Boolean(metadata={"description": "Only products at or below the reorder point."}),
    archived=fields.Boolean(load_default=False, metadata={"description": "Archived products."}),
)
MOVE_SORTS = {"date": StockMove.move_date, "created_at": StockMove.created_at}
MoveListArgs = list_args(
    "MoveListArgs",
    list(MOVE_SORTS),
    "-date",
    product_id=fields.Integer(validate=validate.Range(min=1)),
    location_id=fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Moves from or to it."}
    ),
    move_type=fields.String(validate=validate.OneOf(MoveType.ALL)),
    reference_type=fields.String(
        validate=validate.Length(max=40), metadata={"description": "transport_document, receipt"}
    ),
    reference_id=fields.Integer(validate=validate.Range(min=1)),
    date_from=fields.Date(),
    date_to=fields.Date(),
)
SHIPMENT_SORTS = {
    "date": Shipment.shipment_date,
    "number": Shipment.number,
    "state": Shipment.state,
    "created_at": Shipment.created_at,
}
ShipmentListArgs = list_args(
    "ShipmentListArgs",
    list(SHIPMENT_SORTS),
    "-date",
    state=fields.String(validate=validate.Length(max=40)),
    party_id=fields.Integer(validate=validate.Range(min=1)),
    source_type=fields.String(validate=validate.Length(max=40)),
    source_id=fields.Integer(validate=validate.Range(min=1)),
    invoiced=fields.Boolean(),
    date_from=fields.Date(),
    date_to=fields.Date(),
)
RECEIPT_SORTS = {"date": Receipt.receipt_date, "created_at": Receipt.created_at}
ReceiptListArgs = list_args(
    "ReceiptListArgs",
    list(RECEIPT_SORTS),
    "-date",
    party_id=fields.Integer(validate=validate.Range(min=1)),
    source_type=fields.String(validate=validate.Length(max=40)),
    source_id=fields.Integer(validate=validate.Range(min=1)),
    date_from=fields.Date(),
    date_to=fields.Date(),
)
COUNT_SORTS = {"date": StockCount.count_date, "created_at": StockCount.created_at}
CountListArgs = list_args(
    "CountListArgs",
    list(COUNT_SORTS),
    "-date",
    status=fields.String(validate=validate.OneOf(["open", "posted"])),
)
LocationListArgs = list_args("LocationListArgs", ["code"], "code")


# --- helpers ---------------------------------------------------------------------------------


def _refused(exc: Exception, status: int = 409) -> Problem:
    """A rule of the service said no: the message is the reason (the session is rolled back
    to before the request's change, so nothing half-written is kept)."""
    db.session.rollback()
    return Problem(status, str(exc), code="refused")


def _stock_row(product: Product, stock: ProductStock | None) -> dict[str, Any]:
    on_hand = Decimal(stock.on_hand) if stock else Decimal(0)
    reserved = Decimal(stock.reserved) if stock else Decimal(0)
    available = on_hand - reserved
    return {
        "product_id": product.id,
        "code": product.code,
        "description": product.description,
        "unit": product.unit,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": available,
        "average_cost": Decimal(stock.average_cost) if stock else Decimal(0),
        "value": stock.value if stock else Decimal("0.00"),
        "reorder_point": Decimal(product.reorder_point),
        "low": Decimal(product.reorder_point) > 0 and available <= Decimal(product.reorder_point),
        "archived": product.archived,
    }


def _stock_detail(product_id: int) -> dict[str, Any]:
    product = db.session.get(Product, product_id)
    if product is None or not product.stocked:
        raise Problem(404, _("No such stocked product."))
    row = _stock_row(product, services.stock_of(product_id))
    row["locations"] = [
        {"location_id": level.location_id, "on_hand": level.on_hand}
        for level in db.session.execute(
            select(StockLevel)
            .where(StockLevel.product_id == product_id)
            .order_by(StockLevel.location_id)
        ).scalars()
    ]
    return StockDetailOut().dump(row)


def _shipment(shipment_id: int, *, lock: bool = False) -> Shipment:
    query = select(Shipment).where(Shipment.id == shipment_id).options(selectinload(Shipment.lines))
    shipment = db.session.execute(locked(query, Shipment) if lock else query).scalar_one_or_none()
    if shipment is None:
        raise Problem(404, _("No such shipment."))
    return shipment


def _receipt(receipt_id: int) -> Receipt:
    receipt = db.session.execute(
        select(Receipt).where(Receipt.id == receipt_id).options(selectinload(Receipt.lines))
    ).scalar_one_or_none()
    if receipt is None:
        raise Problem(404, _("No such receipt."))
    return receipt


def _count(count_id: int) -> StockCount:
    count = db.session.execute(
        select(StockCount).where(StockCount.id == count_id).options(selectinload(StockCount.lines))
    ).scalar_one_or_none()
    if count is None:
        raise Problem(404, _("No such stock count."))
    return count


def _location_id(value: int | None) -> int:
    if value is None:
        return services.default_location().id
    if db.session.get(Location, value) is None:
        raise ValidationError({"location_id": ["Unknown location."]})
    return value


def _source(source: dict[str, Any], direction: str) -> Any:
    """The document that carries the goods; 422 unless it is the firm's and goes ``direction``,
    409 when its state does not let goods move (the pages' rule)."""
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get(source["document_type"])
    document = None
    if doc_type is not None and hasattr(doc_type.model, "stock_lines"):
        document = db.session.get(doc_type.model, source["document_id"])
    if (
        document is None
        or getattr(document, "document_type", source["document_type"]) != source["document_type"]
        or getattr(document, "stock_direction", direction) != direction
    ):
        raise ValidationError({"source": ["No such document carrying goods this way."]})
    refusal = services.goods_refusal(document)
    if refusal:
        raise Problem(409, refusal, code="goods_cannot_move")
    return document


def _chosen_lines(document: Any, wanted: list[dict[str, Any]] | None) -> list[tuple[Any, Decimal]]:
    """(StockLine, quantity) pairs: what ``wanted`` names, else everything outstanding."""
    lines = {line.line_id: line for line in document.stock_lines() if line.outstanding > 0}
    if wanted is None:
        return [(line, line.outstanding) for line in lines.values()]
    chosen, errors = [], {}
    for index, item in enumerate(wanted):
        line = lines.get(item.get("source_line_id"))
        if line is None:
            errors[index] = {"source_line_id": ["Not a line of the document with goods to move."]}
        elif item["quantity"] > line.outstanding:
            errors[index] = {"quantity": [f"More than the {line.outstanding} outstanding."]}
        else:
            chosen.append((line, item["quantity"]))
    if errors:
        raise ValidationError({"lines": errors})
    return chosen


def _free_lines(items: list[dict[str, Any]]) -> list[tuple[Any, Decimal]]:
    """Standalone shipment lines as StockLines (a product's, or a described one)."""
    chosen, errors = [], {}
    for index, item in enumerate(items):
        product = db.session.get(Product, item["product_id"]) if item.get("product_id") else None
        if item.get("product_id") and product is None:
            errors[index] = {"product_id": ["Unknown product."]}
            continue
        description = item.get("description") or (product.description if product else None)
        if not description:
            errors[index] = {"description": ["Choose a product or write a description."]}
            continue
        quantity = item["quantity"]
        chosen.append(
            (
                StockLine(
                    line_id=None,  # type: ignore[arg-type]
                    product_id=product.id if product else None,
                    description=description,
                    unit=item.get("unit") or (product.unit if product else "pz"),
                    quantity=quantity,
                    outstanding=quantity,
                ),
                quantity,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    return chosen


def _apply(shipment: Shipment, name: str, comment: str | None) -> None:
    workflow_step(shipment, name)
    workflow.apply(shipment, DOCUMENT_TYPE, name, role=current_role(), comment=comment)


# --- stock and ledger ------------------------------------------------------------------------


@blp.route("/stock", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(StockListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(StockOut))
def list_stock(args: dict[str, Any]) -> Any:
    """Stock per stocked product: on hand, reserved, available, average cost and value."""
    query = (
        select(Product)
        .join(ProductStock, ProductStock.product_id == Product.id, isouter=True)
        .where(Product.stocked.is_(True), Product.archived.is_(args["archived"]))
    )
    if args.get("low"):
        available = ProductStock.on_hand - ProductStock.reserved
        query = query.where(
            Product.reorder_point > 0,
            (available <= Product.reorder_point) | ProductStock.id.is_(None),
        )
    if args.get("q"):
        pattern = like_pattern(args["q"].strip())
        query = query.where(
            Product.code.ilike(pattern, escape="\\")
            | Product.description.ilike(pattern, escape="\\")
        )

    def dump(products: list[Product]) -> list[dict[str, Any]]:
        stocks = {
            s.product_id: s
            for s in db.session.execute(
                select(ProductStock).where(ProductStock.product_id.in_([p.id for p in products]))
            ).scalars()
        }
        return StockOut(many=True).dump([_stock_row(p, stocks.get(p.id)) for p in products])

    return paginate(query, args, STOCK_SORTS, dump)


@blp.route("/stock/<int:product_id>", methods=["GET"])
@permission_required("inventory.view")
@blp.response(200, StockDetailOut, headers=ETAG_HEADER)
def get_stock(product_id: int) -> Any:
    """One product's stock, with what each location holds."""
    return respond(_stock_detail(product_id))


@blp.route("/locations", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(LocationListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(LocationOut))
def list_locations(args: dict[str, Any]) -> Any:
    """The firm's active stock locations (warehouse/location)."""
    query = select(Location).where(Location.active.is_(True))
    return paginate(query, args, {"code": Location.code}, LocationOut(many=True).dump)


@blp.route("/moves", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(MoveListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(MoveOut))
def list_moves(args: dict[str, Any]) -> Any:
    """The stock ledger: every receipt, shipment, transfer and adjustment, never changed."""
    query = select(StockMove)
    for key in ("product_id", "move_type", "reference_type", "reference_id"):
        if args.get(key) is not None:
            query = query.where(getattr(StockMove, key) == args[key])
    if args.get("location_id"):
        query = query.where(
            (StockMove.from_location_id == args["location_id"])
            | (StockMove.to_location_id == args["location_id"])
        )
    if args.get("date_from"):
        query = query.where(StockMove.move_date >= args["date_from"])
    if args.get("date_to"):
        query = query.where(StockMove.move_date <= args["date_to"])
    return paginate(query, args, MOVE_SORTS, MoveOut(many=True).dump)


@blp.route("/adjustments", methods=["POST"])
@permission_required("inventory.adjust")
@blp.body(AdjustmentIn)
@blp.response(201, AdjustmentOut)
def adjust() -> Any:
    """Set what a location holds (after counting it): one adjustment move in the ledger."""
    values = AdjustmentIn().load(json_body(AdjustmentIn))
    location_id = _location_id(values.get("location_id"))
    product = db.session.get(Product, values["product_id"])
    if product is None:
        raise ValidationError({"product_id": ["Unknown product."]})
    try:
        move = services.adjust(product.id, location_id, values["quantity"], values.get("note"))
    except services.StockError as exc:
        raise _refused(exc, 422) from exc
    db.session.flush()
    stock = _stock_row(product, services.stock_of(product.id))
    body = AdjustmentOut().dump({"move": move, "stock": stock})
    return respond(body, 201, etag=False)


# --- shipments -------------------------------------------------------------------------------


@blp.route("/shipments", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(ShipmentListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(ShipmentOut))
def list_shipments(args: dict[str, Any]) -> Any:
    """List shipments and their transport documents. Filter on the firm's custom fields with
    cf_<name>=value or cf_<name>__<op>=value (op: eq, ne, gt, gte, lt, lte, contains, empty)."""
    query = select(Shipment).options(selectinload(Shipment.lines))
    for key in ("state", "party_id", "source_type", "source_id", "invoiced"):
        if args.get(key) is not None:
            query = query.where(getattr(Shipment, key) == args[key])
    if args.get("date_from"):
        query = query.where(Shipment.shipment_date >= args["date_from"])
    if args.get("date_to"):
        query = query.where(Shipment.shipment_date <= args["date_to"])
    for clause in custom_field_filters(Shipment, DOCUMENT_TYPE):
        query = query.where(clause)
    return paginate(query, args, SHIPMENT_SORTS, ShipmentOut(many=True).dump)


@blp.route("/shipments", methods=["POST"])
@permission_required("inventory.ship")
@blp.body(ShipmentIn)
@blp.response(201, ShipmentOut, headers=ETAG_HEADER)
def create_shipment() -> Any:
    """Prepare a shipment (a draft DDT): from a confirmed sales order (``source``; all that is
    outstanding unless ``lines`` name source lines and quantities) or standalone (``party_id``
    and product or described lines). ``ship: true`` ships it at once; 409 when the order's
    state does not let goods move or stock is short."""
    values = ShipmentIn().load(json_body(ShipmentIn))
    custom = customfields.clean(DOCUMENT_TYPE, values.get("custom") or {})
    if values.get("source"):
        document = _source(values["source"], "out")
        lines = _chosen_lines(document, values.get("lines"))
        party_id = document.party_id
        source = (
            values["source"]["document_type"],
            document.id,
            getattr(document, "number", None),
        )
    else:
        lines = _free_lines(values["lines"])
        party_id, source = values["party_id"], None
    details = {
        key: values[key]
        for key in ("reason", "carrier", "packages", "weight_kg", "appearance", "destination")
        if values.get(key) is not None
    }
    details["notes"] = values.get("notes")
    details["custom"] = custom
    try:
        shipment = services.create_shipment(
            party_id=party_id,
            lines=lines,
            source=source,
            shipment_date=values.get("shipment_date"),
            location_id=_location_id(values.get("location_id")),
            details=details,
        )
        db.session.flush()
        if values["ship"]:
            _apply(shipment, "ship", None)
    except (services.StockError, workflow.TransitionRefused) as exc:
        raise _refused(exc) from exc
    db.session.flush()
    return respond(
        ShipmentOut().dump(shipment),
        201,
        location=url_for(".get_shipment", shipment_id=shipment.id),
    )


@blp.route("/shipments/<int:shipment_id>", methods=["GET"])
@permission_required("inventory.view")
@blp.response(200, ShipmentOut, headers=ETAG_HEADER)
def get_shipment(shipment_id: int) -> Any:
    """One shipment with its lines."""
    return respond(ShipmentOut().dump(_shipment(shipment_id)))


@blp.route("/shipments/<int:shipment_id>", methods=["PATCH"])
@permission_required("inventory.ship")
@blp.body(ShipmentDetailsIn)
@blp.response(200, ShipmentOut, headers=ETAG_HEADER)
def update_shipment(shipment_id: int) -> Any:
    """Change a shipment being prepared (packages, weight, destination, custom fields...):
    send only what changes. If-Match required (428 without, 412 when stale); 409 once
    shipped or cancelled."""
    shipment = _shipment(shipment_id, lock=True)
    check_if_match(ShipmentOut().dump(shipment))
    values = ShipmentDetailsIn().load(json_body(ShipmentDetailsIn))
    if "custom" in values:
        values["custom"] = customfields.clean(
            DOCUMENT_TYPE, values["custom"] or {}, existing=dict(shipment.custom or {})
        )
    try:
        services.update_shipment(shipment, values)
    except services.StockError as exc:
        raise _refused(exc) from exc
    db.session.flush()
    return respond(ShipmentOut().dump(shipment))


@blp.route("/shipments/<int:shipment_id>/transitions/<name>", methods=["POST"])
@permission_required("inventory.view")
@blp.response(200, ShipmentOut, headers=ETAG_HEADER)
def shipment_transition(shipment_id: int, name: str) -> Any:
    """Move a shipment through its workflow: ``ship`` (moves the goods, numbers the DDT) or
    ``cancel``; 409 with the reason when refused (stock short, wrong state)."""
    shipment = _shipment(shipment_id, lock=True)
    values = transition_input()
    try:
        _apply(shipment, name, values.get("comment"))
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        raise Problem(409, str(exc), code="transition_refused", extra={"reason": exc.code}) from exc
    db.session.flush()
    return respond(ShipmentOut().dump(shipment))


@blp.route("/shipments/<int:shipment_id>/pdf", methods=["GET"])
@permission_required("inventory.view")
@blp.doc(
    responses={
        "200": {
            "description": "The transport document as PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def shipment_pdf(shipment_id: int) -> Any:
    """The printed transport document (409 until the shipment is shipped and numbered)."""
    from distretto.modules.inventory.printing import transport_document_pdf

    shipment = _shipment(shipment_id)
    if shipment.number is None:
        raise Problem(409, _("The transport document gets its number when it is shipped."))
    return Response(
        transport_document_pdf(shipment),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{shipment.number}.pdf"'},
    )


# --- receipts --------------------------------------------------------------------------------


@blp.route("/receipts", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(ReceiptListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(ReceiptOut))
def list_receipts(args: dict[str, Any]) -> Any:
    """Goods received."""
    query = select(Receipt).options(selectinload(Receipt.lines))
    for key in ("party_id", "source_type", "source_id"):
        if args.get(key) is not None:
            query = query.where(getattr(Receipt, key) == args[key])
    if args.get("date_from"):
        query = query.where(Receipt.receipt_date >= args["date_from"])
    if args.get("date_to"):
        query = query.where(Receipt.receipt_date <= args["date_to"])
    return paginate(query, args, RECEIPT_SORTS, ReceiptOut(many=True).dump)


@blp.route("/receipts", methods=["POST"])
@permission_required("inventory.receive")
@blp.body(ReceiptIn)
@blp.response(201, ReceiptOut, headers=ETAG_HEADER)
def create_receipt() -> Any:
    """Receive goods, posted at once: from a sent purchase order (``source``; all outstanding
    unless ``lines`` name source lines) or standalone product lines (``unit_cost`` defaults to
    the product's purchase cost)."""
    values = ReceiptIn().load(json_body(ReceiptIn))
    party_id = values.get("party_id")
    source = None
    if values.get("source"):
        document = _source(values["source"], "in")
        chosen = [
            (line.product_id, quantity, line.unit_cost, line.line_id)
            for line, quantity in _chosen_lines(document, values.get("lines"))
            if line.product_id
        ]
        party_id = getattr(document, "party_id", None)
        source = (values["source"]["document_type"], document.id, getattr(document, "number", None))
    else:
        chosen, errors = [], {}
        for index, item in enumerate(values["lines"]):
            if not item.get("product_id") or db.session.get(Product, item["product_id"]) is None:
                errors[index] = {"product_id": ["Unknown product."]}
            else:
                chosen.append((item["product_id"], item["quantity"], item.get("unit_cost"), None))
        if errors:
            raise ValidationError({"lines": errors})
    if party_id is not None:
        from distretto.modules.catalog.models import Party

        if db.session.get(Party, party_id) is None:
            raise ValidationError({"party_id": ["Unknown supplier."]})
    try:
        receipt = services.receive(
            lines=chosen,
            party_id=party_id,
            source=source,
            receipt_date=values.get("receipt_date"),
            location_id=_location_id(values.get("location_id")),
            supplier_document=values.get("supplier_document"),
        )
    except services.StockError as exc:
        raise _refused(exc, 422) from exc
    db.session.flush()
    return respond(
        ReceiptOut().dump(receipt),
        201,
        location=url_for(".get_receipt", receipt_id=receipt.id),
    )


@blp.route("/receipts/<int:receipt_id>", methods=["GET"])
@permission_required("inventory.view")
@blp.response(200, ReceiptOut, headers=ETAG_HEADER)
def get_receipt(receipt_id: int) -> Any:
    """One receipt with its lines."""
    return respond(ReceiptOut().dump(_receipt(receipt_id)))


# --- stock counts ----------------------------------------------------------------------------


@blp.route("/counts", methods=["GET"])
@permission_required("inventory.view")
@blp.arguments(CountListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(CountOut))
def list_counts(args: dict[str, Any]) -> Any:
    """Stock counts, open and posted."""
    query = select(StockCount).options(selectinload(StockCount.lines))
    if args.get("status"):
        query = query.where(StockCount.status == args["status"])
    return paginate(query, args, COUNT_SORTS, CountOut(many=True).dump)


@blp.route("/counts", methods=["POST"])
@permission_required("inventory.adjust")
@blp.body(CountIn)
@blp.response(201, CountOut, headers=ETAG_HEADER)
def create_count() -> Any:
    """Start a count at a location: the expected quantities are taken now."""
    values = CountIn().load(json_body(CountIn))
    try:
        count = services.start_count(
            _location_id(values.get("location_id")), values.get("product_ids"), values.get("note")
        )
    except services.StockError as exc:
        raise _refused(exc, 422) from exc
    return respond(CountOut().dump(count), 201, location=url_for(".get_count", count_id=count.id))


@blp.route("/counts/<int:count_id>", methods=["GET"])
@permission_required("inventory.view")
@blp.response(200, CountOut, headers=ETAG_HEADER)
def get_count(count_id: int) -> Any:
    """One stock count with its lines."""
    return respond(CountOut().dump(_count(count_id)))


@blp.route("/counts/<int:count_id>/counted", methods=["POST"])
@permission_required("inventory.adjust")
@blp.body(CountedIn)
@blp.response(200, CountOut, headers=ETAG_HEADER)
def record_counted(count_id: int) -> Any:
    """Record counted quantities (null clears one); ``post: true`` posts the count after.
    409 when the count is already posted."""
    count = _count(count_id)
    values = CountedIn().load(json_body(CountedIn))
    known = {line.product_id for line in count.lines}
    unknown = {
        index: {"product_id": ["Not a product of this count."]}
        for index, line in enumerate(values["lines"])
        if line["product_id"] not in known
    }
    if unknown:
        raise ValidationError({"lines": unknown})
    try:
        services.record_counted(
            count, {line["product_id"]: line["counted"] for line in values["lines"]}
        )
        if values["post"]:
            services.post_count(count)
    except services.StockError as exc:
        raise _refused(exc) from exc
    db.session.flush()
    return respond(CountOut().dump(_count(count_id)))


@blp.route("/counts/<int:count_id>/post", methods=["POST"])
@permission_required("inventory.adjust")
@blp.response(200, CountOut, headers=ETAG_HEADER)
def post_count(count_id: int) -> Any:
    """Post a count: an adjustment for every counted line that differs (409 if posted)."""
    count = _count(count_id)
    try:
        services.post_count(count)
    except services.StockError as exc:
        raise _refused(exc) from exc
    db.session.flush()
    return respond(CountOut().dump(_count(count_id)))


__all__ = ["ShipmentOut", "blp"]
