"""The transport document's default workflow."""

from __future__ import annotations

from typing import Any

TRANSPORT_DOCUMENT_WORKFLOW: dict[str, Any] = {
    "states": [
        {
            "name": "draft",
            "label": {"it": "In preparazione", "en": "Being prepared"},
            "kind": "initial",
        },
        {
            "name": "shipped",
            "label": {"it": "Spedito", "en": "Shipped"},
            "kind": "final",
            "locked_fields": ["*"],
        },
        {
            "name": "cancelled",
            "label": {"it": "Annullato", "en": "Cancelled"},
            "kind": "final",
            "locked_fields": ["*"],
        },
    ],
    "transitions": [
        {
            "name": "ship",
            "label": {"it": "Spedisci ed emetti DDT", "en": "Ship and issue the DDT"},
            "from": ["draft"],
            "to": "shipped",
            "permission": "inventory.ship",
            "actions": [{"name": "inventory.post_shipment"}],
        },
        {
            "name": "cancel",
            "label": {"it": "Annulla", "en": "Cancel"},
            "from": ["draft"],
            "to": "cancelled",
            "permission": "inventory.ship",
            "style": "danger",
        },
    ],
}
