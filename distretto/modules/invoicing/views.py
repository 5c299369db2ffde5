"""Pages of invoicing: invoices, credit notes, payments, received e-invoices, reports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.invoicing import fatturapa, lists, services
from distretto.modules.invoicing.forms import (
    EmptyForm,
    FiscalForm,
    FromOrdersForm,
    ImportForm,
    InvoiceForm,
    PaymentForm,
    ReportForm,
)
from distretto.modules.invoicing.models import Invoice, ReceivedInvoice
from distretto.modules.invoicing.printing import courtesy_copy_pdf
from distretto.platform.forms import select_choices
from distretto.platform.listing import paginate
from distretto.sdk import (
    can,
    current_role,
    current_tenant,
    db,
    listviews,
    permission_required,
    tenant_blueprint,
    workflow,
)

bp = tenant_blueprint("invoicing", __name__, "/invoicing", template_folder="templates")



def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = services.get_invoice(invoice_id)
    if invoice is None:
        abort(404)
    return invoice


def _party_by_text(text: str | None) -> Party | None:
    text = (text or "").strip()
    if not text:
        return None
    code = text.split(" – ", 1)[0].strip()
    return db.session.execute(
        select(Party)
        .where(or_(Party.code == code, Party.legal_name == text), Party.is_customer.is_(True))
        .limit(1)
    ).scalar_one_or_none()


@bp.get("/invoices")
@permission_required("invoicing.view")
def invoices() -> Any:
    return listviews.render(lists.INVOICES, "invoicing/list.html")


def _form_context(form: InvoiceForm) -> dict[str, Any]:
    form.payment_terms_id.choices = select_choices(
        [("", "—")]
        + [
            (t.id, f"{t.code} – {t.description}")
            for t in db.session.execute(select(PaymentTerms).order_by(PaymentTerms.code)).scalars()
        ]
    )
    return {
        "parties": db.session.execute(
            select(Party)
            .where(Party.is_customer.is_(True), Party.archived.is_(False))
            .order_by(Party.legal_name)
            .limit(2000)
        )
        .scalars()
        .all(),
        "products": db.session.execute(
            select(Product).where(Product.archived.is_(False)).order_by(Product.code).limit(5000)
        )
        .scalars()
        .all(),
        "rates": db.session.execute(
            select(VatRate).where(VatRate.active.is_(True)).order_by(VatRate.code)
        )
        .scalars()
        .all(),
    }


def _lines_from_form(form: InvoiceForm) -> list[dict[str, Any]]:
    codes = {(e.form.product_code.data or "").strip() for e in form.lines} - {""}
    products = (
        {
            p.code: p
            for p in db.session.execute(select(Product).where(Product.code.in_(codes))).scalars()
        }
        if codes
        else {}
    )
    vat_codes = {(e.form.vat_code.data or "").strip() for e in form.lines} - {""}
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
    lines = []
    for index, entry in enumerate(form.lines):
        data = entry.form.data
        if not any(
            (data.get(k) or "").strip()
            for k in ("product_code", "description", "quantity", "unit_price")
        ):
            continue
        code = (data.get("product_code") or "").strip()
        vat_code = (data.get("vat_code") or "").strip()
        if code and code not in products:
            entry.form.product_code.errors = [_("Unknown product %(code)s.", code=code)]
            raise services.InvoiceError(
                _("Line %(num)d: unknown product %(code)s.", num=index + 1, code=code)
            )
        if vat_code and vat_code not in rates:
            entry.form.vat_code.errors = [_("Unknown VAT code %(code)s.", code=vat_code)]
            raise services.InvoiceError(
                _("Line %(num)d: unknown VAT code %(code)s.", num=index + 1, code=vat_code)
            )
        lines.append(
            {
                "product_id": products[code].id if code in products else None,
                "description": data.get("description"),
                "quantity": data.get("quantity") or "1",
                "unit_price": data.get("unit_price"),
                "discount_percent": data.get("discount_percent"),
                "vat_rate_id": rates[vat_code].id if vat_code in rates else None,
            }
        )
    return lines


@bp.route("/invoices/new", methods=["GET", "POST"])
@permission_required("invoicing.edit")
def new_invoice() -> Any:
    form = InvoiceForm()
    if request.method == "POST" and request.form.get("add_line"):
        form.validate_on_submit()
        form.lines.append_entry()
        for field in form:
            field.errors = []
        return render_template(
            "invoicing/form.html", form=form, invoice=None, **_form_context(form)
        )
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                party = _party_by_text(form.party_code.data)
                if party is None:
                    form.party_code.errors = [_("Choose a customer.")]
                    raise services.InvoiceError(_("Choose a customer."), "party_code")
                invoice = services.create_invoice(
                    {
                        "party_id": party.id,
                        "issue_date": form.issue_date.data,
                        "series": form.series.data,
                        "payment_terms_id": form.payment_terms_id.data or None,
                        "split_payment": form.split_payment.data or party.split_payment,
                        "causale": form.causale.data,
                        "notes": form.notes.data,
                        "lines": _lines_from_form(form),
                    }
                )
            except services.InvoiceError as exc:
                db.session.rollback()
                field = getattr(form, exc.field or "", None)
                if field is form.lines:
                    field = None  # the lines have no place of their own for a message
                if field is not None and hasattr(field, "errors") and str(exc) not in field.errors:
                    field.errors = [*field.errors, str(exc)]
                elif str(exc) not in form.form_errors:
                    form.form_errors.append(str(exc))
            else:
                flash(_("Draft invoice created."), "success")
                return redirect(url_for("invoicing.invoice_detail", document_id=invoice.id))
        return render_template(
            "invoicing/form.html", form=form, invoice=None, **_form_context(form)
        ), 400
    form.issue_date.data = date.today()
    return render_template("invoicing/form.html", form=form, invoice=None, **_form_context(form))


@bp.get("/invoices/<int:document_id>")
@permission_required("invoicing.view")
def invoice_detail(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    _row, definition = workflow.engine.definition_of(invoice)
    payments = (
        db.session.execute(
            select(services.Payment)
            .where(services.Payment.invoice_id == invoice.id)
            .order_by(services.Payment.id)
        )
        .scalars()
        .all()
    )
    related = db.session.get(Invoice, invoice.corrects_id) if invoice.corrects_id else None
    return render_template(
        "invoicing/detail.html",
        invoice=invoice,
        party=db.session.get(Party, invoice.party_id),
        definition=definition,
        transitions=workflow.available_transitions(invoice, "invoice", current_role()),
        history=workflow.history(invoice, "invoice"),
        summary=services.vat_summary(invoice),
        problems=services.preview_problems(invoice) if not invoice.issued else [],
        payments=payments,
        related=related,
        form=EmptyForm(),
        payment_form=PaymentForm(formdata=None, payment_date=date.today()),
    )


@bp.post("/invoices/<int:document_id>/transitions/<name>")
@permission_required("invoicing.view")
def invoice_transition(document_id: int, name: str) -> Any:
    invoice = _invoice_or_404(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        workflow.apply(
            invoice, "invoice", name, role=current_role(), comment=request.form.get("comment")
        )
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invoicing.invoice_detail", document_id=document_id)), 303
    if invoice.number and name == "issue":
        flash(_("Invoice %(number)s issued.", number=invoice.number), "success")
    return redirect(url_for("invoicing.invoice_detail", document_id=invoice.id))


@bp.post("/invoices/<int:document_id>/delete")
@permission_required("invoicing.edit")
def delete_invoice(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_draft(invoice)
    except services.InvoiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invoicing.invoice_detail", document_id=document_id)), 303
    flash(_("Draft deleted."), "success")
    return redirect(url_for("invoicing.invoices"))


@bp.post("/invoices/<int:document_id>/credit-note")
@permission_required("invoicing.edit")
def credit_note(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        note = services.credit_note_for(invoice)
    except services.InvoiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invoicing.invoice_detail", document_id=document_id)), 303
    flash(_("Draft credit note created: check it, then issue it."), "success")
    return redirect(url_for("invoicing.invoice_detail", document_id=note.id))


@bp.post("/invoices/<int:document_id>/payments")
@permission_required("invoicing.payments")
def register_payment(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    form = PaymentForm()
    if not form.validate_on_submit():
        flash(_("The payment date is not valid."), "error")
        return redirect(url_for("invoicing.invoice_detail", document_id=document_id)), 303
    try:
        services.register_payment(
            invoice, form.amount.data, form.payment_date.data, form.note.data or None
        )
    except (services.InvoiceError, workflow.TransitionRefused) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invoicing.invoice_detail", document_id=document_id)), 303
    flash(_("Payment registered."), "success")
    return redirect(url_for("invoicing.invoice_detail", document_id=document_id))


@bp.get("/invoices/<int:document_id>.xml")
@permission_required("invoicing.view")
def invoice_xml(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    if not invoice.xml_content:
        abort(404)
    return Response(
        invoice.xml_content,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{invoice.sdi_filename}"'},
    )


@bp.get("/invoices/<int:document_id>.pdf")
@permission_required("invoicing.view")
def invoice_pdf(document_id: int) -> Any:
    invoice = _invoice_or_404(document_id)
    name = (invoice.number or f"draft-{invoice.id}").replace("/", "-")
    return Response(
        courtesy_copy_pdf(invoice),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@bp.route("/from-orders", methods=["GET", "POST"])
@permission_required("invoicing.edit")
def from_orders() -> Any:
    """Invoice the delivered goods of one customer's orders (optionally as a TD24)."""
    from distretto.platform.modules import enabled_modules, registry

    if "orders" not in {m.name for m in enabled_modules()}:
        flash(_("Enable the orders module to invoice orders."), "error")
        return redirect(url_for("invoicing.invoices")), 303
    form = FromOrdersForm()
    party = _party_by_text(form.party_code.data or request.args.get("party"))
    candidates: list[Any] = []
    if party is not None:
        model = registry.document_types["sales_order"].model
        orders = (
            db.session.execute(
                select(model)
                .where(
                    model.party_id == party.id,
                    model.kind == "sale",
                    model.state.not_in(["draft", "cancelled"]),
                )
                .order_by(model.order_date, model.id)
            )
            .scalars()
            .all()
        )
        done = services.invoiced_quantities(
            "sales_order", [line.id for o in orders for line in o.lines]
        )
        candidates = [
            o
            for o in orders
            if any(
                Decimal(line.quantity_delivered) > done.get(line.id, Decimal(0)) for line in o.lines
            )
        ]
    if request.method == "POST" and request.form.get("create") == "1":
        if not form.validate_on_submit():
            abort(400)
        chosen = [int(v) for v in request.form.getlist("order_id") if v.isdigit()]
        allowed = {o.id for o in candidates}
        if not chosen or not set(chosen) <= allowed:
            form.form_errors.append(_("Choose one or more orders of the customer."))
        else:
            try:
                invoice = services.invoice_from_orders(chosen, deferred=bool(form.deferred.data))
            except services.InvoiceError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                flash(_("Draft invoice created from %(num)d orders.", num=len(chosen)), "success")
                return redirect(url_for("invoicing.invoice_detail", document_id=invoice.id))
        return render_template(
            "invoicing/from_orders.html", form=form, party=party, candidates=candidates
        ), 400
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    if request.method == "POST" and party is None:
        form.party_code.errors = [_("Choose a customer.")]
        return render_template(
            "invoicing/from_orders.html", form=form, party=None, candidates=[]
        ), 400
    parties = (
        db.session.execute(
            select(Party)
            .where(Party.is_customer.is_(True), Party.archived.is_(False))
            .order_by(Party.legal_name)
            .limit(2000)
        )
        .scalars()
        .all()
    )
    return render_template(
        "invoicing/from_orders.html", form=form, party=party, candidates=candidates, parties=parties
    )


