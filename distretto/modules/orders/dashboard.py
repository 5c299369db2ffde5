"""What orders put on the firm's home page: orders to confirm and orders to ship."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from distretto.modules.catalog.models import Party
from distretto.modules.orders.models import SALE, Order
from distretto.sdk import Widget, WidgetItem, can, db, money

LIST_SIZE = 5
TO_CONFIRM = ("draft",)
TO_SHIP = ("confirmed", "partially_shipped")


def _orders_in(states: tuple[str, ...]) -> tuple[int, list[WidgetItem]]:
    """How many sales orders are in ``states``, and the oldest few (two statements)."""
    where = (Order.kind == SALE, Order.state.in_(states))
    count = db.session.execute(select(func.count(Order.id)).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Order.id, Order.number, Order.order_date, Order.total, Party.legal_name)
        .join(Party, Party.id == Order.party_id)
        .where(*where)
        .order_by(Order.order_date, Order.id)
        .limit(LIST_SIZE)
    ).all()
    items = [
        WidgetItem(
            label=f"{row.number} · {row.legal_name}",
            url=url_for("orders.sale_detail", document_id=row.id),
            detail=money(row.total),
        )
        for row in rows
    ]
    return count, items


def widgets() -> list[Widget]:
    """Sales orders waiting for confirmation and confirmed orders waiting to be shipped."""
    if not can("orders.view"):
        return []
    to_confirm, confirm_items = _orders_in(TO_CONFIRM)
    to_ship, ship_items = _orders_in(TO_SHIP)
    return [
        Widget(
            name="orders.to_confirm",
            title=_l("Orders to confirm"),
            count=to_confirm,
            items=confirm_items,
            link=url_for("orders.sales", state="draft"),
            link_label=_l("All orders to confirm"),
            empty_text=_l("No order waits for confirmation."),
            order=10,
        ),
        Widget(
            name="orders.to_ship",
            title=_l("Orders to ship"),
            count=to_ship,
            items=ship_items,
            link=url_for("orders.sales", state="confirmed"),
            link_label=_l("All confirmed orders"),
            empty_text=_l("No confirmed order waits to be shipped."),
            order=20,
        ),
    ]
