"""Business rules of invoicing: drafts, issuing, credit notes, payments, received invoices.

Issuing is one workflow step in one transaction: the gapless number of the
series and year is taken, the schedule computed, the FatturaPA XML built and
validated (XSD and SDI rules); if anything is wrong the step fails, the
number goes back, and the user reads what to fix and where.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import selectinload

from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.pricing import TaxedAmount, line_amount, money, totals
from distretto.modules.invoicing import fatturapa
from distretto.modules.invoicing.models import (
    TD_CREDIT_NOTE,
    TD_DEFERRED,
    TD_INVOICE,
    Invoice,
    InvoiceDue,
    InvoiceLine,
    Payment,
    ReceivedInvoice,
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
    workflow,
)

DOCUMENT_TYPE = "invoice"
STAMP_THRESHOLD = Decimal("77.47")
STAMP_AMOUNT = Decimal("2.00")
STAMP_CODE = "BOLLO"
# Amounts are numeric(14,2), quantities numeric(14,3), prices numeric(18,6): what a column
# cannot hold is refused as input (PostgreSQL would fail the whole request otherwise).
MAX_AMOUNT = Decimal("1000000000000")
MAX_QUANTITY = Decimal("10000000000")
MAX_PRICE = Decimal("100000000000")
MAX_LINE_AMOUNT = Decimal("10000000000")
MAX_TAXABLE = Decimal("100000000000")
#: Natura codes whose amounts count toward the stamp-duty threshold
#: (exports and intra-EU supplies, N3.1-N3.4, and reverse charge are exempt from stamp duty).
STAMP_NATURE = {"N1", "N2.1", "N2.2", "N3.5", "N3.6", "N4", "N5"}


class InvoiceError(ValueError):
    """A rule refused the request; ``field`` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- drafts ------------------------------------------------------------------------------


def _customer(party_id: Any) -> Party:
    party = db.session.get(Party, int(party_id)) if str(party_id or "").isdigit() else None
    if party is None or party.archived or not party.is_customer:
        raise InvoiceError(_("Choose a customer."), "party_id")
    return party


def _rate(rate_id: Any, product: Product | None, party: Party) -> VatRate:
    if rate_id:
        rate = db.session.get(VatRate, int(rate_id))
        if rate is None:
            raise InvoiceError(_("Unknown VAT rate."), "vat_rate_id")
        return rate
    chosen = party.vat_rate_id or (product.vat_rate_id if product else None)
    if chosen is None:
        raise InvoiceError(_("A line without a product needs a VAT rate."), "vat_rate_id")
    return db.session.get(VatRate, chosen)


def _decimal(
    value: Any,
    field: str,
    *,
    positive: bool = False,
    allow_zero: bool = True,
    places: int = 2,
    limit: Decimal = MAX_AMOUNT,
) -> Decimal:
    """The number typed (1.234,56 or 1234.56), rounded to the ``places`` its column keeps;
    refused when negative, zero where not allowed (also once rounded), or above ``limit``."""
    text = str(value if value is not None else "").strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except ArithmeticError as exc:
        raise InvoiceError(_("%(value)s is not a number.", value=value), field) from exc
    if number.is_finite() and abs(number) < limit:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if (
        not number.is_finite()
        or abs(number) >= limit
        or (positive and number <= 0)
        or (not allow_zero and number == 0)
        or number < 0
    ):
        raise InvoiceError(_("%(value)s is not allowed here.", value=value), field)
    return number


def build_line(data: dict[str, Any], party: Party, position: int) -> InvoiceLine:
    product = None
    if data.get("product_id"):
        product = db.session.get(Product, int(data["product_id"]))
        if product is None:
            raise InvoiceError(_("Unknown product."), "product_id")
    quantity = _decimal(
        data.get("quantity") or "1", "quantity", positive=True, places=3, limit=MAX_QUANTITY
    )
    if data.get("unit_price") not in (None, ""):
        unit_price = _decimal(data["unit_price"], "unit_price", places=6, limit=MAX_PRICE)
    elif product is not None:
        unit_price = Decimal(product.sale_price)
    else:
        raise InvoiceError(_("A line without a product needs a price."), "unit_price")
    discount = _decimal(data.get("discount_percent") or "0", "discount_percent", limit=MAX_PRICE)
    if discount > 100:
        raise InvoiceError(_("The discount is between 0 and 100%."), "discount_percent")
    description = (data.get("description") or (product.description if product else "")).strip()
    if not description:
        raise InvoiceError(_("Choose a product or write a description."), "description")
    rate = _rate(data.get("vat_rate_id"), product, party)
    if line_amount(quantity, unit_price, discount) >= MAX_LINE_AMOUNT:
        raise InvoiceError(_("The line amount is too large."), "unit_price")
    return InvoiceLine(
        position=position,
        product_id=product.id if product else None,
        product_code=product.code if product else data.get("product_code"),
        description=description[:1000],
        quantity=quantity,
        unit=(data.get("unit") or (product.unit if product else "pz"))[:10],
        unit_price=unit_price,
        discount_percent=discount,
        vat_rate=rate.rate,
        natura=rate.natura,
        amount=line_amount(quantity, unit_price, discount),
        source_type=data.get("source_type"),
        source_id=data.get("source_id"),
        source_line_id=data.get("source_line_id"),
        ddt_number=data.get("ddt_number"),
    )


