"""The dispatch's default workflow, the actions this module offers, its event handlers.

A firm may change the workflow (add an approval step, rename states...);
the actions stay available to its own transitions.
"""

from __future__ import annotations

from typing import Any

from distretto.sdk import ActionContext, ActionError, WorkflowAction, db
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from distretto_conto_lavoro import services
from distretto_conto_lavoro.models import Dispatch

DEFAULT_WORKFLOW: dict[str, Any] = {
    "states": [
        {"name": "draft", "label": {"en": "Draft", "it": "Bozza"}, "kind": "initial"},
        {"name": "sent", "label": {"en": "At the subcontractor", "it": "Presso il terzista"}},
        {"name": "closed", "label": {"en": "Closed", "it": "Chiuso"}, "kind": "final"},
    ],
    "transitions": [
        {
            "name": "send",
            "label": {"en": "Issue and send", "it": "Emetti e spedisci"},
            "from": ["draft"],
            "to": "sent",
            "permission": "conto_lavoro.edit",
            "actions": [{"name": "conto_lavoro.issue_document"}],
        },
        {
            "name": "close",
            "label": {"en": "Close", "it": "Chiudi"},
            "from": ["sent"],
            "to": "closed",
            "permission": "conto_lavoro.edit",
            "actions": [{"name": "conto_lavoro.check_returns"}],
        },
    ],
}


def issue_document(context: ActionContext) -> None:
    """Number the transport document (gapless) and date it: the material leaves now."""
    try:
        services.issue_dispatch(context.document)
    except services.ContoLavoroError as exc:
        raise ActionError(str(exc)) from exc


def check_returns(context: ActionContext) -> None:
    """Refuse the transition while material is still at the subcontractor."""
    still_out = services.outstanding_lines(context.document)
    if still_out:
        details = ", ".join(
            f"{services.show(b.outstanding)} {b.line.item.unit} {b.line.item.code}"
            for b in still_out
        )
        raise ActionError(_("Still at the subcontractor: %(details)s.", details=details))


ACTIONS = (
    WorkflowAction(
        "conto_lavoro.issue_document",
        _l("Number and date the transport document"),
        issue_document,
        ("cl_dispatch",),
        "Takes the next gapless cl_dispatch number; refuses a dispatch without lines.",
    ),
    WorkflowAction(
        "conto_lavoro.check_returns",
        _l("Check that everything came back"),
        check_returns,
        ("cl_dispatch",),
        "Refuses the step while any line still has material at the subcontractor.",
    ),
)


def close_settled_dispatches(goods_return: Any, dispatch_ids: list[int], **_payload: Any) -> None:
    """On ``conto_lavoro.return_recorded``: close the dispatches that are now settled."""
    for dispatch_id in dispatch_ids:
        dispatch = db.session.get(Dispatch, dispatch_id)
        if dispatch is not None:
            services.close_if_settled(dispatch)


EVENT_HANDLERS = {services.RETURN_RECORDED: [close_settled_dispatches]}
