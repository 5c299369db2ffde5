"""What orders put on the firm's home page: orders to confirm and orders to ship."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from distretto.modules.catalog.models import Party
from distretto.modules.orders.models import SALE, Order
from distretto.sdk import Widget, WidgetItem, can, db, money, workflow

LIST_SIZE = 5
CONFIRMED = "confirmed"
SHIPPED = "shipped"


def _waiting_states() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """(states before confirmation, states waiting to ship, the initial state) of the firm's
    current sales-order workflow.

    Read from the workflow rather than fixed, so a firm that added a step (an approval
    above an amount, say) sees the orders waiting at that step among those to confirm.
    """
    definition = workflow.engine.parsed(workflow.current_definition("sales_order"))
    initial = definition.initial.name
    final = {state.name for state in definition.states if state.kind == "final"}
    before: set[str] = {initial}
    if definition.state(CONFIRMED) is not None:
        frontier = [CONFIRMED]
        seen = {CONFIRMED}
        while frontier:
            target = frontier.pop()
            for transition in definition.transitions:
                if transition.target != target:
                    continue
                for source in transition.sources:
                    if source not in seen and source not in final:
                        seen.add(source)
                        before.add(source)
                        frontier.append(source)
    to_ship = {
        source
        for transition in definition.transitions
        if transition.target == SHIPPED
        for source in transition.sources
        if source not in before
    }
    return tuple(sorted(before)), tuple(sorted(to_ship)), initial


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
    before, waiting, initial = _waiting_states()
    to_confirm, confirm_items = _orders_in(before)
    to_ship, ship_items = _orders_in(waiting) if waiting else (0, [])
    return [
        Widget(
            name="orders.to_confirm",
            title=_l("Orders to confirm"),
            count=to_confirm,
            items=confirm_items,
            link=url_for("orders.sales", state=initial),
            link_label=_l("All orders to confirm"),
            empty_text=_l("No order waits for confirmation."),
            order=10,
        ),
        Widget(
            name="orders.to_ship",
            title=_l("Orders to ship"),
            count=to_ship,
            items=ship_items,
            link=url_for("orders.sales", state=CONFIRMED if CONFIRMED in waiting else None),
            link_label=_l("All confirmed orders"),
            empty_text=_l("No confirmed order waits to be shipped."),
            order=20,
        ),
    ]