def _build_lines(lines: list[dict[str, Any]], party: Party) -> list[InvoiceLine]:
    """The lines, or InvoiceError naming the line at fault."""
    built = []
    for index, data in enumerate(lines, start=1):
        try:
            built.append(build_line(data, party, index))
        except InvoiceError as exc:
            raise InvoiceError(f"{_('line %(num)d', num=index)}: {exc}", exc.field) from exc
    return built


def recompute(invoice: Invoice) -> None:
    """Totals, VAT summary and the stamp duty (added as its own line when due)."""
    invoice.lines = [
        line for line in invoice.lines if line.product_code != STAMP_CODE or line.product_id
    ]
    exempt = sum(
        (Decimal(line.amount) for line in invoice.lines if line.natura in STAMP_NATURE), Decimal(0)
    )
    if exempt > STAMP_THRESHOLD:
        invoice.stamp_duty = STAMP_AMOUNT
        invoice.lines.append(
            InvoiceLine(
                position=len(invoice.lines) + 1,
                product_code=STAMP_CODE,
                description="Imposta di bollo assolta in modo virtuale",
                quantity=Decimal(1),
                unit="pz",
                unit_price=STAMP_AMOUNT,
                discount_percent=Decimal(0),
                vat_rate=Decimal(0),
                natura="N1",
                amount=STAMP_AMOUNT,
            )
        )
    else:
        invoice.stamp_duty = Decimal(0)
    for position, line in enumerate(invoice.lines, start=1):
        line.position = position
    result = totals(TaxedAmount(line.amount, line.vat_rate, line.natura) for line in invoice.lines)
    if result.taxable >= MAX_TAXABLE:
        raise InvoiceError(_("The invoice total is too large."), "lines")
    invoice.taxable_total = result.taxable
    invoice.vat_total = result.vat
    invoice.total = result.total
    invoice.amount_due = result.taxable if invoice.split_payment else result.total


def vat_summary(invoice: Invoice) -> list[Any]:
    return totals(
        TaxedAmount(line.amount, line.vat_rate, line.natura) for line in invoice.lines
    ).summary


def create_invoice(data: dict[str, Any], *, kind: str = TD_INVOICE) -> Invoice:
    """A draft invoice from ``party_id``, ``lines`` and optional header fields."""
    party = _customer(data.get("party_id"))
    lines_data = [
        line
        for line in data.get("lines") or []
        if any(
            str(v).strip()
            for k, v in line.items()
            if k in ("product_id", "description", "quantity", "unit_price") and v is not None
        )
    ]
    if not lines_data:
        raise InvoiceError(_("An invoice needs at least one line."), "lines")
    issue_date = data.get("issue_date") or date.today()
    if isinstance(issue_date, str):
        try:
            issue_date = date.fromisoformat(issue_date)
        except ValueError as exc:
            raise InvoiceError(_("The date is not valid."), "issue_date") from exc
    terms = _payment_terms(data.get("payment_terms_id"), party)
    series = (data.get("series") or "").strip()
    if len(series) > 10 or not numbering.SERIES_RE.match(series):
        raise InvoiceError(_("A series is up to 10 letters, digits, -, _ or /."), "series")
    settings = _fiscal_settings()
    invoice = Invoice(
        document_kind=kind,
        series=series,
        issue_date=issue_date,
        party_id=party.id,
        payment_terms_id=terms.id if terms else None,
        payment_method=(terms.method if terms else "MP05"),
        iban=data.get("iban") or settings.get("iban"),
        split_payment=bool(data.get("split_payment", party.split_payment)),
        corrects_id=data.get("corrects_id"),
        order_references=data.get("order_references") or [],
        ddt_references=data.get("ddt_references") or [],
        causale=(data.get("causale") or None),
        notes=(data.get("notes") or None),
        custom=data.get("custom") or {},
        created_by_id=current_actor_id(),
    )
    invoice.lines = _build_lines(lines_data, party)
    recompute(invoice)
    workflow.start(invoice, DOCUMENT_TYPE)
    audit.record("invoice.created", invoice, summary={"kind": kind, "total": str(invoice.total)})
    return invoice


