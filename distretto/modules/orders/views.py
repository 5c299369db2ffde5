"""Pages of orders: lists, the order form, the order page with its workflow, the PDF."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party, Product, VatRate
from distretto.modules.orders import services
from distretto.modules.orders.forms import EmptyForm, OrderForm, TransitionForm
from distretto.modules.orders.models import DOCUMENT_TYPES, PURCHASE, SALE, Order
from distretto.modules.orders.printing import confirmation_pdf
from distretto.platform import customfields
from distretto.platform.forms import put_errors
from distretto.sdk import (
    current_role,
    db,
    listviews,
    permission_required,
    tenant_blueprint,
    workflow,
)

bp = tenant_blueprint("orders", __name__, "/orders", template_folder="templates")

KIND_BY_SEGMENT = {"sales": SALE, "purchases": PURCHASE}


def _kind(segment: str) -> str:
    kind = KIND_BY_SEGMENT.get(segment)
    if kind is None:
        abort(404)
    return kind


def _order_or_404(document_id: int, kind: str) -> Order:
    order = services.get_order(document_id, kind)
    if order is None:
        abort(404)
    return order


def _state_choices(document_type: str) -> list[tuple[str, str]]:
    locale = str(get_locale() or "it")
    states = workflow.engine.parsed(workflow.current_definition(document_type)).states
    return [(s.name, workflow.label_text(s.label, locale)) for s in states]


def _order_related(orders: Any) -> dict[str, Any]:
    """The listed orders' parties and workflow versions, one query each."""
    party_ids = {o.party_id for o in orders}
    parties = (
        {
            p.id: p
            for p in db.session.execute(select(Party).where(Party.id.in_(party_ids))).scalars()
        }
        if party_ids
        else {}
    )
    return {"parties": parties, "states": listviews.workflow_states(orders)}


def _party_of(order: Order, related: Any) -> Party | None:
    return related["parties"].get(order.party_id)


def _order_list(kind: str) -> listviews.ListView:
    segment = "sales" if kind == SALE else "purchases"
    document_type = DOCUMENT_TYPES[kind]
    detail = "orders.sale_detail" if kind == SALE else "orders.purchase_detail"
    return listviews.register(
        listviews.ListView(
            key=f"orders.{segment}",
            endpoint=f"orders.{segment}",
            title=_l("Sales orders") if kind == SALE else _l("Purchase orders"),
            permission="orders.view",
            query=lambda: select(Order).where(Order.kind == kind),
            search=lambda query, text: query.where(services.order_query(kind, text).whereclause),
            search_placeholder=_l("Number, counterpart, reference"),
            columns=[
                listviews.Column(
                    "number",
                    _l("Number"),
                    lambda o, r: o.number,
                    sort=Order.number,
                    link=lambda o: url_for(detail, document_id=o.id),
                ),
                listviews.Column(
                    "date",
                    _l("Date"),
                    lambda o, r: o.order_date,
                    kind="date",
                    sort=Order.order_date,
                ),
                listviews.Column(
                    "party_code",
                    _l("Counterpart code"),
                    lambda o, r: getattr(_party_of(o, r), "code", None),
                    default=False,
                ),
                listviews.Column(
                    "party",
                    _l("Customer") if kind == SALE else _l("Supplier"),
                    lambda o, r: getattr(_party_of(o, r), "legal_name", None),
                ),
                listviews.Column(
                    "state",
                    _l("State"),
                    listviews.state_label,
                    sort=Order.state,
                ),
                listviews.Column(
                    "expected",
                    _l("Expected date"),
                    lambda o, r: o.expected_date,
                    kind="date",
                    sort=Order.expected_date,
                    default=False,
                ),
                listviews.Column(
                    "reference",
                    _l("Reference"),
                    lambda o, r: o.customer_reference,
                    default=False,
                ),
                listviews.Column(
                    "taxable",
                    _l("Taxable amount"),
                    lambda o, r: o.taxable_total,
                    kind="money",
                    sort=Order.taxable_total,
                    default=False,
                ),
                listviews.Column(
                    "vat",
                    _l("VAT"),
                    lambda o, r: o.vat_total,
                    kind="money",
                    sort=Order.vat_total,
                    default=False,
                ),
                listviews.Column(
                    "total", _l("Total"), lambda o, r: o.total, kind="money", sort=Order.total
                ),
            ],
            filters=[
                listviews.Filter(
                    "state",
                    _l("State"),
                    lambda query, value: query.where(Order.state == value),
                    choices=lambda: _state_choices(document_type),
                ),
            ],
            default_sort="-date",
            tiebreak=Order.id,
            related=_order_related,
            model=Order,
            document_type=document_type,
            export_name=segment,
            empty_text=_l("No orders yet."),
        )
    )


SALES_LIST = _order_list(SALE)
PURCHASES_LIST = _order_list(PURCHASE)


