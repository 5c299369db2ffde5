"""Conto lavoro: material a firm sends to a subcontractor to be processed, and what comes back.

A dispatch (``DDT di conto lavoro``) lists the material sent; returns list,
per dispatch line, the processed goods that came back and the scrap the
subcontractor declared. What is still at the subcontractor is, per line,
``sent - returned - scrap``. Quantities are ``Decimal`` with three decimals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from distretto.sdk import BigId, TenantOwned, WorkflowDocument, db, tenant_ref, utcnow
from sqlalchemy import CheckConstraint, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

Quantity = Numeric(14, 3)


class Subcontractor(TenantOwned, db.Model):
    """A firm that processes material on our behalf (a ``terzista``)."""

    __tablename__ = "conto_lavoro_subcontractors"
    __table_args__ = (UniqueConstraint("tenant_id", "vat_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Item(TenantOwned, db.Model):
    """A material or semi-finished product that travels to subcontractors."""

    __tablename__ = "conto_lavoro_items"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10), default="pz")


class Dispatch(WorkflowDocument, TenantOwned, db.Model):
    """The transport document with which material leaves for the subcontractor.

    Numbered (gapless, document type ``cl_dispatch``) when it is issued, that
    is when the ``send`` transition runs the ``conto_lavoro.issue_document``
    action; a draft has no number and counts for nothing.
    """

    __tablename__ = "conto_lavoro_dispatches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_conto_lavoro_dispatches_subcontractor", "tenant_id", "subcontractor_id"),
        Index("ix_conto_lavoro_dispatches_state", "tenant_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40))
    subcontractor_id: Mapped[int] = tenant_ref("conto_lavoro_subcontractors")
    processing: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    shipped_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subcontractor: Mapped[Subcontractor] = relationship(
        Subcontractor, foreign_keys=[subcontractor_id]
    )
    lines: Mapped[list[DispatchLine]] = relationship(
        "DispatchLine",
        order_by="DispatchLine.position",
        foreign_keys="DispatchLine.dispatch_id",
        cascade="all, delete-orphan",
        back_populates="dispatch",
    )

    @property
    def issued(self) -> bool:
        return self.shipped_on is not None

    @property
    def total_quantity(self) -> Decimal:
        return sum((Decimal(line.quantity) for line in self.lines), Decimal("0"))


class DispatchLine(TenantOwned, db.Model):
    __tablename__ = "conto_lavoro_dispatch_lines"
    __table_args__ = (
        Index("ix_conto_lavoro_dispatch_lines_dispatch", "tenant_id", "dispatch_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispatch_id: Mapped[int] = tenant_ref("conto_lavoro_dispatches", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[int] = tenant_ref("conto_lavoro_items")
    quantity: Mapped[Decimal] = mapped_column(Quantity)

    dispatch: Mapped[Dispatch] = relationship(
        Dispatch, foreign_keys=[dispatch_id], back_populates="lines"
    )
    item: Mapped[Item] = relationship(Item, foreign_keys=[item_id])


class GoodsReturn(TenantOwned, db.Model):
    """Processed goods back from a subcontractor, on the subcontractor's own document."""

    __tablename__ = "conto_lavoro_returns"
    __table_args__ = (
        Index("ix_conto_lavoro_returns_subcontractor", "tenant_id", "subcontractor_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subcontractor_id: Mapped[int] = tenant_ref("conto_lavoro_subcontractors")
    received_on: Mapped[date] = mapped_column()
    reference: Mapped[str] = mapped_column(String(40))  # the subcontractor's DDT number
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subcontractor: Mapped[Subcontractor] = relationship(
        Subcontractor, foreign_keys=[subcontractor_id]
    )
    lines: Mapped[list[ReturnLine]] = relationship(
        "ReturnLine",
        order_by="ReturnLine.id",
        foreign_keys="ReturnLine.return_id",
        cascade="all, delete-orphan",
        back_populates="goods_return",
    )


class ReturnLine(TenantOwned, db.Model):
    """Against one dispatch line: how much came back processed, how much was scrapped."""

    __tablename__ = "conto_lavoro_return_lines"
    __table_args__ = (
        Index("ix_conto_lavoro_return_lines_dispatch_line", "tenant_id", "dispatch_line_id"),
        CheckConstraint("quantity >= 0 AND scrap >= 0", name="not_negative"),
        CheckConstraint("quantity + scrap > 0", name="something_returned"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = tenant_ref("conto_lavoro_returns", ondelete="CASCADE")
    dispatch_line_id: Mapped[int] = tenant_ref("conto_lavoro_dispatch_lines")
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    scrap: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))

    goods_return: Mapped[GoodsReturn] = relationship(
        GoodsReturn, foreign_keys=[return_id], back_populates="lines"
    )
    dispatch_line: Mapped[DispatchLine] = relationship(
        DispatchLine, foreign_keys=[dispatch_line_id]
    )
