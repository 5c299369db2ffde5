"""What inventory puts on the firm's home page: low stock, and stock value by product."""

from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from distretto.modules.catalog.models import Product
from distretto.modules.inventory import services
from distretto.modules.inventory.models import ProductStock
from distretto.sdk import Chart, ChartPoint, Widget, WidgetItem, can, db, money

LIST_SIZE = 5
TOP_PRODUCTS = 8


def _low_stock() -> tuple[int, list[WidgetItem]]:
    query = services.low_stock_query()
    count = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(query.order_by(Product.code, Product.id).limit(LIST_SIZE)).all()
    items = []
    for product, stock in rows:
        available = stock.available if stock is not None else Decimal(0)
        items.append(
            WidgetItem(
                label=f"{product.code} · {product.description}",
                url=url_for("inventory.product_moves", product_id=product.id),
                detail=f"{_number(available)} / {_number(product.reorder_point)} {product.unit}",
            )
        )
    return count, items


def _number(value: Decimal) -> str:
    from flask_babel import format_decimal

    return format_decimal(Decimal(value))


def stock_value_by_product(
    limit: int = TOP_PRODUCTS,
) -> tuple[list[tuple[int, str, Decimal]], Decimal]:
    """The products holding the most stock value (on hand × average cost), and the total."""
    value = (ProductStock.on_hand * ProductStock.average_cost).label("value")
    positive = (ProductStock.on_hand > 0,)
    total = db.session.execute(
        select(func.coalesce(func.sum(ProductStock.on_hand * ProductStock.average_cost), 0)).where(
            *positive
        )
    ).scalar_one()
    rows = db.session.execute(
        select(Product.id, Product.code, value)
        .join(ProductStock, ProductStock.product_id == Product.id)
        .where(*positive)
        .order_by(value.desc(), Product.code)
        .limit(limit)
    ).all()
    top = [(row.id, row.code, Decimal(row.value).quantize(Decimal("0.01"))) for row in rows]
    return top, Decimal(total).quantize(Decimal("0.01"))


def widgets() -> list[Widget]:
    if not can("inventory.view"):
        return []
    count, items = _low_stock()
    top, total = stock_value_by_product()
    return [
        Widget(
            name="inventory.low_stock",
            title=_l("Low stock"),
            count=count,
            items=items,
            link=url_for("inventory.stock", low="1"),
            link_label=_l("All products below their reorder point"),
            empty_text=_l("No product is below its reorder point."),
            order=60,
            tone="warning",
        ),
        Widget(
            name="inventory.stock_value",
            title=_l("Stock value"),
            chart=Chart(
                title=_l("Stock value by product"),
                description=_l(
                    "Products holding the most stock value (on hand at average cost); "
                    "%(total)s in total.",
                    total=money(total),
                ),
                points=[
                    ChartPoint(code, value, url_for("inventory.product_moves", product_id=pid))
                    for pid, code, value in top
                ],
                orientation="horizontal",
                label_heading=_l("Product"),
                value_heading=_l("Value"),
                value_format=money,
            ),
            link=url_for("inventory.stock"),
            link_label=_l("Stock"),
            order=30,
        ),
    ]
