"""Warehouses, the stock ledger, stock levels, reservations, shipments (DDT),
receipts and stock counts.

The ledger (:class:`StockMove`) is immutable and is the truth; the levels
(:class:`StockLevel` per location, :class:`ProductStock` per product) are kept
in step with it in the same transaction so pages never sum the ledger, and a
check recomputes them from it. Documents of other modules (orders) are
referenced softly (type and id), so inventory works with or without them.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distretto.sdk import BigId, TenantOwned, WorkflowDocument, db, tenant_ref, utcnow

Quantity = Numeric(14, 3)
Cost = Numeric(16, 6)
Money = Numeric(14, 2)


class Warehouse(TenantOwned, db.Model):
    __tablename__ = "inventory_warehouses"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Location(TenantOwned, db.Model):
    __tablename__ = "inventory_locations"
    __table_args__ = (UniqueConstraint("tenant_id", "warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = tenant_ref("inventory_warehouses")
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    warehouse = relationship(Warehouse, foreign_keys=[warehouse_id], lazy="joined", viewonly=True)

    @property
    def label(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class MoveType:
    RECEIPT = "receipt"
    SHIPMENT = "shipment"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    ALL = (RECEIPT, SHIPMENT, TRANSFER, ADJUSTMENT)


class StockMove(TenantOwned, db.Model):
    """One immutable line of the ledger: quantity from a location, to a location, or between."""

    __tablename__ = "inventory_moves"
    __table_args__ = (
        Index("ix_inventory_moves_product", "tenant_id", "product_id", "id"),
        Index("ix_inventory_moves_reference", "tenant_id", "reference_type", "reference_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL", name="has_a_location"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    move_date: Mapped[date] = mapped_column()
    move_type: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int] = tenant_ref("catalog_products")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    from_location_id: Mapped[int | None] = tenant_ref("inventory_locations", nullable=True)
    to_location_id: Mapped[int | None] = tenant_ref("inventory_locations", nullable=True)
    unit_cost: Mapped[Decimal | None] = mapped_column(Cost)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[int | None] = mapped_column(BigId)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class StockLevel(TenantOwned, db.Model):
    __tablename__ = "inventory_stock_levels"
    __table_args__ = (UniqueConstraint("tenant_id", "product_id", "location_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = tenant_ref("catalog_products")
    location_id: Mapped[int] = tenant_ref("inventory_locations")
    on_hand: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))


class ProductStock(TenantOwned, db.Model):
    """Per product: on hand, reserved, and the weighted-average unit cost."""

    __tablename__ = "inventory_product_stock"
    __table_args__ = (
        UniqueConstraint("tenant_id", "product_id"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = tenant_ref("catalog_products")
    on_hand: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    average_cost: Mapped[Decimal] = mapped_column(Cost, default=Decimal("0"))

    @property
    def available(self) -> Decimal:
        return Decimal(self.on_hand) - Decimal(self.reserved)

    @property
    def value(self) -> Decimal:
        return (Decimal(self.on_hand) * Decimal(self.average_cost)).quantize(Decimal("0.01"))


class Reservation(TenantOwned, db.Model):
    __tablename__ = "inventory_reservations"
    __table_args__ = (
        Index("ix_inventory_reservations_source", "tenant_id", "source_type", "source_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = tenant_ref("catalog_products")
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int] = mapped_column(BigId)
    source_line_id: Mapped[int] = mapped_column(BigId)
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # still reserved
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Shipment(WorkflowDocument, TenantOwned, db.Model):
    """Goods leaving: with its transport document (DDT), numbered without gaps when shipped."""

    __tablename__ = "inventory_shipments"
    __table_args__ = (
        Index("ix_inventory_shipments_list", "tenant_id", "shipment_date", "id"),
        Index("ix_inventory_shipments_source", "tenant_id", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40))
    sequence: Mapped[int | None] = mapped_column(BigId)
    shipment_date: Mapped[date] = mapped_column()
    party_id: Mapped[int] = tenant_ref("catalog_parties")
    location_id: Mapped[int] = tenant_ref("inventory_locations")
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(BigId)
    source_number: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(60), default="Vendita")
    carrier: Mapped[str] = mapped_column(String(20), default="mittente")
    packages: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    appearance: Mapped[str | None] = mapped_column(String(60))
    destination: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    invoiced: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[ShipmentLine]] = relationship(
        "ShipmentLine",
        order_by="ShipmentLine.id",
        foreign_keys="ShipmentLine.shipment_id",
        cascade="all, delete-orphan",
    )


class ShipmentLine(TenantOwned, db.Model):
    __tablename__ = "inventory_shipment_lines"
    __table_args__ = (
        Index("ix_inventory_shipment_lines_shipment", "tenant_id", "shipment_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = tenant_ref("inventory_shipments", ondelete="CASCADE")
    product_id: Mapped[int | None] = tenant_ref("catalog_products", nullable=True)
    source_line_id: Mapped[int | None] = mapped_column(BigId)
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(Quantity)


class Receipt(TenantOwned, db.Model):
    """Goods arriving (from a purchase order or not); posted at once."""

    __tablename__ = "inventory_receipts"
    __table_args__ = (Index("ix_inventory_receipts_list", "tenant_id", "receipt_date", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_date: Mapped[date] = mapped_column()
    party_id: Mapped[int | None] = tenant_ref("catalog_parties", nullable=True)
    location_id: Mapped[int] = tenant_ref("inventory_locations")
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(BigId)
    source_number: Mapped[str | None] = mapped_column(String(40))
    supplier_document: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[ReceiptLine]] = relationship(
        "ReceiptLine",
        order_by="ReceiptLine.id",
        foreign_keys="ReceiptLine.receipt_id",
        cascade="all, delete-orphan",
    )


class ReceiptLine(TenantOwned, db.Model):
    __tablename__ = "inventory_receipt_lines"
    __table_args__ = (
        Index("ix_inventory_receipt_lines_receipt", "tenant_id", "receipt_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = tenant_ref("inventory_receipts", ondelete="CASCADE")
    product_id: Mapped[int] = tenant_ref("catalog_products")
    source_line_id: Mapped[int | None] = mapped_column(BigId)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_cost: Mapped[Decimal] = mapped_column(Cost)


class StockCount(TenantOwned, db.Model):
    __tablename__ = "inventory_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    count_date: Mapped[date] = mapped_column()
    location_id: Mapped[int] = tenant_ref("inventory_locations")
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | posted
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[StockCountLine]] = relationship(
        "StockCountLine",
        order_by="StockCountLine.id",
        foreign_keys="StockCountLine.count_id",
        cascade="all, delete-orphan",
    )


class StockCountLine(TenantOwned, db.Model):
    __tablename__ = "inventory_count_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "count_id", "product_id"),
        CheckConstraint("counted IS NULL OR counted >= 0", name="counted_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    count_id: Mapped[int] = tenant_ref("inventory_counts", ondelete="CASCADE")
    product_id: Mapped[int] = tenant_ref("catalog_products")
    expected: Mapped[Decimal] = mapped_column(Quantity)
    counted: Mapped[Decimal | None] = mapped_column(Quantity)

    @property
    def difference(self) -> Decimal | None:
        if self.counted is None:
            return None
        return Decimal(self.counted) - Decimal(self.expected)