def _payment_terms(terms_id: Any, party: Party) -> PaymentTerms | None:
    """The chosen terms (refused when unknown to the firm), else the customer's."""
    if terms_id in (None, ""):
        return (
            db.session.get(PaymentTerms, party.payment_terms_id) if party.payment_terms_id else None
        )
    terms = db.session.get(PaymentTerms, int(terms_id)) if str(terms_id).isdigit() else None
    if terms is None:
        raise InvoiceError(_("Unknown payment terms."), "payment_terms_id")
    return terms


def _fiscal_settings() -> dict[str, Any]:
    return dict((getattr(current_tenant, "settings", None) or {}).get("fiscal", {}))


def update_fiscal_settings(values: dict[str, Any]) -> None:
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    if values.get("regime") and values["regime"] not in fatturapa.REGIMES:
        raise InvoiceError(_("Unknown tax regime."), "regime")
    if values.get("postcode") and not fatturapa.CAP_RE.match(values["postcode"]):
        raise InvoiceError(_("An Italian postcode (CAP) has 5 digits."), "postcode")
    # what the e-invoice's schema would refuse at issue is refused here, on its own field
    if values.get("province"):
        values["province"] = values["province"].strip().upper()
        if not fatturapa.PROVINCE_RE.match(values["province"]):
            raise InvoiceError(_("Use the two-letter province code (e.g. BG)."), "province")
    if values.get("tax_code"):
        from stdnum.it import codicefiscale, iva

        values["tax_code"] = values["tax_code"].strip().upper()
        if not (codicefiscale.is_valid(values["tax_code"]) or iva.is_valid(values["tax_code"])):
            raise InvoiceError(
                _("%(value)s is not a valid codice fiscale.", value=values["tax_code"]), "tax_code"
            )
    if values.get("iban"):
        from stdnum import iban

        if not iban.is_valid(values["iban"]):
            raise InvoiceError(_("The IBAN is not valid."), "iban")
        values["iban"] = iban.compact(values["iban"])
    settings = dict(tenant.settings or {})
    settings["fiscal"] = {
        **settings.get("fiscal", {}),
        **{k: (v or None) for k, v in values.items()},
    }
    tenant.settings = settings
    db.session.flush()
    audit.record(
        "invoicing.fiscal_settings",
        None,
        object_type="settings",
        summary={k: str(v) for k, v in values.items()},
    )


def delete_draft(invoice: Invoice) -> None:
    if invoice.issued or invoice.state != "draft":
        raise InvoiceError(
            _("Only drafts can be deleted; correct an issued invoice with a credit note.")
        )
    audit.record("invoice.deleted", invoice, summary={"total": str(invoice.total)})
    db.session.delete(invoice)
    db.session.flush()


def ensure_editable(invoice: Invoice) -> None:
    if invoice.issued or invoice.state != "draft":
        raise InvoiceError(_("An issued invoice cannot change: issue a credit note instead."))


def replace_lines(invoice: Invoice, lines: list[dict[str, Any]]) -> Invoice:
    ensure_editable(invoice)
    party = db.session.get(Party, invoice.party_id)
    invoice.lines = _build_lines(lines, party)
    if not invoice.lines:
        raise InvoiceError(_("An invoice needs at least one line."), "lines")
    recompute(invoice)
    db.session.flush()
    audit.record("invoice.updated", invoice, summary={"total": str(invoice.total)})
    return invoice


DRAFT_FIELDS = ("party_id", "issue_date", "series", "payment_terms_id", "split_payment")


def update_draft(invoice: Invoice, data: dict[str, Any]) -> Invoice:
    """Change a draft's header and, when ``lines`` is given, replace its lines.

    Only the keys present change (the API's PATCH); the totals are recomputed,
    since the customer, the lines or split payment all move them.
    """
    ensure_editable(invoice)
    party = (
        _customer(data["party_id"])
        if "party_id" in data
        else db.session.get(Party, invoice.party_id)
    )
    invoice.party_id = party.id
    if "issue_date" in data:
        invoice.issue_date = data["issue_date"] or date.today()
    if "series" in data:
        series = (data["series"] or "").strip()
        if len(series) > 10 or not numbering.SERIES_RE.match(series):
            raise InvoiceError(_("A series is up to 10 letters, digits, -, _ or /."), "series")
        invoice.series = series
    if "payment_terms_id" in data:
        terms = _payment_terms(data["payment_terms_id"], party)
        invoice.payment_terms_id = terms.id if terms else None
        invoice.payment_method = terms.method if terms else "MP05"
    if "split_payment" in data:
        invoice.split_payment = bool(data["split_payment"])
    for key in ("causale", "notes"):
        if key in data:
            setattr(invoice, key, data[key] or None)
    if "custom" in data:
        invoice.custom = data["custom"]
    if "lines" in data:
        invoice.lines = _build_lines(data["lines"] or [], party)
        if not invoice.lines:
            raise InvoiceError(_("An invoice needs at least one line."), "lines")
    recompute(invoice)
    db.session.flush()
    audit.record("invoice.updated", invoice, summary={"total": str(invoice.total)})
    return invoice