@bp.get("/overdue")
@permission_required("invoicing.view")
def overdue() -> Any:
    rows = db.session.execute(services.overdue_query().limit(500)).all()
    ids = {invoice.party_id for _due, invoice in rows}
    parties = (
        {p.id: p for p in db.session.execute(select(Party).where(Party.id.in_(ids))).scalars()}
        if ids
        else {}
    )
    return render_template("invoicing/overdue.html", rows=rows, parties=parties, today=date.today())


@bp.route("/received", methods=["GET", "POST"])
@permission_required("invoicing.view")
def received() -> Any:
    form = ImportForm()
    status = 200
    if request.method == "POST":
        if not can("invoicing.edit"):
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            form.file.errors = [_("Choose a FatturaPA XML file.")]
            status = 400
        else:
            try:
                record = services.import_received(upload.read(5_000_001), upload.filename)
            except services.InvoiceError as exc:
                db.session.rollback()
                form.file.errors = [str(exc)]
                status = 400
            else:
                flash(_("Invoice %(number)s imported.", number=record.number), "success")
                return redirect(url_for("invoicing.received_detail", record_id=record.id))
    page = paginate(
        select(ReceivedInvoice),
        request.args,
        {"date": [ReceivedInvoice.issue_date, ReceivedInvoice.id]},
        "-date",
    )
    ids = {r.party_id for r in page.items}
    parties = (
        {p.id: p for p in db.session.execute(select(Party).where(Party.id.in_(ids))).scalars()}
        if ids
        else {}
    )
    return render_template("invoicing/received.html", page=page, parties=parties, form=form), status


