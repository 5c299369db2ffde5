from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from distretto.platform.db import BigId, TenantOwned, db
from distretto.platform.documents import WorkflowDocument


class SampleRequest(WorkflowDocument, TenantOwned, db.Model):
    __tablename__ = "sample_requests"
    __table_args__ = (Index("ix_sample_requests_tenant_id_state", "tenant_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    due_on: Mapped[date | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(200))
