"""invoicing: Italian invoices, credit notes, payments and FatturaPA e-invoices."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from distretto.modules.invoicing import dashboard as home_widgets
from distretto.modules.invoicing import search as global_search
from distretto.modules.invoicing import services
from distretto.modules.invoicing.api import blp as api_bp
from distretto.modules.invoicing.models import (
    Invoice,
    InvoiceDue,
    InvoiceLine,
    Payment,
    ReceivedInvoice,
)
from distretto.modules.invoicing.views import bp
from distretto.modules.invoicing.webhooks import WEBHOOK_EVENTS
from distretto.modules.invoicing.workflows import INVOICE_WORKFLOW
from distretto.sdk import (
    DocumentType,
    FieldSpec,
    MenuEntry,
    Module,
    NumberingDefault,
    WorkflowAction,
)

module = Module(
    name="invoicing",
    version="1.0.0",
    label=_l("Invoicing"),
    description=_l("Invoices, credit notes, payments and FatturaPA e-invoices."),
    requires=("catalog",),
    models=(Invoice, InvoiceLine, InvoiceDue, Payment, ReceivedInvoice),
    blueprint=bp,
    api_blueprint=api_bp,
    permissions={
        "invoicing.view": ("owner", "admin", "staff", "viewer"),
        "invoicing.edit": ("owner", "admin", "staff"),
        "invoicing.issue": ("owner", "admin"),
        "invoicing.payments": ("owner", "admin", "staff"),
        "invoicing.settings": ("owner", "admin"),
    },
    menu=(
        MenuEntry(_l("Invoices"), "invoicing.invoices", "invoicing.view", order=40),
        MenuEntry(_l("Payments due"), "invoicing.overdue", "invoicing.view", order=41),
    ),
    document_types=(
        DocumentType(
            name="invoice",
            label=_l("Invoice"),
            model=Invoice,
            fields={
                "total": FieldSpec("decimal", _l("Total")),
                "taxable_total": FieldSpec("decimal", _l("Taxable amount")),
                "issue_date": FieldSpec("date", _l("Date")),
                "document_kind": FieldSpec("text", _l("Document type (TD01, TD04, TD24)")),
                "split_payment": FieldSpec("boolean", _l("Split payment")),
                "line_count": FieldSpec(
                    "integer", _l("Number of lines"), getter=lambda i: len(i.lines)
                ),
            },
            default_workflow=INVOICE_WORKFLOW,
            numbering=NumberingDefault("{series}{seq}/{year}", yearly_reset=True, gapless=True),
            detail_endpoint="invoicing.invoice_detail",
            lockable_fields=("lines", "party_id", "issue_date", "notes", "causale"),
        ),
    ),
    actions=(
        WorkflowAction(
            "invoicing.issue_document",
            _l("Number the invoice and build its FatturaPA XML"),
            services.issue_action,
            ("invoice",),
        ),
    ),
    dashboard=home_widgets.widgets,
    search=global_search.search,
    webhook_events=WEBHOOK_EVENTS,
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