@bp.get("/sales")
@permission_required("orders.view")
def sales() -> Any:
    return listviews.render(SALES_LIST, "orders/list.html", kind=SALE)


@bp.get("/purchases")
@permission_required("orders.view")
def purchases() -> Any:
    return listviews.render(PURCHASES_LIST, "orders/list.html", kind=PURCHASE)


def _form_to_data(form: OrderForm, kind: str) -> dict[str, Any]:
    """Turn codes typed by the clerk into ids; unknown codes become field errors."""
    errors: dict[str, Any] = {}
    party_text = (form.party_code.data or "").strip()
    party = None
    if party_text:
        code = party_text.split(" – ", 1)[0].strip()
        party = db.session.execute(
            select(Party).where(or_(Party.code == code, Party.legal_name == party_text)).limit(1)
        ).scalar_one_or_none()
        if party is None:
            errors["party_code"] = [
                _("No customer or supplier with code or name %(text)s.", text=party_text)
            ]
    lines = []
    codes = {(entry.form.product_code.data or "").strip() for entry in form.lines} - {""}
    products = (
        {
            p.code: p
            for p in db.session.execute(select(Product).where(Product.code.in_(codes))).scalars()
        }
        if codes
        else {}
    )
    vat_codes = {(entry.form.vat_code.data or "").strip() for entry in form.lines} - {""}
    rates = (
        {
            r.code: r
            for r in db.session.execute(
                select(VatRate).where(VatRate.code.in_(vat_codes))
            ).scalars()
        }
        if vat_codes
        else {}
    )
    line_errors: dict[int, Any] = {}
    for index, entry in enumerate(form.lines):
        data = entry.form.data
        if not any(
            (data.get(k) or "").strip()
            for k in ("product_code", "description", "quantity", "unit_price")
        ):
            continue  # an empty row of the form
        code = (data.get("product_code") or "").strip()
        vat_code = (data.get("vat_code") or "").strip()
        problems = {}
        if code and code not in products:
            problems["product_code"] = [_("Unknown product %(code)s.", code=code)]
        if vat_code and vat_code not in rates:
            problems["vat_code"] = [_("Unknown VAT code %(code)s.", code=vat_code)]
        if problems:
            line_errors[index] = problems
        lines.append(
            {
                "product_id": products[code].id if code in products else None,
                "description": data.get("description"),
                "quantity": data.get("quantity") or "",
                "unit_price": data.get("unit_price"),
                "discount_percent": data.get("discount_percent"),
                "vat_rate_id": rates[vat_code].id if vat_code in rates else None,
                "_row": index,
            }
        )
    if line_errors:
        errors["lines"] = line_errors
    if errors:
        raise ValidationError(errors)
    custom = {
        d.name: request.form.get(f"custom_{d.name}")
        for d in customfields.definitions(DOCUMENT_TYPES[kind])
    }
    return {
        "party_id": party.id if party else None,
        "order_date": form.order_date.data.isoformat() if form.order_date.data else None,
        "expected_date": form.expected_date.data.isoformat() if form.expected_date.data else None,
        "customer_reference": form.customer_reference.data,
        "notes": form.notes.data,
        "lines": lines,
        "custom": {k: v for k, v in custom.items() if v is not None},
        "version": form.version.data or None,
    }


def _show_errors(form: OrderForm, messages: dict[str, Any], rows: list[int] | None = None) -> None:
    messages = dict(messages)
    if "party_id" in messages:
        messages["party_code"] = messages.pop("party_id")
    line_messages = messages.pop("lines", None)
    custom = messages.pop("custom", None)
    put_errors(form, messages)
    if isinstance(line_messages, dict):
        for index, problems in line_messages.items():
            row = rows[index] if rows and isinstance(index, int) and index < len(rows) else index
            if isinstance(row, int) and row < len(form.lines.entries):
                put_errors(
                    form.lines.entries[row].form,
                    {
                        (
                            "product_code"
                            if k == "product_id"
                            else "vat_code"
                            if k == "vat_rate_id"
                            else k
                        ): v
                        for k, v in problems.items()
                    },
                )
    elif line_messages:
        form.form_errors.extend(
            line_messages if isinstance(line_messages, list) else [str(line_messages)]
        )
    if custom:
        g.custom_errors = custom


