"""Customers and suppliers (anagrafiche), products, VAT rates, payment terms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from distretto.sdk import BigId, TenantOwned, db, tenant_ref, utcnow

Money = Numeric(14, 2)
Price = Numeric(14, 4)
Quantity = Numeric(14, 3)
Percent = Numeric(5, 2)


class VatRate(TenantOwned, db.Model):
    """A VAT treatment: a rate, or 0% with the Natura code FatturaPA requires."""

    __tablename__ = "catalog_vat_rates"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    rate: Mapped[Decimal] = mapped_column(Percent)
    natura: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def label(self) -> str:
        return f"{self.code} – {self.description}"


class PaymentTerms(TenantOwned, db.Model):
    """How a customer pays: method (FatturaPA MPxx) and instalments.

    ``instalments``: ``[{"days": 30, "end_of_month": true, "percent": "50"}, ...]``.
    """

    __tablename__ = "catalog_payment_terms"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(4), default="MP05")
    instalments: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Party(TenantOwned, db.Model):
    """A customer, a supplier, or both (one record: many district firms are both)."""

    __tablename__ = "catalog_parties"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_catalog_parties_tenant_id_name", "tenant_id", "legal_name"),
        Index("ix_catalog_parties_tenant_id_vat", "tenant_id", "vat_number"),
        CheckConstraint("is_customer OR is_supplier", name="customer_or_supplier"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    legal_name: Mapped[str] = mapped_column(String(200))
    is_customer: Mapped[bool] = mapped_column(Boolean, default=True)
    is_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    country: Mapped[str] = mapped_column(String(2), default="IT")
    vat_number: Mapped[str | None] = mapped_column(String(20))
    tax_code: Mapped[str | None] = mapped_column(String(16))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(2))
    sdi_code: Mapped[str | None] = mapped_column(String(7))
    pec: Mapped[str | None] = mapped_column(String(254))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    payment_terms_id: Mapped[int | None] = tenant_ref("catalog_payment_terms", nullable=True)
    vat_rate_id: Mapped[int | None] = tenant_ref("catalog_vat_rates", nullable=True)
    split_payment: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment_terms = relationship(PaymentTerms, foreign_keys=[payment_terms_id], viewonly=True)
    vat_rate = relationship(VatRate, foreign_keys=[vat_rate_id], viewonly=True)
    contacts = relationship(
        "Contact", order_by="Contact.id", viewonly=True, foreign_keys="Contact.party_id"
    )

    @property
    def kind_label(self) -> str:
        if self.is_customer and self.is_supplier:
            return "customer+supplier"
        return "customer" if self.is_customer else "supplier"

    @property
    def address_line(self) -> str:
        parts = [self.street, " ".join(p for p in (self.postcode, self.city) if p)]
        line = ", ".join(p for p in parts if p)
        return f"{line} ({self.province})" if self.province else line


class Contact(TenantOwned, db.Model):
    __tablename__ = "catalog_contacts"
    __table_args__ = (Index("ix_catalog_contacts_tenant_id_party", "tenant_id", "party_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    party_id: Mapped[int] = tenant_ref("catalog_parties", ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))


class Product(TenantOwned, db.Model):
    __tablename__ = "catalog_products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_catalog_products_tenant_id_description", "tenant_id", "description"),
        CheckConstraint("sale_price >= 0 AND purchase_cost >= 0", name="prices_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(10), default="pz")
    sale_price: Mapped[Decimal] = mapped_column(Price, default=Decimal("0"))
    purchase_cost: Mapped[Decimal] = mapped_column(Price, default=Decimal("0"))
    vat_rate_id: Mapped[int] = tenant_ref("catalog_vat_rates")
    is_service: Mapped[bool] = mapped_column(Boolean, default=False)
    stocked: Mapped[bool] = mapped_column(Boolean, default=True)
    reorder_point: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    vat_rate = relationship(VatRate, foreign_keys=[vat_rate_id], viewonly=True, lazy="joined")
