"""Document types: what a module declares so the kernel can run its documents.

A document type (a sales order, an invoice, a transport document...) names its
model, the fields workflow conditions may test, its default workflow and its
default numbering. The kernel then gives every firm, per document type, its
own workflow versions, custom fields and numbering, without the module doing
anything more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from distretto.platform.db import tenant_ref


@dataclass(frozen=True)
class FieldSpec:
    """A built-in field that conditions, filters and exports may use."""

    type: str  # one of workflow.conditions.FIELD_TYPES
    label: Any = None
    getter: Callable[[Any], Any] | None = None  # defaults to getattr(document, name)


@dataclass(frozen=True)
class NumberingDefault:
    format: str = "{seq}"
    yearly_reset: bool = True
    gapless: bool = False


@dataclass
class DocumentType:
    name: str  # unique across modules, e.g. "sales_order"
    label: Any
    model: type
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    default_workflow: dict[str, Any] | None = None
    numbering: NumberingDefault | None = None
    detail_endpoint: str | None = None  # endpoint taking ``document_id``
    lockable_fields: tuple[str, ...] = ()
    # Transitions that delivering goods leads to (shipping, receiving): goods may
    # move only in a state one of them leaves, so an order awaiting approval does
    # not ship. A workflow naming none of them falls back to "lines are locked".
    delivery_transitions: tuple[str, ...] = ()
    module: str = ""  # filled in by the registry

    def condition_fields(self) -> dict[str, str]:
        return {name: spec.type for name, spec in self.fields.items()}


@dataclass(frozen=True)
class StockLine:
    """A line of goods on a document, as stock-keeping modules see it.

    Documents that carry goods (orders, for instance) expose
    ``stock_lines() -> list[StockLine]`` so that an inventory module can
    reserve, ship or receive them without importing the document's module.
    """

    line_id: int
    product_id: int | None
    description: str
    unit: str
    quantity: Decimal  # ordered
    outstanding: Decimal  # still to ship or receive
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class ActionContext:
    """What a workflow action receives."""

    document: Any
    document_type: DocumentType
    transition: str
    params: dict[str, Any]
    comment: str | None
    user_id: int | None


class ActionError(Exception):
    """Raised by an action to refuse the transition; the message is shown to the user."""


@dataclass(frozen=True)
class WorkflowAction:
    name: str  # "module.action", e.g. "inventory.reserve_stock"
    label: Any
    run: Callable[[ActionContext], None]
    document_types: tuple[str, ...] = ()  # empty: any document type
    description: str = ""


class WorkflowDocument:
    """Mixin for a document model that moves through a workflow.

    Adds ``state``, ``workflow_id`` (a composite reference to the firm's
    workflow version the document started on) and ``custom`` (the firm's
    custom-field values as JSON).
    """

    state: Mapped[str] = mapped_column(String(40))
    custom: Mapped[dict] = mapped_column(JSON, default=dict)

    @declared_attr
    def workflow_id(cls) -> Mapped[int]:  # noqa: N805
        return tenant_ref("workflow_definitions")
