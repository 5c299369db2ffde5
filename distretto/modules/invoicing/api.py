"""REST API of invoicing: invoices and credit notes, their FatturaPA XML and PDF, payments
and what is overdue, at ``/api/v1/<tenant>/invoicing``.

Thin views over :mod:`distretto.modules.invoicing.services`: drafts change
(If-Match) until issued; issuing is the workflow's ``issue`` step, refused with
409 and the list of what to fix (``problems``) when the firm's or the
customer's fiscal data is missing; an issued invoice only takes payments and
credit notes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.invoicing import services
from distretto.modules.invoicing.models import (
    DOCUMENT_KINDS,
    Invoice,
    InvoiceDue,
    Payment,
)
from distretto.platform.listing import like_pattern
from distretto.sdk import (
    CustomFields,
    DecimalString,
    Problem,
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
    "invoicing",
    __name__,
    "Invoices (TD01), deferred invoices (TD24) and credit notes (TD04): drafts, issuing with "
    "the FatturaPA XML, PDF copies, payments and overdue instalments.",
)

DOCUMENT_TYPE = services.DOCUMENT_TYPE
ETAG_HEADER = {
    "ETag": {"description": "Send it back in If-Match to update.", "schema": {"type": "string"}}
}
MAX_AMOUNT = Decimal("99999999999.99")


# --- schemas ---------------------------------------------------------------------------------


class InvoiceLineOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    product_code = fields.String(allow_none=True)
    description = fields.String()
    quantity = DecimalString(places=3)
    unit = fields.String()
    unit_price = DecimalString(places=6)
    discount_percent = DecimalString(places=2)
    vat_rate = DecimalString(places=2)
    natura = fields.String(allow_none=True)
    amount = DecimalString(places=2)
    source_type = fields.String(allow_none=True)
    source_id = fields.Integer(allow_none=True)
    source_line_id = fields.Integer(allow_none=True)
    ddt_number = fields.String(allow_none=True)


class DueOut(Schema):
    id = fields.Integer()
    due_date = fields.Date()
    amount = DecimalString(places=2)
    paid_amount = DecimalString(places=2)
    outstanding = DecimalString(places=2)
    method = fields.String()


class ReferenceOut(Schema):
    id = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    date = fields.String(allow_none=True)


class InvoiceOut(Schema):
    """An invoice or credit note as the API answers it (amounts as decimal strings)."""

    id = fields.Integer()
    document_kind = fields.String(metadata={"description": "TD01, TD04 (credit note), TD24"})
    state = fields.String(metadata={"description": "The state in the firm's workflow."})
    series = fields.String()
    year = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True, metadata={"description": "Given when issued."})
    issue_date = fields.Date()
    party_id = fields.Integer()
    payment_terms_id = fields.Integer(allow_none=True)
    payment_method = fields.String()
    iban = fields.String(allow_none=True)
    split_payment = fields.Boolean()
    stamp_duty = DecimalString(places=2)
    corrects_id = fields.Integer(allow_none=True)
    order_references = fields.List(fields.Nested(ReferenceOut))
    ddt_references = fields.List(fields.Nested(ReferenceOut))
    causale = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    taxable_total = DecimalString(places=2)
    vat_total = DecimalString(places=2)
    total = DecimalString(places=2)
    amount_due = DecimalString(places=2)
    paid_total = DecimalString(places=2)
    outstanding = DecimalString(places=2)
    sdi_filename = fields.String(allow_none=True)
    issued_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    version = fields.Integer()
    custom = CustomFields(DOCUMENT_TYPE, output=True)
    lines = fields.List(fields.Nested(InvoiceLineOut))
    dues = fields.List(fields.Nested(DueOut))


class InvoiceLineIn(Schema):
    class Meta:
        unknown = EXCLUDE

    product_id = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    description = fields.String(allow_none=True, validate=validate.Length(max=1000))
    quantity = fields.Decimal(
        load_default=Decimal(1),
        places=3,
        validate=validate.Range(min=Decimal("0.001"), max=Decimal("9999999999.999")),
    )
    unit = fields.String(allow_none=True, validate=validate.Length(max=10))
    unit_price = fields.Decimal(
        allow_none=True,
        places=6,
        validate=validate.Range(min=0, max=Decimal("99999999999.999999")),
        metadata={"description": "Leave out to take the product's sale price."},
    )
    discount_percent = fields.Decimal(
        load_default=Decimal(0), places=2, validate=validate.Range(min=0, max=100)
    )
    vat_rate_id = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"description": "Leave out for the customer's or the product's rate."},
    )


class InvoiceIn(Schema):
    """A draft invoice (TD01) sent to the API."""

    class Meta:
        unknown = EXCLUDE

    party_id = fields.Integer(required=True, validate=validate.Range(min=1))
    issue_date = fields.Date(allow_none=True, metadata={"description": "Today if left out."})
    series = fields.String(allow_none=True, validate=validate.Length(max=10))
    payment_terms_id = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"description": "Leave out for the customer's terms."},
    )
    split_payment = fields.Boolean(metadata={"description": "Default: the customer's setting."})
    causale = fields.String(allow_none=True, validate=validate.Length(max=200))
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    custom = CustomFields(DOCUMENT_TYPE, load_default=dict)
    lines = fields.List(
        fields.Nested(InvoiceLineIn), required=True, validate=validate.Length(min=1, max=500)
    )


class FromOrdersIn(Schema):
    order_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1)),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Sales orders of one customer."},
    )
    deferred = fields.Boolean(
        load_default=False,
        metadata={"description": "A deferred invoice (TD24) listing the transport documents."},
    )


class PaymentIn(Schema):
    amount = fields.Decimal(
        required=True, places=2, validate=validate.Range(min=Decimal("0.01"), max=MAX_AMOUNT)
    )
    payment_date = fields.Date(allow_none=True, metadata={"description": "Today if left out."})
    note = fields.String(allow_none=True, validate=validate.Length(max=300))


class PaymentOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    due_id = fields.Integer(allow_none=True)
    payment_date = fields.Date()
    amount = DecimalString(places=2)
    method = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = UtcDateTime()


class PaymentRecorded(PaymentOut):
    invoice_state = fields.String()
    invoice_outstanding = DecimalString(places=2)


class OverdueOut(Schema):
    """An instalment past its due date and not (fully) paid."""

    due_id = fields.Integer()
    invoice_id = fields.Integer()
    number = fields.String(allow_none=True)
    party_id = fields.Integer()
    due_date = fields.Date()
    amount = DecimalString(places=2)
    paid_amount = DecimalString(places=2)
    outstanding = DecimalString(places=2)
    days_overdue = fields.Integer()


SORTS = {
    "date": Invoice.issue_date,
    "number": [Invoice.year, Invoice.sequence],
    "total": Invoice.total,
    "state": Invoice.state,
    "created_at": Invoice.created_at,
}
InvoiceListArgs = list_args(
    "InvoiceListArgs",
    list(SORTS),
    "-date",
    q=fields.String(validate=validate.Length(max=100), metadata={"description": "Number."}),
    state=fields.String(validate=validate.Length(max=40)),
    party_id=fields.Integer(validate=validate.Range(min=1)),
    document_kind=fields.String(validate=validate.OneOf(DOCUMENT_KINDS)),
    date_from=fields.Date(metadata={"description": "Issue date from (inclusive)."}),
    date_to=fields.Date(metadata={"description": "Issue date up to (inclusive)."}),
    overdue=fields.Boolean(metadata={"description": "Only those with an instalment overdue."}),
)
PaymentListArgs = list_args("PaymentListArgs", ["date"], "date")
OVERDUE_SORTS = {"due_date": InvoiceDue.due_date, "amount": InvoiceDue.amount}
OverdueListArgs = list_args(
    "OverdueListArgs",
    list(OVERDUE_SORTS),
    "due_date",
    party_id=fields.Integer(validate=validate.Range(min=1)),
)


# --- helpers ----------------------------------------------------------------------------------


def _invoice(invoice_id: int, *, lock: bool = False) -> Invoice:
    query = (
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(selectinload(Invoice.lines), selectinload(Invoice.dues))
    )
    invoice = db.session.execute(locked(query, Invoice) if lock else query).scalar_one_or_none()
    if invoice is None:
        raise Problem(404, _("No such invoice."))
    return invoice


def _dump(invoice: Invoice) -> dict[str, Any]:
    return InvoiceOut().dump(invoice)


def _invalid(exc: services.InvoiceError) -> ValidationError | Problem:
    """The service's refusal: a field's message (422) or, with no field, a conflict (409)."""
    db.session.rollback()
    if exc.field:
        return ValidationError({exc.field: [str(exc)]})
    return Problem(409, str(exc), code="refused")


def _custom(values: dict[str, Any], existing: dict[str, Any] | None = None) -> None:
    if "custom" in values or existing is None:
        values["custom"] = customfields.clean(
            DOCUMENT_TYPE, values.get("custom") or {}, existing=existing
        )


def _created(invoice: Invoice) -> Response:
    db.session.flush()
    return respond(_dump(invoice), 201, location=url_for(".get_invoice", invoice_id=invoice.id))


def _overdue_ids(today: date) -> Any:
    return services.overdue_query(today).with_only_columns(InvoiceDue.invoice_id).order_by(None)


# --- invoices -----------------------------------------------------------------------------------


@blp.route("/invoices", methods=["GET"])
@permission_required("invoicing.view")
@blp.arguments(InvoiceListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(InvoiceOut))
def list_invoices(args: dict[str, Any]) -> Any:
    """List invoices and credit notes. Filter on the firm's custom fields with cf_<name>=value
    or cf_<name>__<op>=value (op: eq, ne, gt, gte, lt, lte, contains, empty)."""
    query = select(Invoice).options(selectinload(Invoice.lines), selectinload(Invoice.dues))
    for key in ("state", "party_id", "document_kind"):
        if args.get(key) is not None:
            query = query.where(getattr(Invoice, key) == args[key])
    if args.get("q"):
        query = query.where(Invoice.number.ilike(like_pattern(args["q"].strip()), escape="\\"))
    if args.get("date_from"):
        query = query.where(Invoice.issue_date >= args["date_from"])
    if args.get("date_to"):
        query = query.where(Invoice.issue_date <= args["date_to"])
    if args.get("overdue") is not None:
        overdue = Invoice.id.in_(_overdue_ids(date.today()))
        query = query.where(overdue if args["overdue"] else ~overdue)
    for clause in custom_field_filters(Invoice, DOCUMENT_TYPE):
        query = query.where(clause)
    return paginate(query, args, SORTS, InvoiceOut(many=True).dump)


@blp.route("/invoices", methods=["POST"])
@permission_required("invoicing.edit")
@blp.body(InvoiceIn)
@blp.response(201, InvoiceOut, headers=ETAG_HEADER)
def create_invoice() -> Any:
    """Create a draft invoice (TD01) from lines; the stamp duty and totals are computed."""
    values = InvoiceIn().load(json_body(InvoiceIn))
    _custom(values)
    try:
        invoice = services.create_invoice(values)
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    return _created(invoice)


@blp.route("/invoices/from-orders", methods=["POST"])
@permission_required("invoicing.edit")
@blp.body(FromOrdersIn)
@blp.response(201, InvoiceOut, headers=ETAG_HEADER)
def invoice_orders() -> Any:
    """A draft invoice of what was delivered and not yet invoiced on one customer's sales
    orders; ``deferred: true`` makes a TD24 listing their transport documents."""
    values = FromOrdersIn().load(json_body(FromOrdersIn))
    try:
        invoice = services.invoice_from_orders(values["order_ids"], deferred=values["deferred"])
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    return _created(invoice)


@blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@permission_required("invoicing.view")
@blp.response(200, InvoiceOut, headers=ETAG_HEADER)
def get_invoice(invoice_id: int) -> Any:
    """One invoice with its lines and instalments, and its ETag."""
    return respond(_dump(_invoice(invoice_id)))


@blp.route("/invoices/<int:invoice_id>", methods=["PATCH"])
@permission_required("invoicing.edit")
@blp.body(InvoiceIn(partial=True))
@blp.response(200, InvoiceOut, headers=ETAG_HEADER)
def update_invoice(invoice_id: int) -> Any:
    """Change a draft: send only what changes; ``lines`` replaces all lines. If-Match
    required (428 without, 412 when stale); 409 once issued."""
    invoice = _invoice(invoice_id, lock=True)
    check_if_match(_dump(invoice))
    values = InvoiceIn(partial=True).load(json_body(InvoiceIn))
    if invoice.issued or invoice.state != "draft":
        raise Problem(
            409, _("An issued invoice cannot change: issue a credit note."), code="locked"
        )
    _custom(values, existing=dict(invoice.custom or {}))
    try:
        services.update_draft(invoice, values)
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    db.session.flush()
    return respond(_dump(invoice))


@blp.route("/invoices/<int:invoice_id>", methods=["DELETE"])
@permission_required("invoicing.edit")
@blp.response(204)
def delete_invoice(invoice_id: int) -> Any:
    """Delete a draft (409 once issued: correct it with a credit note instead)."""
    invoice = _invoice(invoice_id, lock=True)
    try:
        services.delete_draft(invoice)
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    return Response(status=204)


@blp.route("/invoices/<int:invoice_id>/credit-note", methods=["POST"])
@permission_required("invoicing.edit")
@blp.response(201, InvoiceOut, headers=ETAG_HEADER)
def credit_note(invoice_id: int) -> Any:
    """A draft credit note (TD04) correcting all of an issued invoice (409 otherwise)."""
    invoice = _invoice(invoice_id)
    try:
        note = services.credit_note_for(invoice)
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    return _created(note)


@blp.route("/invoices/<int:invoice_id>/transitions/<name>", methods=["POST"])
@permission_required("invoicing.view")
@blp.response(200, InvoiceOut, headers=ETAG_HEADER)
def invoice_transition(invoice_id: int, name: str) -> Any:
    """Move an invoice through its workflow: ``issue`` (numbers it and builds the FatturaPA
    XML), ``mark_sent``, ``cancel`` (a draft). 409 with the reason when refused; for
    ``issue``, ``problems`` lists what to fix (firm's or customer's fiscal data, lines)."""
    invoice = _invoice(invoice_id, lock=True)
    values = transition_input()
    workflow_step(invoice, name)
    try:
        workflow.apply(
            invoice, DOCUMENT_TYPE, name, role=current_role(), comment=values.get("comment")
        )
    except workflow.TransitionRefused as exc:
        problems = (
            [
                {"where": p.where, "message": str(p)}
                for p in services.preview_problems(_invoice(invoice_id))
            ]
            if name == "issue" and invoice.number is None
            else []
        )
        db.session.rollback()
        extra: dict[str, Any] = {"reason": exc.code}
        if problems:
            extra["problems"] = problems
        raise Problem(409, str(exc), code="transition_refused", extra=extra) from exc
    db.session.flush()
    return respond(_dump(invoice))


@blp.route("/invoices/<int:invoice_id>/xml", methods=["GET"])
@permission_required("invoicing.view")
@blp.doc(
    responses={
        "200": {
            "description": "The FatturaPA XML sent to SDI.",
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def invoice_xml(invoice_id: int) -> Any:
    """The invoice's FatturaPA XML (409 until it is issued)."""
    invoice = _invoice(invoice_id)
    if not invoice.xml_content:
        raise Problem(409, _("The XML is built when the invoice is issued."), code="not_issued")
    return Response(
        invoice.xml_content,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{invoice.sdi_filename}"'},
    )


