"""Pages of inventory: stock, ledger, shipments with DDT, receipts, adjustments, counts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.catalog.models import Party, Product
from distretto.modules.inventory import imports as _imports  # noqa: F401 - registers its CSV imports
from distretto.modules.inventory import lists, services
from distretto.modules.inventory.forms import (
    AdjustForm,
    CountForm,
    EmptyForm,
    ReceiveForm,
    SettingsForm,
    ShipForm,
    TransferForm,
)
from distretto.modules.inventory.models import (
    ProductStock,
    Receipt,
    Shipment,
    StockCount,
    StockMove,
)
from distretto.modules.inventory.printing import transport_document_pdf
from distretto.platform.forms import select_choices
from distretto.platform.listing import like_pattern, paginate
from distretto.sdk import (
    current_role,
    db,
    listviews,
    permission_required,
    tenant_blueprint,
    workflow,
)

bp = tenant_blueprint("inventory", __name__, "/inventory", template_folder="templates")

CARRIERS = [
    ("mittente", _l("Sender")),
    ("destinatario", _l("Recipient")),
    ("vettore", _l("Carrier")),
]
MAX_QUANTITY = Decimal("100000000000")
STOCK_SORTS = {
    "code": Product.code,
    "description": Product.description,
    "on_hand": ProductStock.on_hand,
}


def _decimal(text: str | None) -> Decimal | None:
    if text is None or not str(text).strip():
        return None
    value = str(text).strip().replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    # NaN would break every comparison; beyond the columns' 11 integer digits the database refuses
    if not number.is_finite() or abs(number) >= MAX_QUANTITY:
        return None
    return number


def _product_by_code(code: str | None) -> Product | None:
    if not code:
        return None
    return db.session.execute(
        select(Product).where(Product.code == code.strip())
    ).scalar_one_or_none()


def _location_choices() -> list[Any]:
    return select_choices([(loc.id, loc.label) for loc in services.locations()])


# --- stock --------------------------------------------------------------------------


@bp.get("/stock")
@permission_required("inventory.view")
def stock() -> Any:
    low = request.args.get("low") == "1"
    query = services.low_stock_query() if low else services.stock_query()
    q = request.args.get("q")
    if q:
        pattern = like_pattern(q.strip())
        query = query.where(
            Product.code.ilike(pattern, escape="\\")
            | Product.description.ilike(pattern, escape="\\")
        )
    page = _paginate_pairs(query)
    return render_template(
        "inventory/stock.html", page=page, low=low, total_value=services.stock_value()
    )


def _paginate_pairs(query: Any) -> Any:
    """paginate() for (Product, ProductStock) rows."""
    from sqlalchemy import func

    from distretto.platform.listing import Page

    sort = request.args.get("sort") or "code"
    key = sort.lstrip("-")
    column = STOCK_SORTS.get(key, Product.code)
    order = column.desc() if sort.startswith("-") else column.asc()
    try:
        page_number = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_number = 1
    per_page = 50
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(
        query.order_by(order, Product.id).limit(per_page).offset((page_number - 1) * per_page)
    ).all()
    return Page(
        items=rows,
        total=total,
        page=page_number,
        per_page=per_page,
        sort=sort if key in STOCK_SORTS else "code",
    )


@bp.get("/products/<int:product_id>/moves")
@permission_required("inventory.view")
def product_moves(product_id: int) -> Any:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    query = select(StockMove).where(StockMove.product_id == product_id)
    page = paginate(query, request.args, {"id": StockMove.id}, "-id")
    return render_template(
        "inventory/moves.html",
        product=product,
        page=page,
        stock=services.stock_of(product_id),
        locations={loc.id: loc for loc in services.locations()},
    )


# --- shipments (DDT) -------------------------------------------------------------------------


@bp.get("/shipments")
@permission_required("inventory.view")
def shipments() -> Any:
    return listviews.render(lists.SHIPMENTS, "inventory/shipments.html")


def _parties(ids: set[int]) -> dict[int, Party]:
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(select(Party).where(Party.id.in_(ids))).scalars()}


def _shipment_or_404(shipment_id: int) -> Shipment:
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        abort(404)
    return shipment


@bp.get("/shipments/<int:shipment_id>")
@permission_required("inventory.view")
def shipment_detail(shipment_id: int) -> Any:
    shipment = _shipment_or_404(shipment_id)
    _row, definition = workflow.engine.definition_of(shipment)
    return render_template(
        "inventory/shipment_detail.html",
        shipment=shipment,
        party=db.session.get(Party, shipment.party_id),
        definition=definition,
        transitions=workflow.available_transitions(shipment, "transport_document", current_role()),
        history=workflow.history(shipment, "transport_document"),
        form=EmptyForm(),
    )


@bp.post("/shipments/<int:shipment_id>/transitions/<name>")
@permission_required("inventory.view")
def shipment_transition(shipment_id: int, name: str) -> Any:
    shipment = _shipment_or_404(shipment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        workflow.apply(
            shipment,
            "transport_document",
            name,
            role=current_role(),
            comment=request.form.get("comment"),
        )
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("inventory.shipment_detail", shipment_id=shipment.id)), 303
    return redirect(url_for("inventory.shipment_detail", shipment_id=shipment.id))


@bp.get("/shipments/<int:shipment_id>.pdf")
@permission_required("inventory.view")
def shipment_pdf(shipment_id: int) -> Any:
    shipment = _shipment_or_404(shipment_id)
    if shipment.number is None:
        flash(_("The transport document gets its number when it is shipped."), "error")
        return redirect(url_for("inventory.shipment_detail", shipment_id=shipment.id)), 303
    return Response(
        transport_document_pdf(shipment),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{shipment.number}.pdf"'},
    )


def _source_document(document_type: str, document_id: int) -> Any:
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get(document_type)
    if doc_type is None or not hasattr(doc_type.model, "stock_lines"):
        abort(404)
    document = db.session.get(doc_type.model, document_id)
    if document is None or getattr(document, "document_type", document_type) != document_type:
        abort(404)
    return doc_type, document


def _check_direction(document: Any, direction: str) -> None:
    """A sales order ships and a purchase order receives, never the other way round."""
    if getattr(document, "stock_direction", direction) != direction:
        abort(404)


def _detail_url(doc_type: Any, document: Any) -> str:
    return (
        url_for(doc_type.detail_endpoint, document_id=document.id)
        if doc_type.detail_endpoint
        else url_for("inventory.stock")
    )


@bp.route("/ship/<document_type>/<int:document_id>", methods=["GET", "POST"])
@permission_required("inventory.ship")
def ship_document(document_type: str, document_id: int) -> Any:
    """Ship some or all of what a document (a sales order) still has to deliver."""
    doc_type, document = _source_document(document_type, document_id)
    _check_direction(document, "out")
    lines = [line for line in document.stock_lines() if line.outstanding > 0]
    form = ShipForm()
    form.carrier.choices = select_choices(CARRIERS)
    errors: dict[int, str] = {}
    refusal = services.goods_refusal(document)
    if refusal:
        return render_template(
            "inventory/ship.html",
            form=form,
            document=document,
            lines=[],
            errors=errors,
            refusal=refusal,
            back=_detail_url(doc_type, document),
        ), 409
    if request.method == "POST" and form.validate_on_submit():
        chosen = []
        for line in lines:
            raw = request.form.get(f"qty_{line.line_id}", "")
            quantity = _decimal(raw)
            if raw.strip() and (quantity is None or quantity < 0):
                errors[line.line_id] = _("Enter a quantity (0 or more).")
            elif quantity:
                chosen.append((line, quantity))
        if not errors:
            try:
                shipment = services.create_shipment(
                    party_id=document.party_id,
                    lines=chosen,
                    source=(document_type, document.id, getattr(document, "number", None)),
                    shipment_date=form.shipment_date.data,
                    details={
                        "reason": form.reason.data or "Vendita",
                        "carrier": form.carrier.data or "mittente",
                        "packages": form.packages.data,
                        "weight_kg": _decimal(form.weight_kg.data),
                        "appearance": form.appearance.data or None,
                        "destination": form.destination.data or None,
                        "notes": form.notes.data or None,
                    },
                )
                services.ship(shipment)
            except (services.StockError, workflow.TransitionRefused) as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                flash(_("Transport document %(number)s issued.", number=shipment.number), "success")
                return redirect(url_for("inventory.shipment_detail", shipment_id=shipment.id))
        return render_template(
            "inventory/ship.html",
            form=form,
            document=document,
            lines=lines,
            errors=errors,
            back=_detail_url(doc_type, document),
        ), 400
    return render_template(
        "inventory/ship.html",
        form=form,
        document=document,
        lines=lines,
        errors=errors,
        back=_detail_url(doc_type, document),
    ), (400 if request.method == "POST" else 200)


# --- receipts ----------------------------------------------------------------------------------


@bp.get("/receipts")
@permission_required("inventory.view")
def receipts() -> Any:
    page = paginate(
        select(Receipt).options(selectinload(Receipt.lines)),
        request.args,
        {"date": [Receipt.receipt_date, Receipt.id]},
        "-date",
    )
    return render_template(
        "inventory/receipts.html",
        page=page,
        parties=_parties({r.party_id for r in page.items if r.party_id}),
    )


@bp.route("/receive/<document_type>/<int:document_id>", methods=["GET", "POST"])
@permission_required("inventory.receive")
def receive_document(document_type: str, document_id: int) -> Any:
    doc_type, document = _source_document(document_type, document_id)
    _check_direction(document, "in")
    lines = [line for line in document.stock_lines() if line.outstanding > 0 and line.product_id]
    form = ReceiveForm()
    errors: dict[int, str] = {}
    refusal = services.goods_refusal(document)
    if refusal:
        return render_template(
            "inventory/receive.html",
            form=form,
            document=document,
            lines=[],
            errors=errors,
            refusal=refusal,
            back=_detail_url(doc_type, document),
        ), 409
    if request.method == "POST" and form.validate_on_submit():
        chosen = []
        for line in lines:
            raw = request.form.get(f"qty_{line.line_id}", "")
            quantity = _decimal(raw)
            if raw.strip() and (quantity is None or quantity < 0):
                errors[line.line_id] = _("Enter a quantity (0 or more).")
            elif quantity and quantity > line.outstanding:
                errors[line.line_id] = _(
                    "More than the %(qty)s still expected.",
                    qty=format(line.outstanding.normalize(), "f"),
                )
            elif quantity:
                chosen.append((line.product_id, quantity, line.unit_cost, line.line_id))
        if not errors:
            try:
                services.receive(
                    lines=chosen,
                    party_id=getattr(document, "party_id", None),
                    source=(document_type, document.id, getattr(document, "number", None)),
                    receipt_date=form.receipt_date.data,
                    supplier_document=form.supplier_document.data or None,
                )
            except services.StockError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                flash(_("Goods received."), "success")
                return redirect(_detail_url(doc_type, document))
        status = 400
    else:
        status = 400 if request.method == "POST" else 200
    return render_template(
        "inventory/receive.html",
        form=form,
        document=document,
        lines=lines,
        errors=errors,
        back=_detail_url(doc_type, document),
    ), status


# --- adjustments, transfers, counts --------------------------------------------------------------


@bp.route("/adjust", methods=["GET", "POST"])
@permission_required("inventory.adjust")
def adjust() -> Any:
    form = AdjustForm()
    form.location_id.choices = _location_choices()
    if request.method == "POST" and form.validate_on_submit():
        product = _product_by_code(form.product_code.data)
        quantity = _decimal(form.quantity.data)
        if product is None:
            form.product_code.errors = [_("Unknown product.")]
        if quantity is None or quantity < 0:
            form.quantity.errors = [_("Enter a quantity (0 or more).")]
        if product is not None and quantity is not None and quantity >= 0:
            try:
                services.adjust(
                    product.id, int(form.location_id.data), quantity, note=form.note.data or None
                )
            except (services.StockError, ValueError) as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                flash(_("Stock of %(code)s adjusted.", code=product.code), "success")
                return redirect(url_for("inventory.product_moves", product_id=product.id))
        return render_template("inventory/adjust.html", form=form), 400
    return render_template("inventory/adjust.html", form=form), (
        400 if request.method == "POST" else 200
    )


@bp.route("/transfer", methods=["GET", "POST"])
@permission_required("inventory.adjust")
def transfer() -> Any:
    form = TransferForm()
    form.from_location_id.choices = _location_choices()
    form.to_location_id.choices = _location_choices()
    if request.method == "POST" and form.validate_on_submit():
        product = _product_by_code(form.product_code.data)
        quantity = _decimal(form.quantity.data)
        if product is None:
            form.product_code.errors = [_("Unknown product.")]
        if quantity is None or quantity <= 0:
            form.quantity.errors = [_("The quantity must be more than zero.")]
        if product is not None and quantity is not None and quantity > 0:
            try:
                services.transfer(
                    product.id,
                    quantity,
                    int(form.from_location_id.data),
                    int(form.to_location_id.data),
                )
            except (services.StockError, ValueError) as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                flash(_("%(code)s moved.", code=product.code), "success")
                return redirect(url_for("inventory.product_moves", product_id=product.id))
        return render_template("inventory/transfer.html", form=form), 400
    return render_template("inventory/transfer.html", form=form), (
        400 if request.method == "POST" else 200
    )


@bp.route("/counts", methods=["GET", "POST"])
@permission_required("inventory.view")
def counts() -> Any:
    form = CountForm()
    form.location_id.choices = _location_choices()
    if request.method == "POST":
        from distretto.sdk import can

        if not can("inventory.adjust"):
            abort(403)
        if form.validate_on_submit():
            try:
                count = services.start_count(
                    int(form.location_id.data), note=form.note.data or None
                )
            except (ValueError, TypeError, services.StockError):
                abort(400)
            return redirect(url_for("inventory.count_detail", count_id=count.id))
        abort(400)
    rows = (
        db.session.execute(select(StockCount).order_by(StockCount.id.desc()).limit(100))
        .scalars()
        .all()
    )
    return render_template("inventory/counts.html", counts=rows, form=form)


def _count_or_404(count_id: int) -> StockCount:
    count = db.session.get(StockCount, count_id)
    if count is None:
        abort(404)
    return count


@bp.route("/counts/<int:count_id>", methods=["GET", "POST"])
@permission_required("inventory.view")
def count_detail(count_id: int) -> Any:
    count = _count_or_404(count_id)
    form = EmptyForm()
    errors: dict[int, str] = {}
    if request.method == "POST":
        from distretto.sdk import can

        if not can("inventory.adjust"):
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        counted: dict[int, Decimal | None] = {}
        for line in count.lines:
            raw = request.form.get(f"counted_{line.product_id}", "")
            value = _decimal(raw)
            if raw.strip() and (value is None or value < 0):
                errors[line.product_id] = _("Enter a quantity (0 or more).")
            counted[line.product_id] = value
        if not errors:
            try:
                services.record_counted(count, counted)
                if request.form.get("post") == "1":
                    posted = services.post_count(count)
                    flash(_("%(num)d adjustments posted.", num=posted), "success")
                else:
                    flash(
                        _("Counted quantities saved: review the differences, then post."), "success"
                    )
            except services.StockError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for("inventory.count_detail", count_id=count.id)), 303
            return redirect(url_for("inventory.count_detail", count_id=count.id))
    products = (
        {
            p.id: p
            for p in db.session.execute(
                select(Product).where(Product.id.in_([line.product_id for line in count.lines]))
            ).scalars()
        }
        if count.lines
        else {}
    )
    return render_template(
        "inventory/count_detail.html", count=count, products=products, form=form, errors=errors
    ), (400 if errors else 200)


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("inventory.settings")
def settings() -> Any:
    form = SettingsForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.set_allow_negative_stock(bool(form.allow_negative_stock.data))
        flash(_("Inventory settings saved."), "success")
        return redirect(url_for("inventory.settings"))
    form.allow_negative_stock.data = services.allows_negative_stock()
    return render_template("inventory/settings.html", form=form)