def _render_form(form: OrderForm, kind: str, order: Order | None, status: int = 200) -> Any:
    document_type = DOCUMENT_TYPES[kind]
    parties = (
        db.session.execute(
            select(Party)
            .where(
                Party.archived.is_(False), Party.is_customer if kind == SALE else Party.is_supplier
            )
            .order_by(Party.legal_name)
            .limit(2000)
        )
        .scalars()
        .all()
    )
    products = (
        db.session.execute(
            select(Product).where(Product.archived.is_(False)).order_by(Product.code).limit(5000)
        )
        .scalars()
        .all()
    )
    rates = (
        db.session.execute(select(VatRate).where(VatRate.active.is_(True)).order_by(VatRate.code))
        .scalars()
        .all()
    )
    custom_values = dict(order.custom or {}) if order else {}
    if request.method == "POST":
        custom_values.update({k[7:]: v for k, v in request.form.items() if k.startswith("custom_")})
    return render_template(
        "orders/form.html",
        form=form,
        kind=kind,
        order=order,
        parties=parties,
        products=products,
        rates=rates,
        custom_definitions=customfields.definitions(document_type),
        custom_values=custom_values,
        custom_errors=g.get("custom_errors") or {},
    ), status


@bp.get("/<segment>.csv")
@permission_required("orders.view")
def export_orders(segment: str) -> Any:
    """The list as CSV (the same search and filters), custom fields as extra columns."""
    import csv
    import io

    kind = _kind(segment)
    document_type = DOCUMENT_TYPES[kind]
    definitions = customfields.definitions(document_type)
    query = services.order_query(kind, request.args.get("q"), request.args.get("state") or None)
    for definition in definitions:
        value = request.args.get(f"cf_{definition.name}")
        if value:
            try:
                query = query.where(customfields.filter_clause(Order, definition, value))
            except ValueError:
                abort(400)
    orders = (
        db.session.execute(query.order_by(Order.order_date, Order.id).limit(100_000))
        .scalars()
        .all()
    )
    party_ids = {o.party_id for o in orders}
    parties = (
        {
            p.id: p
            for p in db.session.execute(select(Party).where(Party.id.in_(party_ids))).scalars()
        }
        if party_ids
        else {}
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [
            "number",
            "date",
            "counterpart_code",
            "counterpart",
            "state",
            "taxable",
            "vat",
            "total",
            "reference",
            *(d.name for d in definitions),
        ]
    )
    for order in orders:
        party = parties.get(order.party_id)
        writer.writerow(
            [
                order.number,
                order.order_date.isoformat(),
                party.code if party else "",
                party.legal_name if party else "",
                order.state,
                order.taxable_total,
                order.vat_total,
                order.total,
                order.customer_reference or "",
                *(_csv_value((order.custom or {}).get(d.name)) for d in definitions),
            ]
        )
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{segment}.csv"'},
    )