@blp.route("/invoices/<int:invoice_id>/pdf", methods=["GET"])
@permission_required("invoicing.view")
@blp.doc(
    responses={
        "200": {
            "description": "The courtesy copy as PDF (a draft's says so).",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def invoice_pdf(invoice_id: int) -> Any:
    """The invoice's courtesy copy as PDF."""
    from distretto.modules.invoicing.printing import courtesy_copy_pdf

    invoice = _invoice(invoice_id)
    name = (invoice.number or f"draft-{invoice.id}").replace("/", "-")
    return Response(
        courtesy_copy_pdf(invoice),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


# --- payments ------------------------------------------------------------------------------------


@blp.route("/invoices/<int:invoice_id>/payments", methods=["GET"])
@permission_required("invoicing.view")
@blp.arguments(PaymentListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(PaymentOut))
def list_payments(args: dict[str, Any], invoice_id: int) -> Any:
    """The payments recorded on an invoice (credit notes that offset it included)."""
    invoice = _invoice(invoice_id)
    query = select(Payment).where(Payment.invoice_id == invoice.id)
    return paginate(query, args, {"date": Payment.payment_date}, PaymentOut(many=True).dump)


@blp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@permission_required("invoicing.payments")
@blp.body(PaymentIn)
@blp.response(201, PaymentRecorded)
def record_payment(invoice_id: int) -> Any:
    """Record a payment on an issued invoice: it settles the oldest open instalments and the
    invoice becomes partially paid or paid. Send an ``Idempotency-Key`` so a retried request
    records it once. 422 when more than is due; 409 on a draft or cancelled invoice."""
    invoice = _invoice(invoice_id)
    values = PaymentIn().load(json_body(PaymentIn))
    try:
        payment = services.register_payment(
            invoice, values["amount"], values.get("payment_date"), values.get("note")
        )
    except services.InvoiceError as exc:
        raise _invalid(exc) from exc
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        raise Problem(409, str(exc), code="transition_refused") from exc
    db.session.flush()
    data = {name: getattr(payment, name) for name in PaymentOut().fields}
    data.update(invoice_state=invoice.state, invoice_outstanding=invoice.outstanding)
    body = PaymentRecorded().dump(data)
    return respond(body, 201, etag=False)


@blp.route("/overdue", methods=["GET"])
@permission_required("invoicing.view")
@blp.arguments(OverdueListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(OverdueOut))
def list_overdue(args: dict[str, Any]) -> Any:
    """Instalments past their due date and not fully paid, oldest first."""
    today = date.today()
    query = services.overdue_query(today).with_only_columns(InvoiceDue).order_by(None)
    if args.get("party_id"):
        query = query.where(Invoice.party_id == args["party_id"])

    def dump(dues: list[InvoiceDue]) -> list[dict[str, Any]]:
        invoices = {
            i.id: i
            for i in db.session.execute(
                select(Invoice).where(Invoice.id.in_({d.invoice_id for d in dues}))
            ).scalars()
        }
        return OverdueOut(many=True).dump(
            [
                {
                    "due_id": due.id,
                    "invoice_id": due.invoice_id,
                    "number": invoices[due.invoice_id].number,
                    "party_id": invoices[due.invoice_id].party_id,
                    "due_date": due.due_date,
                    "amount": due.amount,
                    "paid_amount": due.paid_amount,
                    "outstanding": due.outstanding,
                    "days_overdue": (today - due.due_date).days,
                }
                for due in dues
            ]
        )

    return paginate(query, args, OVERDUE_SORTS, dump)


__all__ = ["InvoiceOut", "blp"]
