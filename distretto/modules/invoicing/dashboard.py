"""What invoicing puts on the firm's home page.

Cards: shipped orders not yet invoiced, draft invoices to issue, overdue
payments. Charts: revenue per month over the last twelve months and the top
customers of that period, both summed by the database (one statement each).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, extract, func, inspect, literal, select

from distretto.modules.catalog.models import Party
from distretto.modules.invoicing.models import TD_CREDIT_NOTE, Invoice, InvoiceDue, InvoiceLine
from distretto.sdk import Chart, ChartPoint, Widget, WidgetItem, can, db, money, short_date

LIST_SIZE = 5
TOP_CUSTOMERS = 5


def _first_of_month(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _signed_taxable() -> Any:
    """Taxable amount counted negative for credit notes."""
    return case(
        (Invoice.document_kind == TD_CREDIT_NOTE, -Invoice.taxable_total),
        else_=Invoice.taxable_total,
    )


def revenue_last_months(today: date | None = None, months: int = 12) -> list[tuple[date, Decimal]]:
    """Issued revenue (taxable, net of credit notes) per month, oldest first, zeros included."""
    today = today or date.today()
    start = _first_of_month(today, months - 1)
    year = extract("year", Invoice.issue_date)
    month = extract("month", Invoice.issue_date)
    rows = db.session.execute(
        select(year, month, func.sum(_signed_taxable()))
        .where(Invoice.number.is_not(None), Invoice.state != "cancelled")
        .where(Invoice.issue_date >= start, Invoice.issue_date <= today)
        .group_by(year, month)
    ).all()
    totals = {(int(y), int(m)): Decimal(total or 0) for y, m, total in rows}
    result = []
    for back in range(months - 1, -1, -1):
        first = _first_of_month(today, back)
        result.append((first, totals.get((first.year, first.month), Decimal("0.00"))))
    return result


def top_customers(
    today: date | None = None, limit: int = TOP_CUSTOMERS
) -> list[tuple[int, str, Decimal]]:
    """The customers with the most issued revenue over the last twelve months."""
    today = today or date.today()
    start = _first_of_month(today, 11)
    revenue = func.sum(_signed_taxable()).label("revenue")
    rows = db.session.execute(
        select(Party.id, Party.legal_name, revenue)
        .join(Invoice, Invoice.party_id == Party.id)
        .where(Invoice.number.is_not(None), Invoice.state != "cancelled")
        .where(Invoice.issue_date >= start, Invoice.issue_date <= today)
        .group_by(Party.id, Party.legal_name)
        .having(func.sum(_signed_taxable()) > 0)
        .order_by(revenue.desc(), Party.legal_name)
        .limit(limit)
    ).all()
    return [(row.id, row.legal_name, Decimal(row.revenue)) for row in rows]


def _orders_to_invoice() -> tuple[int, list[WidgetItem]] | None:
    """Sales orders with goods delivered but not yet invoiced (None without orders)."""
    from distretto.platform.modules import enabled_modules, registry

    doc_type = registry.document_types.get("sales_order")
    if doc_type is None or "orders" not in {m.name for m in enabled_modules()}:
        return None
    order_model = doc_type.model
    line_model = inspect(order_model).relationships["lines"].mapper.class_
    # Summed once per line in a GROUP BY and joined (no correlated subquery per line),
    # so the work grows with the rows, not with their product.
    invoiced = (
        select(
            InvoiceLine.source_line_id.label("line_id"),
            func.sum(InvoiceLine.quantity).label("quantity"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.source_type == "sales_order",
            Invoice.state != "cancelled",
            Invoice.document_kind != TD_CREDIT_NOTE,
        )
        .group_by(InvoiceLine.source_line_id)
        .subquery()
    )
    pending = (
        select(line_model.order_id)
        .outerjoin(invoiced, invoiced.c.line_id == line_model.id)
        .where(
            line_model.quantity_delivered > 0,
            line_model.quantity_delivered > func.coalesce(invoiced.c.quantity, literal(0)),
        )
    )
    where = (
        order_model.kind == "sale",
        order_model.state.not_in(["draft", "cancelled"]),
        order_model.id.in_(pending),
    )
    count = db.session.execute(select(func.count(order_model.id)).where(*where)).scalar_one()
    rows = db.session.execute(
        select(order_model.id, order_model.number, order_model.total, Party.legal_name, Party.code)
        .join(Party, Party.id == order_model.party_id)
        .where(*where)
        .order_by(order_model.order_date, order_model.id)
        .limit(LIST_SIZE)
    ).all()
    items = [
        WidgetItem(
            label=f"{row.number} · {row.legal_name}",
            url=url_for("invoicing.from_orders", party=row.code),
            detail=money(row.total),
        )
        for row in rows
    ]
    return count, items


def _drafts() -> tuple[int, list[WidgetItem]]:
    where = (Invoice.state == "draft",)
    count = db.session.execute(select(func.count(Invoice.id)).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Invoice.id, Invoice.issue_date, Invoice.total, Party.legal_name)
        .join(Party, Party.id == Invoice.party_id)
        .where(*where)
        .order_by(Invoice.issue_date, Invoice.id)
        .limit(LIST_SIZE)
    ).all()
    items = [
        WidgetItem(
            label=f"{short_date(row.issue_date)} · {row.legal_name}",
            url=url_for("invoicing.invoice_detail", document_id=row.id),
            detail=money(row.total),
        )
        for row in rows
    ]
    return count, items


def _overdue() -> tuple[int, list[WidgetItem]]:
    """Instalments past their due date and not fully paid (as the overdue page lists them)."""
    where = (
        InvoiceDue.due_date < date.today(),
        InvoiceDue.paid_amount < InvoiceDue.amount,
        Invoice.state.not_in(["cancelled", "draft"]),
        Invoice.document_kind != TD_CREDIT_NOTE,
    )
    count = db.session.execute(
        select(func.count(InvoiceDue.id))
        .join(Invoice, Invoice.id == InvoiceDue.invoice_id)
        .where(*where)
    ).scalar_one()
    rows = db.session.execute(
        select(
            Invoice.id,
            Invoice.number,
            InvoiceDue.due_date,
            (InvoiceDue.amount - InvoiceDue.paid_amount).label("outstanding"),
            Party.legal_name,
        )
        .select_from(InvoiceDue)
        .join(Invoice, Invoice.id == InvoiceDue.invoice_id)
        .join(Party, Party.id == Invoice.party_id)
        .where(*where)
        .order_by(InvoiceDue.due_date, InvoiceDue.id)
        .limit(LIST_SIZE)
    ).all()
    items = [
        WidgetItem(
            label=f"{row.number} · {row.legal_name}",
            url=url_for("invoicing.invoice_detail", document_id=row.id),
            detail=f"{short_date(row.due_date)} · {money(row.outstanding)}",
        )
        for row in rows
    ]
    return count, items


def widgets() -> list[Widget]:
    if not can("invoicing.view"):
        return []
    found = []
    to_invoice = _orders_to_invoice()
    if to_invoice is not None:
        count, items = to_invoice
        found.append(
            Widget(
                name="invoicing.to_invoice",
                title=_l("Shipped orders to invoice"),
                count=count,
                items=items,
                link=url_for("invoicing.from_orders"),
                link_label=_l("Invoice orders"),
                empty_text=_l("Every delivered order is invoiced."),
                order=30,
            )
        )
    count, items = _drafts()
    found.append(
        Widget(
            name="invoicing.drafts",
            title=_l("Invoices to issue"),
            count=count,
            items=items,
            link=url_for("invoicing.invoices", state="draft"),
            link_label=_l("All draft invoices"),
            empty_text=_l("No draft invoice waits to be issued."),
            order=40,
        )
    )
    count, items = _overdue()
    found.append(
        Widget(
            name="invoicing.overdue",
            title=_l("Overdue payments"),
            count=count,
            items=items,
            link=url_for("invoicing.overdue"),
            link_label=_l("All overdue payments"),
            empty_text=_l("No payment is overdue."),
            order=50,
            tone="danger",
        )
    )
    months = revenue_last_months()
    total = sum((value for _first, value in months), Decimal(0))
    found.append(
        Widget(
            name="invoicing.revenue",
            title=_l("Revenue per month"),
            chart=Chart(
                title=_l("Revenue per month, last 12 months"),
                description=_l(
                    "Taxable amount of issued invoices net of credit notes: %(total)s in total.",
                    total=money(total),
                ),
                points=[
                    ChartPoint(format_date(first, "MMM yy"), value) for first, value in months
                ],
                label_heading=_l("Month"),
                value_heading=_l("Revenue"),
                value_format=money,
            ),
            link=url_for("invoicing.reports"),
            link_label=_l("Reports"),
            order=10,
        )
    )
    customers = top_customers()
    found.append(
        Widget(
            name="invoicing.top_customers",
            title=_l("Top customers"),
            chart=Chart(
                title=_l("Top customers, last 12 months"),
                description=_l("Customers by taxable amount invoiced in the last 12 months."),
                points=[
                    ChartPoint(name, value, url_for("catalog.party_detail", party_id=party_id))
                    for party_id, name, value in customers
                ],
                orientation="horizontal",
                label_heading=_l("Customer"),
                value_heading=_l("Revenue"),
                value_format=money,
            ),
            order=20,
        )
    )
    return found