def _csv_value(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.route("/<segment>/new", methods=["GET", "POST"])
@permission_required("orders.edit")
def new_order(segment: str) -> Any:
    kind = _kind(segment)
    form = OrderForm()
    if request.method == "POST" and request.form.get("add_line"):
        form.validate_on_submit()
        form.lines.append_entry()
        form.form_errors.clear()
        for field in form:
            field.errors = []
        return _render_form(form, kind, None)
    if request.method == "POST":
        if form.validate_on_submit():
            rows: list[int] = []
            try:
                data = _form_to_data(form, kind)
                rows = [line.pop("_row") for line in data["lines"]]
                if data["party_id"] is None:
                    raise ValidationError({"party_code": [_("Choose the counterpart.")]})
                order = services.create_order(kind, data)
            except ValidationError as exc:
                db.session.rollback()
                _show_errors(form, exc.messages, rows)
            else:
                flash(_("Order %(number)s created.", number=order.number), "success")
                return redirect(
                    url_for(
                        "orders.sale_detail" if kind == SALE else "orders.purchase_detail",
                        document_id=order.id,
                    )
                )
        return _render_form(form, kind, None, 400)
    return _render_form(form, kind, None)


def _detail(kind: str, document_id: int) -> Any:
    order = _order_or_404(document_id, kind)
    party = db.session.get(Party, order.party_id)
    document_type = DOCUMENT_TYPES[kind]
    row, definition = workflow.engine.definition_of(order)
    return render_template(
        "orders/detail.html",
        order=order,
        party=party,
        kind=kind,
        definition=definition,
        definition_row=row,
        transitions=workflow.available_transitions(order, document_type, current_role()),
        history=workflow.history(order, document_type),
        custom=customfields.display(document_type, order.custom),
        form=TransitionForm(),
        empty_form=EmptyForm(),
        locked=services.locked_fields(order),
        goods_url=_goods_page(order, definition),
    )


def _goods_page(order: Order, definition: Any) -> str | None:
    """The page of the firm's stock module to ship (or receive) part of the order.

    Offered while the order is agreed (its lines locked), open, and has goods
    still to deliver, and only when a module providing the page is on for the firm:
    orders name its endpoint, they import nothing of it.
    """
    from flask import current_app

    from distretto.platform.modules import enabled_modules
    from distretto.sdk import can

    endpoint, permission = (
        ("inventory.ship_document", "inventory.ship")
        if order.is_sale
        else ("inventory.receive_document", "inventory.receive")
    )
    if (
        endpoint not in current_app.view_functions
        or "inventory" not in {m.name for m in enabled_modules()}
        or not can(permission)
        or not workflow.accepts_delivery(order)
        or not any(
            line.outstanding > 0 and (order.is_sale or line.product_id) for line in order.lines
        )
    ):
        return None
    return url_for(endpoint, document_type=order.document_type, document_id=order.id)


@bp.get("/sales/<int:document_id>")
@permission_required("orders.view")
def sale_detail(document_id: int) -> Any:
    return _detail(SALE, document_id)


@bp.get("/purchases/<int:document_id>")
@permission_required("orders.view")
def purchase_detail(document_id: int) -> Any:
    return _detail(PURCHASE, document_id)


@bp.route("/<segment>/<int:document_id>/edit", methods=["GET", "POST"])
@permission_required("orders.edit")
def edit_order(segment: str, document_id: int) -> Any:
    kind = _kind(segment)
    order = _order_or_404(document_id, kind)
    if request.method == "GET":
        form = OrderForm(formdata=None)
        party = db.session.get(Party, order.party_id)
        form.party_code.data = f"{party.code} – {party.legal_name}" if party else ""
        form.order_date.data = order.order_date
        form.expected_date.data = order.expected_date
        form.customer_reference.data = order.customer_reference
        form.notes.data = order.notes
        form.version.data = str(order.version)
        while len(form.lines.entries):
            form.lines.pop_entry()
        product_codes = {
            p.id: p.code
            for p in db.session.execute(
                select(Product).where(
                    Product.id.in_({line.product_id for line in order.lines if line.product_id})
                )
            ).scalars()
        }
        rate_codes = {r.id: r.code for r in db.session.execute(select(VatRate)).scalars()}
        for line in order.lines:
            form.lines.append_entry(
                {
                    "product_code": product_codes.get(line.product_id, ""),
                    "description": line.description,
                    "quantity": _plain(line.quantity),
                    "unit_price": _plain(line.unit_price),
                    "discount_percent": _plain(line.discount_percent),
                    "vat_code": rate_codes.get(line.vat_rate_id, ""),
                }
            )
        form.lines.append_entry()
        return _render_form(form, kind, order)
    form = OrderForm()
    if request.form.get("add_line"):
        form.validate_on_submit()
        form.lines.append_entry()
        for field in form:
            field.errors = []
        return _render_form(form, kind, order)
    if form.validate_on_submit():
        rows: list[int] = []
        try:
            data = _form_to_data(form, kind)
            rows = [line.pop("_row") for line in data["lines"]]
            if data["party_id"] is None:
                raise ValidationError({"party_code": [_("Choose the counterpart.")]})
            services.update_order(order, data)
        except ValidationError as exc:
            db.session.rollback()
            _show_errors(form, exc.messages, rows)
        except (services.OrderLocked, services.StaleOrder) as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_("Order %(number)s saved.", number=order.number), "success")
            return redirect(
                url_for(
                    "orders.sale_detail" if kind == SALE else "orders.purchase_detail",
                    document_id=order.id,
                )
            )
    return _render_form(form, kind, order, 400)


def _plain(value: Decimal | None) -> str:
    """A stored number for the order form, in the reader's format (2,5 in Italian)."""
    from distretto.platform.formatting import input_number

    return input_number(value)


@bp.post("/<segment>/<int:document_id>/transitions/<name>")
@permission_required("orders.view")
def transition(segment: str, document_id: int, name: str) -> Any:
    kind = _kind(segment)
    order = _order_or_404(document_id, kind)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    target = url_for(
        "orders.sale_detail" if kind == SALE else "orders.purchase_detail", document_id=order.id
    )
    try:
        services.transition(order, name, form.comment.data)
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(target), 303
    flash(
        _(
            "Order %(number)s: %(state)s.",
            number=order.number,
            state=workflow.engine.state_label(order, str(get_locale())),
        ),
        "success",
    )
    return redirect(target)


@bp.post("/<segment>/<int:document_id>/delete")
@permission_required("orders.edit")
def delete_order(segment: str, document_id: int) -> Any:
    kind = _kind(segment)
    order = _order_or_404(document_id, kind)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_order(order)
    except services.OrderLocked as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(
            url_for(
                "orders.sale_detail" if kind == SALE else "orders.purchase_detail",
                document_id=order.id,
            )
        ), 303
    flash(_("Order deleted."), "success")
    return redirect(url_for("orders.sales" if kind == SALE else "orders.purchases"))


@bp.get("/<segment>/<int:document_id>.pdf")
@permission_required("orders.view")
def order_pdf(segment: str, document_id: int) -> Any:
    kind = _kind(segment)
    order = _order_or_404(document_id, kind)
    data = confirmation_pdf(order)
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{order.number}.pdf"'},
    )
