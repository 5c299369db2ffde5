"""The default workflow of invoices and credit notes."""

from __future__ import annotations

from typing import Any

INVOICE_WORKFLOW: dict[str, Any] = {
    "states": [
        {"name": "draft", "label": {"it": "Bozza", "en": "Draft"}, "kind": "initial"},
        {"name": "issued", "label": {"it": "Emessa", "en": "Issued"}, "locked_fields": ["*"]},
        {
            "name": "sent",
            "label": {"it": "Inviata allo SdI", "en": "Sent to SDI"},
            "locked_fields": ["*"],
        },
        {
            "name": "partially_paid",
            "label": {"it": "Pagata in parte", "en": "Partially paid"},
            "locked_fields": ["*"],
        },
        {
            "name": "paid",
            "label": {"it": "Pagata", "en": "Paid"},
            "kind": "final",
            "locked_fields": ["*"],
        },
        {
            "name": "cancelled",
            "label": {"it": "Annullata", "en": "Cancelled"},
            "kind": "final",
            "locked_fields": ["*"],
        },
    ],
    "transitions": [
        {
            "name": "issue",
            "label": {"it": "Emetti", "en": "Issue"},
            "from": ["draft"],
            "to": "issued",
            "permission": "invoicing.issue",
            "actions": [{"name": "invoicing.issue_document"}],
        },
        {
            "name": "mark_sent",
            "label": {"it": "Segna come inviata", "en": "Mark as sent"},
            "from": ["issued"],
            "to": "sent",
            "permission": "invoicing.issue",
        },
        {
            "name": "mark_partially_paid",
            "label": {"it": "Pagata in parte", "en": "Partially paid"},
            "from": ["issued", "sent"],
            "to": "partially_paid",
            "automatic": True,
        },
        {
            "name": "mark_paid",
            "label": {"it": "Pagata", "en": "Paid"},
            "from": ["issued", "sent", "partially_paid"],
            "to": "paid",
            "automatic": True,
        },
        {
            "name": "cancel",
            "label": {"it": "Annulla bozza", "en": "Cancel draft"},
            "from": ["draft"],
            "to": "cancelled",
            "permission": "invoicing.edit",
            "style": "danger",
        },
    ],
}
