"""Sales orders (to customers) and purchase orders (to suppliers).

One table for both kinds: they share every column and rule but follow two
document types (``sales_order``, ``purchase_order``) with their own workflows
and numbering.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distretto.sdk import BigId, StockLine, TenantOwned, WorkflowDocument, db, tenant_ref, utcnow

Money = Numeric(14, 2)
Price = Numeric(14, 4)
Quantity = Numeric(14, 3)
Percent = Numeric(5, 2)

SALE = "sale"
PURCHASE = "purchase"
DOCUMENT_TYPES = {SALE: "sales_order", PURCHASE: "purchase_order"}


class Order(WorkflowDocument, TenantOwned, db.Model):
    __tablename__ = "orders_orders"
    __table_args__ = (
        Index("ix_orders_orders_list", "tenant_id", "kind", "order_date", "id"),
        Index("ix_orders_orders_state", "tenant_id", "kind", "state"),
        Index("ix_orders_orders_party", "tenant_id", "party_id"),
        Index("ix_orders_orders_number", "tenant_id", "kind", "number"),
        CheckConstraint("kind IN ('sale', 'purchase')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(40))
    order_date: Mapped[date] = mapped_column()
    expected_date: Mapped[date | None] = mapped_column()
    party_id: Mapped[int] = tenant_ref("catalog_parties")
    customer_reference: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    taxable_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # A finished order taken off the lists (the API's "archive"): services.archive_order.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lines: Mapped[list[OrderLine]] = relationship(
        "OrderLine",
        order_by="OrderLine.position",
        foreign_keys="OrderLine.order_id",
        cascade="all, delete-orphan",
        back_populates="order",
    )

    @property
    def document_type(self) -> str:
        return DOCUMENT_TYPES[self.kind]

    @property
    def is_sale(self) -> bool:
        return self.kind == SALE

    @property
    def stock_direction(self) -> str:
        """Which way the goods go: "out" (shipped) for sales, "in" (received) for purchases.

        Read by stock-keeping modules next to :meth:`stock_lines`, so that a sales order is
        never received nor a purchase order shipped.
        """
        return "out" if self.kind == SALE else "in"

    def stock_lines(self) -> list[StockLine]:
        return [
            StockLine(
                line_id=line.id,
                product_id=line.product_id,
                description=line.description,
                unit=line.unit,
                quantity=Decimal(line.quantity),
                outstanding=max(
                    Decimal(line.quantity) - Decimal(line.quantity_delivered), Decimal(0)
                ),
                unit_cost=line.net_unit_price if self.kind == PURCHASE else None,
            )
            for line in self.lines
        ]

    @property
    def delivered_fully(self) -> bool:
        return all(
            Decimal(line.quantity_delivered) >= Decimal(line.quantity) for line in self.lines
        )

    @property
    def delivered_any(self) -> bool:
        return any(Decimal(line.quantity_delivered) > 0 for line in self.lines)


class OrderLine(TenantOwned, db.Model):
    __tablename__ = "orders_order_lines"
    __table_args__ = (
        Index("ix_orders_order_lines_order", "tenant_id", "order_id", "position"),
        Index("ix_orders_order_lines_product", "tenant_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
        CheckConstraint("quantity_delivered >= 0", name="delivered_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = tenant_ref("orders_orders", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer, default=0)
    product_id: Mapped[int | None] = tenant_ref("catalog_products", nullable=True)
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10), default="pz")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Price)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    vat_rate_id: Mapped[int] = tenant_ref("catalog_vat_rates")
    vat_rate: Mapped[Decimal] = mapped_column(Percent)
    natura: Mapped[str | None] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    quantity_delivered: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))

    order: Mapped[Order] = relationship(Order, foreign_keys=[order_id], back_populates="lines")

    @property
    def net_unit_price(self) -> Decimal:
        price = Decimal(self.unit_price)
        if self.discount_percent:
            price = price * (100 - Decimal(self.discount_percent)) / 100
        return price

    @property
    def outstanding(self) -> Decimal:
        return max(Decimal(self.quantity) - Decimal(self.quantity_delivered), Decimal(0))
