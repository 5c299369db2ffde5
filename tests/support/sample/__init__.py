"""A small module used by the kernel's own tests (loaded through EXTRA_MODULES).

It exercises everything a real module declares: a tenant-owned document with
a workflow, custom fields and numbering, actions (one always fails), an event
handler, pages, and its own migration branch.
"""

from __future__ import annotations

from pathlib import Path

from distretto.platform.documents import (
    ActionContext,
    ActionError,
    DocumentType,
    FieldSpec,
    NumberingDefault,
    WorkflowAction,
)
from distretto.platform.modules import MenuEntry, Module
from tests.support.sample.models import SampleRequest

DEFAULT_WORKFLOW = {
    "states": [
        {"name": "draft", "label": {"it": "Bozza", "en": "Draft"}, "kind": "initial"},
        {
            "name": "submitted",
            "label": {"it": "Inviata", "en": "Submitted"},
            "locked_fields": ["title"],
        },
        {"name": "approved", "label": {"it": "Approvata", "en": "Approved"}},
        {"name": "rejected", "label": {"it": "Respinta", "en": "Rejected"}, "kind": "final"},
        {"name": "done", "label": {"it": "Chiusa", "en": "Done"}, "kind": "final"},
    ],
    "transitions": [
        {
            "name": "submit",
            "label": "Submit",
            "from": ["draft"],
            "to": "submitted",
            "permission": "sample.edit",
            "conditions": {"field": "amount", "op": ">", "value": "0"},
            "actions": [{"name": "sample.stamp", "params": {"note": "submitted"}}],
        },
        {
            "name": "approve",
            "label": "Approve",
            "from": ["submitted"],
            "to": "approved",
            "permission": "sample.approve",
        },
        {
            "name": "reject",
            "label": "Reject",
            "from": ["submitted"],
            "to": "rejected",
            "permission": "sample.approve",
            "comment_required": True,
        },
        {
            "name": "close",
            "label": "Close",
            "from": ["approved"],
            "to": "done",
            "permission": "sample.edit",
        },
    ],
}


def stamp(context: ActionContext) -> None:
    context.document.note = context.params.get("note", context.transition)


def fail(context: ActionContext) -> None:
    """Change the document, optionally write the change to the database, then refuse.

    With ``{"flush": true}`` the change reaches the database inside the
    transition's SAVEPOINT, so a test can prove the savepoint really rolls back.
    """
    from distretto.platform.db import db

    context.document.note = "this change must be rolled back"
    if context.params.get("flush"):
        db.session.flush()
    raise ActionError(context.params.get("message", "the sample action failed"))


events_seen: list[tuple[str, int]] = []


def remember(document: object, **payload: object) -> None:
    events_seen.append(("sample_request.approve", document.id))  # type: ignore[attr-defined]


def _blueprint():  # imported lazily so that importing the package stays cheap
    from tests.support.sample.views import bp

    return bp


module = Module(
    name="sample",
    version="1.0.0",
    label="Sample requests",
    description="Test fixture module",
    models=(SampleRequest,),
    blueprint=_blueprint(),
    permissions={
        "sample.view": ("owner", "admin", "staff", "viewer"),
        "sample.edit": ("owner", "admin", "staff"),
        "sample.approve": ("owner", "admin"),
    },
    menu=(MenuEntry("Sample requests", "sample.index", "sample.view"),),
    document_types=(
        DocumentType(
            name="sample_request",
            label="Sample request",
            model=SampleRequest,
            fields={
                "amount": FieldSpec("decimal", "Amount"),
                "title": FieldSpec("text", "Title"),
                "due_on": FieldSpec("date", "Due on"),
            },
            default_workflow=DEFAULT_WORKFLOW,
            numbering=NumberingDefault("SR-{year}-{seq:04}", yearly_reset=True, gapless=True),
            detail_endpoint="sample.detail",
            lockable_fields=("title", "amount", "due_on"),
        ),
    ),
    actions=(
        WorkflowAction("sample.stamp", "Stamp a note", stamp, ("sample_request",)),
        WorkflowAction("sample.fail", "Always fail", fail, ("sample_request",)),
    ),
    event_handlers={"sample_request.approve": [remember]},
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
