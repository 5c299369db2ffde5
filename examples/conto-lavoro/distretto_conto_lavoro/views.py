"""Pages of conto lavoro, all under ``/<tenant>/conto_lavoro/``: thin, the rules are in services."""

from __future__ import annotations

from datetime import date
from typing import Any

from distretto.sdk import current_role, db, permission_required, tenant_blueprint, workflow
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from distretto_conto_lavoro import services
from distretto_conto_lavoro.forms import (
    DispatchForm,
    ItemForm,
    ReturnForm,
    SubcontractorForm,
    attach_error,
)
from distretto_conto_lavoro.models import Dispatch, GoodsReturn, Subcontractor

bp = tenant_blueprint("conto_lavoro", __name__, "/conto_lavoro", template_folder="templates")


@bp.app_template_filter("conto_lavoro_label")
def _label(label: Any) -> str:
    return workflow.label_text(label, str(get_locale() or "it"))


@bp.app_template_filter("conto_lavoro_qty")
def _quantity(value: Any) -> str:
    """Quantities as people write them: no trailing zeros, Italian or English separators."""
    from flask_babel import format_decimal

    return "" if value is None else format_decimal(value, format="#,##0.###")


def _state(document: Dispatch) -> str:
    return workflow.engine.state_label(document, str(get_locale() or "it"))


@bp.get("/")
@permission_required("conto_lavoro.view")
def outstanding() -> Any:
    return render_template(
        "conto_lavoro/outstanding.html", groups=services.outstanding_by_subcontractor()
    )


@bp.route("/subcontractors", methods=["GET", "POST"])
@permission_required("conto_lavoro.view")
def subcontractors() -> Any:
    form = SubcontractorForm()
    status = 200
    if form.is_submitted():
        _require_edit()
        status = 400
        if form.validate():
            try:
                services.create_subcontractor(form.name.data, form.vat_number.data, form.city.data)
            except services.ContoLavoroError as exc:
                attach_error(form, exc.field, str(exc))
            else:
                flash(_("Subcontractor saved."), "success")
                return redirect(url_for("conto_lavoro.subcontractors"))
    page = render_template(
        "conto_lavoro/subcontractors.html", form=form, rows=services.subcontractors()
    )
    return page, status


@bp.route("/items", methods=["GET", "POST"])
@permission_required("conto_lavoro.view")
def items() -> Any:
    form = ItemForm()
    status = 200
    if form.is_submitted():
        _require_edit()
        status = 400
        if form.validate():
            try:
                services.create_item(form.code.data, form.description.data, form.unit.data)
            except services.ContoLavoroError as exc:
                attach_error(form, exc.field, str(exc))
            else:
                flash(_("Item saved."), "success")
                return redirect(url_for("conto_lavoro.items"))
    return render_template("conto_lavoro/items.html", form=form, rows=services.items()), status


@bp.get("/dispatches")
@permission_required("conto_lavoro.view")
def dispatches() -> Any:
    rows = services.dispatches()
    return render_template(
        "conto_lavoro/dispatches.html", rows=rows, states={d.id: _state(d) for d in rows}
    )


@bp.route("/dispatches/new", methods=["GET", "POST"])
@permission_required("conto_lavoro.edit")
def new_dispatch() -> Any:
    form = DispatchForm()
    form.set_choices(services.subcontractors(), services.items())
    if not form.is_submitted():
        return render_template("conto_lavoro/dispatch_form.html", form=form)
    if form.validate():
        try:
            dispatch = services.create_dispatch(
                _int_or_none(form.subcontractor_id.data),
                form.processing.data,
                [(entry.form.item_id.data, entry.form.quantity.data) for entry in form.lines],
                form.notes.data,
            )
        except services.ContoLavoroError as exc:
            attach_error(form, exc.field, str(exc))
        else:
            flash(_("Dispatch saved as a draft."), "success")
            return redirect(url_for("conto_lavoro.dispatch_detail", document_id=dispatch.id))
    return render_template("conto_lavoro/dispatch_form.html", form=form), 400


@bp.get("/dispatches/<int:document_id>")
@permission_required("conto_lavoro.view")
def dispatch_detail(document_id: int) -> Any:
    dispatch = db.session.get(Dispatch, document_id) or abort(404)
    return render_template(
        "conto_lavoro/dispatch_detail.html",
        dispatch=dispatch,
        state=_state(dispatch),
        balances=services.line_balances(dispatch_id=dispatch.id),
        transitions=workflow.available_transitions(
            dispatch, services.DOCUMENT_TYPE, current_role()
        ),
        history=workflow.history(dispatch, services.DOCUMENT_TYPE),
    )


@bp.post("/dispatches/<int:document_id>/transitions/<name>")
@permission_required("conto_lavoro.view")
def dispatch_transition(document_id: int, name: str) -> Any:
    dispatch = db.session.get(Dispatch, document_id) or abort(404)
    try:
        workflow.apply(
            dispatch,
            services.DOCUMENT_TYPE,
            name,
            role=current_role(),
            comment=request.form.get("comment"),
        )
    except workflow.TransitionRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("conto_lavoro.dispatch_detail", document_id=dispatch.id)), 303
    return redirect(url_for("conto_lavoro.dispatch_detail", document_id=dispatch.id))


@bp.get("/returns")
@permission_required("conto_lavoro.view")
def returns() -> Any:
    return render_template("conto_lavoro/returns.html", rows=services.returns())


@bp.route("/returns/new", methods=["GET", "POST"])
@permission_required("conto_lavoro.edit")
def new_return() -> Any:
    subcontractor_id = _int_or_none(request.values.get("subcontractor_id"))
    subcontractor = db.session.get(Subcontractor, subcontractor_id) if subcontractor_id else None
    if subcontractor is None:
        if request.method == "POST" or request.values.get("subcontractor_id"):
            abort(404)  # no such subcontractor in this firm
        return render_template(
            "conto_lavoro/return_choose.html",
            groups=services.outstanding_by_subcontractor(),
        )
    balances = {
        b.line.id: b
        for b in services.line_balances(subcontractor_id=subcontractor.id)
        if b.outstanding > 0
    }
    form = ReturnForm(
        data={
            "subcontractor_id": subcontractor.id,
            "received_on": date.today(),
            "lines": [{"dispatch_line_id": line_id} for line_id in balances],
        }
    )
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                goods_return = services.record_return(
                    subcontractor.id,
                    form.reference.data,
                    [
                        (e.form.dispatch_line_id.data, e.form.quantity.data, e.form.scrap.data)
                        for e in form.lines
                    ],
                    received_on=form.received_on.data,
                    notes=form.notes.data,
                )
            except services.ContoLavoroError as exc:
                attach_error(form, exc.field, str(exc))
            else:
                flash(_("Return recorded."), "success")
                return redirect(url_for("conto_lavoro.return_detail", return_id=goods_return.id))
    rows = [
        (entry, balances.get(_int_or_none(entry.form.dispatch_line_id.data)))
        for entry in form.lines
    ]
    page = render_template(
        "conto_lavoro/return_form.html", form=form, subcontractor=subcontractor, rows=rows
    )
    return page, status


@bp.get("/returns/<int:return_id>")
@permission_required("conto_lavoro.view")
def return_detail(return_id: int) -> Any:
    goods_return = db.session.get(GoodsReturn, return_id) or abort(404)
    return render_template("conto_lavoro/return_detail.html", goods_return=goods_return)


def _require_edit() -> None:
    from distretto.sdk import can

    if not can("conto_lavoro.edit"):
        abort(403)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
