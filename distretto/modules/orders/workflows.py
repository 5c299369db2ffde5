"""Default workflows of orders and the actions orders offer to any workflow."""

from __future__ import annotations

from typing import Any

from distretto.sdk import ActionContext, events, outbox

SALES_ORDER_WORKFLOW: dict[str, Any] = {
    "states": [
        {"name": "draft", "label": {"it": "Bozza", "en": "Draft"}, "kind": "initial"},
        {
            "name": "confirmed",
            "label": {"it": "Confermato", "en": "Confirmed"},
            "locked_fields": ["party_id", "lines"],
        },
        {
            "name": "partially_shipped",
            "label": {"it": "Evaso in parte", "en": "Partially shipped"},
            "locked_fields": ["*"],
        },
        {"name": "shipped", "label": {"it": "Evaso", "en": "Shipped"}, "locked_fields": ["*"]},
        {
            "name": "done",
            "label": {"it": "Chiuso", "en": "Done"},
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
            "name": "confirm",
            "label": {"it": "Conferma", "en": "Confirm"},
            "from": ["draft"],
            "to": "confirmed",
            "permission": "orders.confirm",
            "conditions": {"field": "line_count", "op": ">", "value": 0},
            "actions": [{"name": "inventory.reserve_stock"}],
        },
        {
            "name": "ship",
            "label": {"it": "Spedisci tutto", "en": "Ship everything"},
            "from": ["confirmed", "partially_shipped"],
            "to": "shipped",
            "permission": "orders.ship",
            "actions": [{"name": "inventory.create_shipment"}],
        },
        {
            "name": "mark_partially_shipped",
            "label": {"it": "Evaso in parte", "en": "Partially shipped"},
            "from": ["confirmed"],
            "to": "partially_shipped",
            "automatic": True,
        },
        {
            "name": "mark_shipped",
            "label": {"it": "Evaso", "en": "Shipped"},
            "from": ["confirmed", "partially_shipped"],
            "to": "shipped",
            "automatic": True,
        },
        {
            "name": "close",
            "label": {"it": "Chiudi", "en": "Close"},
            "from": ["shipped"],
            "to": "done",
            "permission": "orders.edit",
        },
        {
            "name": "cancel",
            "label": {"it": "Annulla", "en": "Cancel"},
            "from": ["draft", "confirmed"],
            "to": "cancelled",
            "permission": "orders.cancel",
            "comment_required": True,
            "style": "danger",
            "actions": [{"name": "inventory.release_reservation"}],
        },
    ],
}

PURCHASE_ORDER_WORKFLOW: dict[str, Any] = {
    "states": [
        {"name": "draft", "label": {"it": "Bozza", "en": "Draft"}, "kind": "initial"},
        {
            "name": "sent",
            "label": {"it": "Inviato", "en": "Sent"},
            "locked_fields": ["party_id", "lines"],
        },
        {
            "name": "partially_received",
            "label": {"it": "Ricevuto in parte", "en": "Partially received"},
            "locked_fields": ["*"],
        },
        {"name": "received", "label": {"it": "Ricevuto", "en": "Received"}, "locked_fields": ["*"]},
        {
            "name": "done",
            "label": {"it": "Chiuso", "en": "Done"},
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
            "name": "send",
            "label": {"it": "Invia al fornitore", "en": "Send to supplier"},
            "from": ["draft"],
            "to": "sent",
            "permission": "orders.confirm",
            "conditions": {"field": "line_count", "op": ">", "value": 0},
        },
        {
            "name": "receive",
            "label": {"it": "Ricevi tutto", "en": "Receive everything"},
            "from": ["sent", "partially_received"],
            "to": "received",
            "permission": "orders.receive",
            "actions": [{"name": "inventory.create_receipt"}],
        },
        {
            "name": "mark_partially_received",
            "label": {"it": "Ricevuto in parte", "en": "Partially received"},
            "from": ["sent"],
            "to": "partially_received",
            "automatic": True,
        },
        {
            "name": "mark_received",
            "label": {"it": "Ricevuto", "en": "Received"},
            "from": ["sent", "partially_received"],
            "to": "received",
            "automatic": True,
        },
        {
            "name": "close",
            "label": {"it": "Chiudi", "en": "Close"},
            "from": ["received"],
            "to": "done",
            "permission": "orders.edit",
        },
        {
            "name": "cancel",
            "label": {"it": "Annulla", "en": "Cancel"},
            "from": ["draft", "sent"],
            "to": "cancelled",
            "permission": "orders.cancel",
            "comment_required": True,
            "style": "danger",
        },
    ],
}


def request_invoice(context: ActionContext) -> None:
    """Ask whatever invoicing module the firm runs to invoice this order."""
    events.emit(
        "invoice.requested", document=context.document, document_type=context.document_type.name
    )


def notify(context: ActionContext) -> None:
    """E-mail the counterpart (or ``params.to``) that the order moved; sent by the worker.

    Written in the firm's language (it goes to the firm's customer or supplier, not
    to whoever clicked), with the date and the step as the firm names them.
    """
    from flask_babel import force_locale, format_date
    from flask_babel import gettext as _

    from distretto.modules.catalog.models import Party
    from distretto.sdk import current_tenant, db, workflow

    order = context.document
    party = db.session.get(Party, order.party_id)
    to = context.params.get("to") or (party.email if party else None)
    if not to:
        return
    locale = getattr(current_tenant, "default_locale", None) or "it"
    _row, definition = workflow.engine.definition_of(order)
    transition = definition.transition(context.transition)
    with force_locale(locale):
        step = (
            workflow.label_text(transition.label, locale)
            if transition is not None
            else context.transition
        )
        subject = _("Order %(number)s: %(step)s", number=order.number, step=step)
        body = _(
            "Order %(number)s of %(date)s moved to %(state)s.",
            number=order.number,
            date=format_date(order.order_date),
            state=workflow.engine.state_label(order, locale),
        )
    outbox.enqueue("mail.send", {"to": to, "subject": subject, "body": body})
