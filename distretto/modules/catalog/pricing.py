"""Line amounts and VAT totals, the way Italian invoices compute them.

Each line is rounded to the cent (half up); VAT is computed once per rate (and
Natura) on the sum of that rate's lines, then rounded - not summed from
per-line VAT, which drifts by cents. Orders and invoices both use this, so an
invoice made from an order shows the order's totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal | None = None
) -> Decimal:
    """quantity x price, less the discount, rounded to the cent."""
    gross = Decimal(quantity) * Decimal(unit_price)
    if discount_percent:
        gross = gross * (HUNDRED - Decimal(discount_percent)) / HUNDRED
    return money(gross)


@dataclass(frozen=True)
class TaxedAmount:
    amount: Decimal
    rate: Decimal
    natura: str | None = None


@dataclass
class VatSummaryRow:
    rate: Decimal
    natura: str | None
    taxable: Decimal
    vat: Decimal


@dataclass
class Totals:
    taxable: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    summary: list[VatSummaryRow] = field(default_factory=list)


def totals(lines: Iterable[TaxedAmount]) -> Totals:
    groups: dict[tuple[Decimal, str | None], Decimal] = {}
    for line in lines:
        key = (Decimal(line.rate).quantize(CENT), line.natura or None)
        groups[key] = groups.get(key, Decimal("0")) + Decimal(line.amount)
    summary = [
        VatSummaryRow(
            rate=rate, natura=natura, taxable=money(taxable), vat=money(taxable * rate / HUNDRED)
        )
        for (rate, natura), taxable in sorted(
            groups.items(), key=lambda kv: (-kv[0][0], kv[0][1] or "")
        )
    ]
    taxable = sum((row.taxable for row in summary), Decimal("0.00"))
    vat = sum((row.vat for row in summary), Decimal("0.00"))
    return Totals(
        taxable=money(taxable), vat=money(vat), total=money(taxable + vat), summary=summary
    )
