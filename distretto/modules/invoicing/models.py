"""Invoices and credit notes (with their payment schedule and payments), and
invoices received from suppliers.

An invoice has no number while it is a draft; it gets the next gapless number
of its series and year when issued, and from then on it is immutable (the
FatturaPA XML produced at issue is stored with it). Corrections are credit
notes (TD04) that reference the invoice they correct.
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
from sqlalchemy.types import JSON

from distretto.sdk import BigId, TenantOwned, WorkflowDocument, db, tenant_ref, utcnow

Money = Numeric(14, 2)
Price = Numeric(18, 6)
Quantity = Numeric(14, 3)
Percent = Numeric(5, 2)

TD_INVOICE = "TD01"
TD_CREDIT_NOTE = "TD04"
TD_DEFERRED = "TD24"
DOCUMENT_KINDS = (TD_INVOICE, TD_CREDIT_NOTE, TD_DEFERRED)


class Invoice(WorkflowDocument, TenantOwned, db.Model):
    __tablename__ = "invoicing_invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "series", "sequence"),
        Index("ix_invoicing_invoices_list", "tenant_id", "issue_date", "id"),
        Index("ix_invoicing_invoices_party", "tenant_id", "party_id"),
        Index("ix_invoicing_invoices_state", "tenant_id", "state"),
        CheckConstraint("document_kind IN ('TD01', 'TD04', 'TD24')", name="document_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_kind: Mapped[str] = mapped_column(String(4), default=TD_INVOICE)
    series: Mapped[str] = mapped_column(String(10), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(BigId)
    number: Mapped[str | None] = mapped_column(String(40))
    issue_date: Mapped[date] = mapped_column()
    party_id: Mapped[int] = tenant_ref("catalog_parties")
    payment_terms_id: Mapped[int | None] = tenant_ref("catalog_payment_terms", nullable=True)
    payment_method: Mapped[str] = mapped_column(String(4), default="MP05")
    iban: Mapped[str | None] = mapped_column(String(34))
    split_payment: Mapped[bool] = mapped_column(Boolean, default=False)
    stamp_duty: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    corrects_id: Mapped[int | None] = tenant_ref("invoicing_invoices", nullable=True)
    order_references: Mapped[list] = mapped_column(JSON, default=list)  # [{"number", "date", "id"}]
    ddt_references: Mapped[list] = mapped_column(JSON, default=list)  # [{"number", "date", "id"}]
    causale: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    taxable_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_due: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    sdi_filename: Mapped[str | None] = mapped_column(String(40))
    xml_content: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    lines: Mapped[list[InvoiceLine]] = relationship(
        "InvoiceLine",
        order_by="InvoiceLine.position",
        foreign_keys="InvoiceLine.invoice_id",
        cascade="all, delete-orphan",
        back_populates="invoice",
    )
    dues: Mapped[list[InvoiceDue]] = relationship(
        "InvoiceDue",
        order_by="InvoiceDue.due_date",
        foreign_keys="InvoiceDue.invoice_id",
        cascade="all, delete-orphan",
    )

    @property
    def is_credit_note(self) -> bool:
        return self.document_kind == TD_CREDIT_NOTE

    @property
    def issued(self) -> bool:
        return self.number is not None

    @property
    def outstanding(self) -> Decimal:
        return Decimal(self.amount_due) - Decimal(self.paid_total)


class InvoiceLine(TenantOwned, db.Model):
    __tablename__ = "invoicing_invoice_lines"
    __table_args__ = (
        Index("ix_invoicing_invoice_lines_invoice", "tenant_id", "invoice_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("discount_percent >= 0 AND discount_percent <= 100", name="discount_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = tenant_ref("invoicing_invoices", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int | None] = tenant_ref("catalog_products", nullable=True)
    product_code: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(1000))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(10), default="pz")
    unit_price: Mapped[Decimal] = mapped_column(Price)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    vat_rate: Mapped[Decimal] = mapped_column(Percent)
    natura: Mapped[str | None] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(BigId)
    source_line_id: Mapped[int | None] = mapped_column(BigId)
    ddt_number: Mapped[str | None] = mapped_column(String(40))

    invoice: Mapped[Invoice] = relationship(
        Invoice, foreign_keys=[invoice_id], back_populates="lines"
    )


class InvoiceDue(TenantOwned, db.Model):
    """One instalment of the payment schedule."""

    __tablename__ = "invoicing_dues"
    __table_args__ = (
        Index("ix_invoicing_dues_due", "tenant_id", "due_date"),
        CheckConstraint("paid_amount >= 0", name="paid_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = tenant_ref("invoicing_invoices", ondelete="CASCADE")
    due_date: Mapped[date] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    method: Mapped[str] = mapped_column(String(4))

    @property
    def outstanding(self) -> Decimal:
        return Decimal(self.amount) - Decimal(self.paid_amount)


class Payment(TenantOwned, db.Model):
    __tablename__ = "invoicing_payments"
    __table_args__ = (
        Index("ix_invoicing_payments_invoice", "tenant_id", "invoice_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = tenant_ref("invoicing_invoices")
    due_id: Mapped[int | None] = tenant_ref("invoicing_dues", nullable=True)
    payment_date: Mapped[date] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str | None] = mapped_column(String(4))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceivedInvoice(TenantOwned, db.Model):
    """A supplier's FatturaPA imported into the firm's purchase records."""

    __tablename__ = "invoicing_received"
    __table_args__ = (
        UniqueConstraint("tenant_id", "party_id", "number", "issue_date"),
        Index("ix_invoicing_received_list", "tenant_id", "issue_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    party_id: Mapped[int] = tenant_ref("catalog_parties")
    document_kind: Mapped[str] = mapped_column(String(4))
    number: Mapped[str] = mapped_column(String(40))
    issue_date: Mapped[date] = mapped_column()
    taxable_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[list] = mapped_column(JSON, default=list)
    filename: Mapped[str | None] = mapped_column(String(120))
    xml_content: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