@bp.get("/received/<int:record_id>")
@permission_required("invoicing.view")
def received_detail(record_id: int) -> Any:
    record = db.session.get(ReceivedInvoice, record_id)
    if record is None:
        abort(404)
    return render_template(
        "invoicing/received_detail.html",
        record=record,
        party=db.session.get(Party, record.party_id),
    )


@bp.get("/reports")
@permission_required("invoicing.view")
def reports() -> Any:
    year = request.args.get("year", type=int) or date.today().year
    from flask_babel import format_date
    from flask_babel import lazy_gettext as _l

    from distretto.platform.formatting import money
    from distretto.sdk import Chart, ChartPoint

    months = services.revenue_per_month(year)
    chart = Chart(
        title=_l("Revenue per month, %(year)s", year=year),
        description=_l(
            "Taxable amount of issued invoices net of credit notes: %(total)s in total.",
            total=money(sum((value for _m, value in months), Decimal(0))),
        ),
        points=[
            ChartPoint(format_date(date(year, month, 1), "MMM"), value) for month, value in months
        ],
        label_heading=_l("Month"),
        value_heading=_l("Revenue"),
        value_format=money,
    )
    return render_template(
        "invoicing/reports.html",
        year=year,
        months=months,
        revenue_chart=chart,
        form=ReportForm(formdata=None),
    )


