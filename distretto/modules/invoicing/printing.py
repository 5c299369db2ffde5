"""The courtesy copy (PDF) of an invoice: the legally valid invoice is the XML sent through SDI."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from distretto.modules.catalog.models import Party
from distretto.modules.invoicing.models import TD_CREDIT_NOTE, TD_DEFERRED, Invoice
from distretto.modules.invoicing.services import vat_summary
from distretto.platform.pdf import (
    Column,
    PrintedDocument,
    firm_lines,
    fmt_amount,
    fmt_date,
    fmt_quantity,
    render,
)
from distretto.sdk import current_tenant, db


def courtesy_copy_pdf(invoice: Invoice) -> bytes:
    party = db.session.get(Party, invoice.party_id)
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    locale = tenant.default_locale or "it"
    with force_locale(locale):
        title = {TD_CREDIT_NOTE: _("Credit note"), TD_DEFERRED: _("Deferred invoice")}.get(
            invoice.document_kind, _("Invoice")
        )
        summary = vat_summary(invoice)
        totals = [(_("Taxable amount"), fmt_amount(invoice.taxable_total, locale))]
        for row in summary:
            label = (
                row.natura
                if row.natura
                else _("VAT %(rate)s%%", rate=fmt_amount(row.rate, locale, 0))
            )
            totals.append(
                (f"{label} ({fmt_amount(row.taxable, locale)})", fmt_amount(row.vat, locale))
            )
        totals.append((_("Total EUR"), fmt_amount(invoice.total, locale)))
        if invoice.split_payment:
            totals.append((_("To pay (split payment)"), fmt_amount(invoice.amount_due, locale)))
        meta = []
        if invoice.order_references:
            meta.append(
                (_("Orders"), ", ".join(str(r.get("number")) for r in invoice.order_references))
            )
        if invoice.ddt_references:
            meta.append(
                (
                    _("Transport documents"),
                    ", ".join(f"{r['number']} ({r['date']})" for r in invoice.ddt_references),
                )
            )
        blocks = []
        if invoice.dues:
            blocks.append(
                (
                    _("Payment schedule"),
                    [
                        f"{fmt_date(due.due_date, locale)}  "
                        f"{fmt_amount(due.amount, locale)} EUR  {due.method}"
                        for due in invoice.dues
                    ]
                    + ([f"IBAN {invoice.iban}"] if invoice.iban else []),
                )
            )
        notes = [invoice.causale] if invoice.causale else []
        if invoice.notes:
            notes.append(invoice.notes)
        if invoice.split_payment:
            notes.append(
                _(
                    "Split payment: VAT paid by the customer to the Treasury "
                    "(art. 17-ter DPR 633/72)."
                )
            )
        if any((line.natura or "").startswith("N6") for line in invoice.lines):
            notes.append(_("Reverse charge (art. 17 DPR 633/72)."))
        notes.append(
            _(
                "Courtesy copy. The legally valid invoice is the electronic one "
                "sent through the Sistema di Interscambio (SDI)."
            )
        )
        document = PrintedDocument(
            title=title,
            number=invoice.number or _("(draft)"),
            issued_on=invoice.issue_date,
            firm_name=tenant.legal_name,
            firm_lines=firm_lines(tenant),
            party_title=_("Customer"),
            party_name=party.legal_name if party else "",
            party_lines=[
                x
                for x in (
                    party.address_line if party else "",
                    f"P.IVA {party.vat_number}" if party and party.vat_number else "",
                    f"C.F. {party.tax_code}" if party and party.tax_code else "",
                    f"SDI {party.sdi_code}"
                    if party and party.sdi_code
                    else (f"PEC {party.pec}" if party and party.pec else ""),
                )
                if x
            ],
            columns=[
                Column(_("Description"), 78),
                Column(_("Quantity"), 22, "R"),
                Column(_("Price"), 24, "R"),
                Column(_("VAT"), 16, "R"),
                Column(_("Amount"), 42, "R"),
            ],
            rows=[
                [
                    line.description,
                    f"{fmt_quantity(line.quantity, locale)} {line.unit}",
                    fmt_amount(line.unit_price, locale),
                    line.natura or fmt_amount(line.vat_rate, locale, 0) + "%",
                    fmt_amount(line.amount, locale),
                ]
                for line in invoice.lines
            ],
            meta=meta,
            totals=totals,
            notes=notes,
            extra_blocks=blocks,
            footer=f"{tenant.legal_name} - {invoice.number or ''}",
            locale=locale,
        )
        return render(document)
