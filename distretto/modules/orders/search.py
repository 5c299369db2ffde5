"""What global search finds among orders: sales and purchase orders."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party
from distretto.modules.orders.models import PURCHASE, SALE, Order
from distretto.sdk import (
    SearchGroup,
    SearchResult,
    can,
    contains_pattern,
    db,
    money,
    short_date,
    starts_first,
)


def search(query: str, limit: int) -> list[SearchGroup]:
    """Sales and purchase orders by number, counterpart's reference or counterpart's name."""
    if not can("orders.view"):
        return []
    pattern = contains_pattern(query)
    groups = []
    for kind, name, title, list_endpoint, detail_endpoint, order in (
        (SALE, "orders.sales", _l("Sales orders"), "orders.sales", "orders.sale_detail", 40),
        (
            PURCHASE,
            "orders.purchases",
            _l("Purchase orders"),
            "orders.purchases",
            "orders.purchase_detail",
            45,
        ),
    ):
        rows = db.session.execute(
            select(Order.id, Order.number, Order.order_date, Order.total, Party.legal_name)
            .join(Party, Party.id == Order.party_id)
            .where(
                Order.kind == kind,
                or_(
                    Order.number.ilike(pattern, escape="\\"),
                    Order.customer_reference.ilike(pattern, escape="\\"),
                    Party.legal_name.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(starts_first(Order.number, query), Order.order_date.desc(), Order.id.desc())
            .limit(limit + 1)
        ).all()
        groups.append(
            SearchGroup(
                name=name,
                title=title,
                results=[_result(row, detail_endpoint) for row in rows[:limit]],
                more_url=url_for(list_endpoint, q=query),
                has_more=len(rows) > limit,
                order=order,
            )
        )
    return groups


def _result(row: Any, endpoint: str) -> SearchResult:
    return SearchResult(
        label=f"{row.number} · {row.legal_name}",
        url=url_for(endpoint, document_id=row.id),
        detail=f"{short_date(row.order_date)} · {money(row.total)}",
    )