@bp.get("/reports/vat-register.csv")
@permission_required("invoicing.view")
def vat_register_csv() -> Any:
    try:
        start = date.fromisoformat(request.args.get("start") or f"{date.today().year}-01-01")
        end = date.fromisoformat(request.args.get("end") or date.today().isoformat())
    except ValueError:
        abort(400)
    if end < start:
        abort(400)
    rows = services.vat_register(start, end)
    buffer = io.StringIO()
    columns = [
        "date",
        "number",
        "kind",
        "customer",
        "vat_number",
        "rate",
        "natura",
        "taxable",
        "vat",
        "split_payment",
    ]
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";")
    writer.writeheader()
    writer.writerows({key: _safe_cell(value) for key, value in row.items()} for row in rows)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="registro-iva-vendite-{start}-{end}.csv"'
        },
    )


def _safe_cell(value: Any) -> Any:
    """A customer's name must not become a spreadsheet formula (CSV injection)."""
    if not isinstance(value, str) or value[:1] not in ("=", "+", "-", "@"):
        return value
    try:
        Decimal(value)
    except ArithmeticError:
        return "'" + value
    return value  # a negative amount stays a number


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("invoicing.settings")
def settings() -> Any:
    form = FiscalForm()
    form.regime.choices = select_choices([(code, code) for code in sorted(fatturapa.REGIMES)])
    if request.method == "POST":
        if form.validate_on_submit():
            values = {
                k: (v.strip() if isinstance(v, str) else v)
                for k, v in form.data.items()
                if k != "csrf_token"
            }
            try:
                services.update_fiscal_settings(values)
            except services.InvoiceError as exc:
                db.session.rollback()
                field = getattr(form, exc.field or "", None)
                (field.errors if field is not None else form.form_errors).append(str(exc))
            else:
                flash(_("Fiscal data saved."), "success")
                return redirect(url_for("invoicing.settings"))
        return render_template("invoicing/settings.html", form=form), 400
    current = (current_tenant.settings or {}).get("fiscal", {})
    for name, field in form._fields.items():
        if name in current:
            field.data = current[name]
    if not form.regime.data:
        form.regime.data = "RF01"
    return render_template("invoicing/settings.html", form=form)