# --- from orders ----------------------------------------------------------------------------


def invoiced_quantities(source_type: str, line_ids: Iterable[int]) -> dict[int, Decimal]:
    ids = list(line_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(InvoiceLine.source_line_id, func.sum(InvoiceLine.quantity))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.source_type == source_type,
            InvoiceLine.source_line_id.in_(ids),
            Invoice.state != "cancelled",
            Invoice.document_kind != TD_CREDIT_NOTE,
        )
        .group_by(InvoiceLine.source_line_id)
    ).all()
    return {line_id: Decimal(quantity) for line_id, quantity in rows}


def invoice_from_orders(order_ids: list[int], *, deferred: bool = False) -> Invoice:
    """One draft invoice for the delivered, not yet invoiced goods of one customer's orders.

    ``deferred`` makes a TD24 that lists the transport documents it covers.
    """
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get("sales_order")
    if doc_type is None:
        raise InvoiceError(_("The orders module is not available."))
    model = doc_type.model
    orders = list(db.session.execute(select(model).where(model.id.in_(order_ids))).scalars())
    if not orders or len(orders) != len(set(order_ids)):
        raise InvoiceError(_("Choose one or more orders."), "orders")
    if any(getattr(order, "kind", "sale") != "sale" for order in orders):
        raise InvoiceError(_("Only sales orders can be invoiced."), "orders")
    parties = {order.party_id for order in orders}
    if len(parties) != 1:
        raise InvoiceError(_("The orders belong to different customers."), "orders")
    line_ids = [line.id for order in orders for line in order.lines]
    done = invoiced_quantities("sales_order", line_ids)
    ddts = _transport_documents(orders)
    lines: list[dict[str, Any]] = []
    for order in orders:
        for line in order.lines:
            delivered = Decimal(line.quantity_delivered)
            todo = delivered - done.get(line.id, Decimal(0))
            if todo <= 0:
                continue
            lines.append(
                {
                    "product_id": line.product_id,
                    "description": line.description,
                    "quantity": todo,
                    "unit": line.unit,
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent,
                    "vat_rate_id": line.vat_rate_id,
                    "source_type": "sales_order",
                    "source_id": order.id,
                    "source_line_id": line.id,
                }
            )
    if not lines:
        raise InvoiceError(_("Nothing delivered is left to invoice on these orders."), "orders")
    if deferred and not ddts:
        raise InvoiceError(
            _("A deferred invoice needs transport documents: ship the orders first."), "orders"
        )
    invoice = create_invoice(
        {
            "party_id": orders[0].party_id,
            "lines": lines,
            "order_references": [
                {"id": order.id, "number": order.number, "date": order.order_date.isoformat()}
                for order in orders
            ],
            "ddt_references": ddts if deferred else [],
        },
        kind=TD_DEFERRED if deferred else TD_INVOICE,
    )
    return invoice


def _transport_documents(orders: list[Any]) -> list[dict[str, Any]]:
    from distretto.platform.modules import enabled_modules, registry

    doc_type = registry.document_types.get("transport_document")
    if doc_type is None or "inventory" not in {m.name for m in enabled_modules()}:
        return []
    model = doc_type.model
    rows = db.session.execute(
        select(model)
        .where(
            model.source_type == "sales_order",
            model.source_id.in_([o.id for o in orders]),
            model.number.is_not(None),
        )
        .order_by(model.shipment_date, model.id)
    ).scalars()
    # a DDT already listed by an earlier (not cancelled) invoice is not listed again
    covered = {
        reference.get("id")
        for references in db.session.execute(
            select(Invoice.ddt_references).where(
                Invoice.party_id.in_({o.party_id for o in orders}),
                Invoice.state != "cancelled",
                Invoice.document_kind != TD_CREDIT_NOTE,
            )
        ).scalars()
        for reference in references or []
    }
    return [
        {"id": s.id, "number": s.number, "date": s.shipment_date.isoformat()}
        for s in rows
        if s.id not in covered
    ]


def credit_note_for(invoice: Invoice, lines: list[dict[str, Any]] | None = None) -> Invoice:
    """A draft TD04 correcting ``invoice`` (all its lines unless ``lines`` says otherwise)."""
    if not invoice.issued or invoice.is_credit_note:
        raise InvoiceError(_("Only an issued invoice can be corrected with a credit note."))
    if lines is None:
        lines = [
            {
                "product_id": line.product_id,
                "product_code": line.product_code,
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "vat_rate_id": _rate_id_for(line.vat_rate, line.natura),
            }
            for line in invoice.lines
            if line.product_code != STAMP_CODE or line.product_id
        ]
    return create_invoice(
        {
            "party_id": invoice.party_id,
            "lines": lines,
            "corrects_id": invoice.id,
            "payment_terms_id": invoice.payment_terms_id,
            "split_payment": invoice.split_payment,
            "series": invoice.series,
            "causale": _(
                "Credit note for invoice %(number)s of %(date)s",
                number=invoice.number,
                date=invoice.issue_date.isoformat(),
            ),
        },
        kind=TD_CREDIT_NOTE,
    )


