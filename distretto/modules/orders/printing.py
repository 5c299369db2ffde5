"""The order confirmation PDF sent to customers (purchase orders print the same way)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from distretto.modules.catalog.models import Party
from distretto.modules.catalog.pricing import TaxedAmount, totals
from distretto.modules.orders.models import SALE, Order
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


def confirmation_pdf(order: Order) -> bytes:
    party = db.session.get(Party, order.party_id)
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    locale = tenant.default_locale or "it"
    with force_locale(locale):
        result = totals(
            TaxedAmount(line.amount, line.vat_rate, line.natura) for line in order.lines
        )
        rows = [
            [
                line.description,
                f"{fmt_quantity(line.quantity, locale)} {line.unit}",
                fmt_amount(line.unit_price, locale, 2),
                fmt_amount(line.discount_percent, locale) if line.discount_percent else "",
                line.natura or fmt_amount(line.vat_rate, locale, 0) + "%",
                fmt_amount(line.amount, locale),
            ]
            for line in order.lines
        ]
        vat_rows = [
            (
                _(
                    "VAT %(rate)s%% on %(taxable)s",
                    rate=fmt_amount(row.rate, locale, 0),
                    taxable=fmt_amount(row.taxable, locale),
                )
                if not row.natura
                else _(
                    "%(natura)s on %(taxable)s",
                    natura=row.natura,
                    taxable=fmt_amount(row.taxable, locale),
                ),
                fmt_amount(row.vat, locale),
            )
            for row in result.summary
        ]
        meta = []
        if order.customer_reference:
            meta.append((_("Your reference"), order.customer_reference))
        if order.expected_date:
            meta.append((_("Expected delivery"), fmt_date(order.expected_date, locale)))
        document = PrintedDocument(
            title=_("Order confirmation") if order.kind == SALE else _("Purchase order"),
            number=order.number,
            issued_on=order.order_date,
            firm_name=tenant.legal_name,
            firm_lines=firm_lines(tenant),
            party_title=_("Customer") if order.kind == SALE else _("Supplier"),
            party_name=party.legal_name if party else "",
            party_lines=[
                line
                for line in (
                    party.address_line if party else "",
                    f"P.IVA {party.vat_number}" if party and party.vat_number else "",
                    f"C.F. {party.tax_code}" if party and party.tax_code else "",
                )
                if line
            ],
            columns=[
                Column(_("Description"), 74),
                Column(_("Quantity"), 22, "R"),
                Column(_("Price"), 22, "R"),
                Column(_("Disc. %"), 14, "R"),
                Column(_("VAT"), 14, "R"),
                Column(_("Amount"), 36, "R"),
            ],
            rows=rows,
            meta=meta,
            totals=[
                (_("Taxable amount"), fmt_amount(result.taxable, locale)),
                *vat_rows,
                (_("Total EUR"), fmt_amount(result.total, locale)),
            ],
            notes=[order.notes] if order.notes else [],
            footer=f"{tenant.legal_name} - {order.number}",
            logo=_logo(tenant),
            locale=locale,
        )
        return render(document)


def _logo(tenant: object) -> bytes | None:
    import base64

    settings = (getattr(tenant, "settings", None) or {}).get("firm", {})
    encoded = settings.get("logo_png_base64")
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded)
    except ValueError:
        return None