def _rate_id_for(rate: Decimal, natura: str | None) -> int:
    query = select(VatRate.id).where(VatRate.rate == rate)
    query = (
        query.where(VatRate.natura == natura) if natura else query.where(VatRate.natura.is_(None))
    )
    found = db.session.execute(query.limit(1)).scalar_one_or_none()
    if found is None:
        raise InvoiceError(_("The VAT rate of a line no longer exists."))
    return found


# --- issuing -----------------------------------------------------------------------------------


def payment_schedule(
    terms: PaymentTerms | None, amount_due: Decimal, issued_on: date
) -> list[tuple[date, Decimal, str]]:
    """(due date, amount, method) per instalment; the last one absorbs rounding."""
    method = terms.method if terms else "MP05"
    instalments = (terms.instalments if terms else None) or [
        {"days": 0, "end_of_month": False, "percent": "100"}
    ]
    result = []
    remaining = Decimal(amount_due)
    for index, instalment in enumerate(instalments):
        due = issued_on + timedelta(days=int(instalment.get("days", 0)))
        if instalment.get("end_of_month"):
            due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
        if index == len(instalments) - 1:
            share = remaining
        else:
            share = (
                Decimal(amount_due) * Decimal(str(instalment.get("percent", "100"))) / 100
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            remaining -= share
        result.append((due, share, method))
    return result


def issue_action(context: ActionContext) -> None:
    issue(context.document)


def issue(invoice: Invoice) -> None:
    """Number, schedule and XML; raises ActionError listing what to fix."""
    if invoice.issued:
        raise ActionError(_("This invoice is already issued."))
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    party = db.session.get(Party, invoice.party_id)
    firm = fatturapa.firm_data(tenant)
    related = db.session.get(Invoice, invoice.corrects_id) if invoice.corrects_id else None
    problems = fatturapa.check(invoice, firm, party)
    if invoice.corrects_id and (related is None or not related.issued):
        problems.append(fatturapa.Problem("invoice", _("the corrected invoice is not issued")))
    if problems:
        raise ActionError(
            _(
                "The e-invoice cannot be issued: %(problems)s",
                problems="; ".join(map(str, problems)),
            )
        )
    if invoice.issue_date > date.today():
        # SDI rejects an invoice dated after the day it receives it
        raise ActionError(
            _(
                "The invoice date %(date)s is in the future: date it today or earlier.",
                date=format_date(invoice.issue_date),
            )
        )
    recompute(invoice)
    try:
        sequence, number = numbering.next_number(
            DOCUMENT_TYPE, invoice.issue_date, series=invoice.series
        )
    except numbering.NumberingError as exc:
        raise ActionError(str(exc)) from exc
    if len(number) > 20:
        raise ActionError(
            _(
                "The number %(number)s is longer than the 20 characters FatturaPA allows: "
                "shorten the numbering format in the settings.",
                number=number,
            )
        )
    _check_chronological(invoice)  # after taking the number: its lock orders concurrent issues
    invoice.sequence, invoice.number, invoice.year = sequence, number, invoice.issue_date.year
    terms = (
        db.session.get(PaymentTerms, invoice.payment_terms_id) if invoice.payment_terms_id else None
    )
    invoice.dues = [
        InvoiceDue(due_date=due, amount=share, method=method)
        for due, share, method in payment_schedule(
            terms, Decimal(invoice.amount_due), invoice.issue_date
        )
    ]
    db.session.flush()
    invoice.sdi_filename = fatturapa.sdi_filename(firm.vat_number, invoice.id)
    xml = fatturapa.build(
        invoice,
        firm,
        party,
        vat_summary(invoice),
        related=related,
        progressive=invoice.sdi_filename.split("_", 1)[1].split(".")[0],
    )
    errors = fatturapa.validate(xml)
    if errors:
        raise ActionError(
            _(
                "The e-invoice does not match the FatturaPA schema: %(errors)s",
                errors="; ".join(errors[:5]),
            )
        )
    invoice.xml_content = xml
    from distretto.sdk import utcnow

    invoice.issued_at = utcnow()
    db.session.flush()
    if invoice.is_credit_note and related is not None:
        _offset_credit_note(invoice, related)
    events.emit(
        "invoice.issued",
        invoice=invoice,
        order_ids=sorted(
            {
                line.source_id
                for line in invoice.lines
                if line.source_type == "sales_order" and line.source_id
            }
        ),
    )


def _check_chronological(invoice: Invoice) -> None:
    """Numbers of a series follow the dates (art. 21 DPR 633/72): no issuing before the
    date of the series' last issued invoice."""
    query = select(Invoice.number, Invoice.issue_date).where(
        Invoice.number.is_not(None),
        Invoice.series == invoice.series,
        Invoice.issue_date > invoice.issue_date,
        Invoice.id != invoice.id,
    )
    if numbering.rule_for(DOCUMENT_TYPE).yearly_reset:
        query = query.where(Invoice.year == invoice.issue_date.year)
    later = db.session.execute(query.order_by(Invoice.issue_date.desc()).limit(1)).first()
    if later is not None:
        raise ActionError(
            _(
                "Invoice %(number)s of the same series is dated %(date)s: "
                "date this one %(date)s or later.",
                number=later.number,
                date=format_date(later.issue_date),
            )
        )


def preview_problems(invoice: Invoice) -> list[fatturapa.Problem]:
    """What would stop issuing, shown on the draft's page before the user tries."""
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    return fatturapa.check(
        invoice, fatturapa.firm_data(tenant), db.session.get(Party, invoice.party_id)
    )


# --- payments ----------------------------------------------------------------------------


def register_payment(
    invoice: Invoice, amount_value: Any, paid_on: date | None = None, note: str | None = None
) -> Payment:
    """Record a payment, allocated to the oldest open instalments; the state follows."""
    if not invoice.issued or invoice.state in ("cancelled", "draft"):
        raise InvoiceError(_("Payments are registered on issued invoices."))
    amount_paid = _decimal(amount_value, "amount", positive=True)
    _lock(invoice)  # a concurrent payment waits, then sees what this one leaves due
    if amount_paid > invoice.outstanding:
        raise InvoiceError(
            _(
                "%(amount)s is more than the %(outstanding)s still due.",
                amount=amount_paid,
                outstanding=invoice.outstanding,
            ),
            "amount",
        )
    payment = Payment(
        invoice_id=invoice.id,
        payment_date=paid_on or date.today(),
        amount=amount_paid,
        note=note,
        due_id=_allocate(invoice, amount_paid),
    )
    db.session.add(payment)
    db.session.flush()
    audit.record("invoice.payment", invoice, summary={"amount": str(amount_paid)})
    events.emit("payment.received", invoice=invoice, payment=payment)
    _follow_payments(invoice)
    return payment


def _lock(invoice: Invoice) -> None:
    """Re-read the invoice and its instalments under a row lock (PostgreSQL)."""
    db.session.flush()
    db.session.refresh(invoice, with_for_update=True)
    for due in invoice.dues:
        db.session.refresh(due)


def _allocate(invoice: Invoice, amount: Decimal) -> int | None:
    """Mark ``amount`` paid on the oldest open instalments; the first one touched."""
    first, left = None, amount
    for due in invoice.dues:
        if left <= 0:
            break
        take = min(left, due.outstanding)
        if take > 0:
            due.paid_amount = Decimal(due.paid_amount) + take
            first = first or due.id
            left -= take
    invoice.paid_total = Decimal(invoice.paid_total) + amount
    return first


def _offset_credit_note(note: Invoice, invoice: Invoice) -> None:
    """An issued credit note lowers what the customer still owes on the invoice it corrects
    (and what is left of the note is owed back to the customer)."""
    if invoice.state in ("draft", "cancelled"):
        return
    _lock(invoice)
    offset = min(Decimal(note.amount_due), invoice.outstanding)
    if offset <= 0:
        return
    label = f"{_('Credit note')} {note.number}"
    db.session.add(
        Payment(
            invoice_id=invoice.id,
            payment_date=note.issue_date,
            amount=offset,
            note=label,
            due_id=_allocate(invoice, offset),
        )
    )
    _allocate(note, offset)
    db.session.flush()
    audit.record(
        "invoice.credited", invoice, summary={"credit_note": note.number, "amount": str(offset)}
    )
    _follow_payments(invoice)


def _follow_payments(invoice: Invoice) -> None:
    target = "mark_paid" if invoice.outstanding <= 0 else "mark_partially_paid"
    _row, definition = workflow.engine.definition_of(invoice)
    transition = definition.transition(target)
    if transition is not None and invoice.state in transition.sources:
        workflow.apply(invoice, DOCUMENT_TYPE, target, role=workflow.SYSTEM)


def overdue_query(today: date | None = None) -> Any:
    today = today or date.today()
    return (
        select(InvoiceDue, Invoice)
        .join(Invoice, Invoice.id == InvoiceDue.invoice_id)
        .where(InvoiceDue.due_date < today, InvoiceDue.paid_amount < InvoiceDue.amount)
        .where(
            Invoice.state.not_in(["cancelled", "draft"]), Invoice.document_kind != TD_CREDIT_NOTE
        )
        .order_by(InvoiceDue.due_date)
    )


def get_invoice(invoice_id: int) -> Invoice | None:
    return db.session.execute(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(selectinload(Invoice.lines), selectinload(Invoice.dues))
    ).scalar_one_or_none()


# --- received invoices --------------------------------------------------------------------------


def import_received(content: bytes, filename: str | None = None) -> ReceivedInvoice:
    """Import a supplier's FatturaPA XML; refuses malformed or duplicate files with a reason."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    from distretto.modules.catalog import services as catalog

    if len(content) > 5_000_000:
        raise InvoiceError(_("The file is larger than 5 MB."), "file")
    if b"<!DOCTYPE" in content[:2000] or b"<!ENTITY" in content:
        raise InvoiceError(_("The file is not a FatturaPA XML (DTDs are not allowed)."), "file")
    try:
        # the bytes as sent: the parser reads them in the encoding the file declares
        root = fromstring(content, forbid_dtd=True)
        text = _xml_text(content)
    except (ParseError, DefusedXmlException, UnicodeDecodeError, LookupError) as exc:
        raise InvoiceError(
            _("The file is not well-formed XML: %(error)s", error=str(exc)), "file"
        ) from exc
    if not root.tag.endswith("FatturaElettronica"):
        raise InvoiceError(_("The file is not a FatturaPA invoice."), "file")
    errors = fatturapa.validate(text)
    if errors:
        raise InvoiceError(
            _(
                "The file does not match the FatturaPA schema: %(errors)s",
                errors="; ".join(errors[:3]),
            ),
            "file",
        )

    def find(path: str) -> str | None:
        element = root.find(path)
        return element.text.strip() if element is not None and element.text else None

    def name_of(party: str) -> str:
        return find(f"{party}/Anagrafica/Denominazione") or " ".join(
            filter(None, [find(f"{party}/Anagrafica/Nome"), find(f"{party}/Anagrafica/Cognome")])
        )

    bodies = root.findall("FatturaElettronicaBody")
    if len(bodies) != 1:
        raise InvoiceError(
            _(
                "The file holds %(count)d invoices: import them one file per invoice.",
                count=len(bodies),
            ),
            "file",
        )
    _check_addressed_to_us(find, name_of)
    seller = "FatturaElettronicaHeader/CedentePrestatore/DatiAnagrafici"
    vat = find(f"{seller}/IdFiscaleIVA/IdCodice")
    country = find(f"{seller}/IdFiscaleIVA/IdPaese") or "IT"
    name = name_of(seller)
    body = bodies[0]
    document = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
    number, issued = find(f"{document}/Numero"), find(f"{document}/Data")
    issued_on = date.fromisoformat((issued or "")[:10])  # xs:date may carry a time zone
    kind = find(f"{document}/TipoDocumento") or "TD01"
    supplier = (
        db.session.execute(
            select(Party)
            .where(Party.vat_number == vat, Party.country == country)
            .order_by(Party.is_supplier.desc(), Party.archived, Party.id)
        )
        .scalars()
        .first()
        if vat
        else None
    )
    if supplier is None:
        sede = "FatturaElettronicaHeader/CedentePrestatore/Sede"
        try:
            supplier = catalog.create_party(
                {
                    "legal_name": (name or vat)[:200],
                    "is_supplier": True,
                    "is_customer": False,
                    "country": country,
                    "vat_number": vat,
                    "street": find(f"{sede}/Indirizzo"),
                    "postcode": find(f"{sede}/CAP"),
                    "city": find(f"{sede}/Comune"),
                    "province": find(f"{sede}/Provincia"),
                }
            )
        except ValidationError as exc:
            raise InvoiceError(
                _(
                    "The supplier %(name)s cannot be added to the catalog: %(problems)s",
                    name=name or vat,
                    problems="; ".join(
                        " ".join(map(str, messages))
                        if isinstance(messages, list)
                        else str(messages)
                        for messages in exc.normalized_messages().values()
                    ),
                ),
                "file",
            ) from exc
    elif not supplier.is_supplier:
        supplier.is_supplier = True
    exists = db.session.execute(
        select(ReceivedInvoice.id).where(
            ReceivedInvoice.party_id == supplier.id,
            ReceivedInvoice.number == number,
            ReceivedInvoice.issue_date == issued_on,
        )
    ).first()
    if exists:
        raise InvoiceError(
            _(
                "Invoice %(number)s of %(name)s is already imported.",
                number=number,
                name=supplier.legal_name,
            ),
            "file",
        )
    lines = [
        {
            "description": (line.findtext("Descrizione") or "").strip(),
            "quantity": line.findtext("Quantita"),
            "unit_price": line.findtext("PrezzoUnitario"),
            "amount": line.findtext("PrezzoTotale"),
            "vat_rate": line.findtext("AliquotaIVA"),
            "natura": line.findtext("Natura"),
        }
        for line in body.iterfind("DatiBeniServizi/DettaglioLinee")
    ]
    summary = [
        {
            "vat_rate": row.findtext("AliquotaIVA"),
            "natura": row.findtext("Natura"),
            "taxable": row.findtext("ImponibileImporto"),
            "vat": row.findtext("Imposta"),
        }
        for row in body.iterfind("DatiBeniServizi/DatiRiepilogo")
    ]
    taxable = sum((Decimal(row["taxable"]) for row in summary), Decimal(0))
    vat_total = sum((Decimal(row["vat"]) for row in summary), Decimal(0))
    declared = find(f"{document}/ImportoTotaleDocumento")
    received = ReceivedInvoice(
        party_id=supplier.id,
        document_kind=kind,
        number=number,
        issue_date=issued_on,
        taxable_total=money(taxable),
        vat_total=money(vat_total),
        total=money(Decimal(declared)) if declared else money(taxable + vat_total),
        lines=lines,
        summary=summary,
        filename=(filename or "")[:120] or None,
        xml_content=text,
    )
    db.session.add(received)
    db.session.flush()
    audit.record(
        "invoicing.received_imported",
        received,
        summary={"supplier": supplier.legal_name, "number": number},
    )
    return received


_ENCODING_RE = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding=["']([A-Za-z0-9._-]+)["']"""
)


def _xml_text(content: bytes) -> str:
    """The file as text, decoded as its XML declaration says (UTF-8 when it says nothing)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    declared = _ENCODING_RE.match(content)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    return content.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)


def _check_addressed_to_us(find: Any, name_of: Any) -> None:
    """A received invoice names this firm as the buyer (by VAT number, else codice fiscale)."""
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    buyer = "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici"
    vat = find(f"{buyer}/IdFiscaleIVA/IdCodice")
    tax_code = find(f"{buyer}/CodiceFiscale")
    ours = {tenant.vat_number, _fiscal_settings().get("tax_code")} - {None, ""}
    if not ours or (vat or tax_code) is None:
        return
    if vat in ours or tax_code in ours:
        return
    raise InvoiceError(
        _(
            "The invoice is addressed to %(name)s (%(code)s), not to this firm.",
            name=name_of(buyer),
            code=vat or tax_code,
        ),
        "file",
    )


# --- reports --------------------------------------------------------------------------------------


def vat_register(start: date, end: date) -> list[dict[str, Any]]:
    """Issued sales documents of the period, one row per document and VAT rate."""
    invoices = (
        db.session.execute(
            select(Invoice)
            .where(
                Invoice.number.is_not(None), Invoice.issue_date >= start, Invoice.issue_date <= end
            )
            .order_by(Invoice.issue_date, Invoice.year, Invoice.series, Invoice.sequence)
            .options(selectinload(Invoice.lines))
        )
        .scalars()
        .all()
    )
    parties = (
        {
            p.id: p
            for p in db.session.execute(
                select(Party).where(Party.id.in_({i.party_id for i in invoices}))
            ).scalars()
        }
        if invoices
        else {}
    )
    rows = []
    for invoice in invoices:
        sign = -1 if invoice.is_credit_note else 1
        party = parties.get(invoice.party_id)
        for row in vat_summary(invoice):
            rows.append(
                {
                    "date": invoice.issue_date.isoformat(),
                    "number": invoice.number,
                    "kind": invoice.document_kind,
                    "customer": party.legal_name if party else "",
                    "vat_number": party.vat_number if party else "",
                    "rate": str(row.rate),
                    "natura": row.natura or "",
                    "taxable": str(sign * row.taxable),
                    "vat": str(sign * row.vat),
                    "split_payment": "S" if invoice.split_payment else "",
                }
            )
    return rows


def revenue_per_month(year: int) -> list[tuple[int, Decimal]]:
    """Taxable amount of the year's issued documents per month, credit notes negative.

    Summed by the database (one statement, whatever the number of invoices).
    """
    month = extract("month", Invoice.issue_date)
    signed = case(
        (Invoice.document_kind == TD_CREDIT_NOTE, -Invoice.taxable_total),
        else_=Invoice.taxable_total,
    )
    rows = db.session.execute(
        select(month, func.sum(signed))
        .where(Invoice.number.is_not(None), Invoice.year == year)
        .group_by(month)
    ).all()
    months = {m: Decimal("0.00") for m in range(1, 13)}
    for number, total in rows:
        months[int(number)] += Decimal(total or 0)
    return sorted(months.items())
