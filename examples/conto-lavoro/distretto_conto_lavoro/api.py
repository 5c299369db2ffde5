"""Conto lavoro's REST API, at ``/api/v1/<tenant>/conto_lavoro``, through the module contract.

A third-party module adds endpoints exactly as the built-in ones do: an
``api_blueprint(...)`` from :mod:`distretto.sdk` (named ``conto_lavoro_api``)
declared on ``Module(api_blueprint=...)``. The platform then authenticates
(API tokens, or a browser session plus CSRF), rate-limits, replays
``Idempotency-Key`` repeats, answers errors as problem details and lists
these operations, with their schemas, in the firm's OpenAPI document.
Views stay thin: the services validate and decide, as for the pages.
Quantities are strings, so that no decimal is lost to a JSON float.
"""

from __future__ import annotations

import re
from typing import Any

from distretto.sdk import (
    DecimalString,
    Problem,
    UtcDateTime,
    api_blueprint,
    current_role,
    db,
    json_body,
    list_args,
    locked,
    page_schema,
    paginate,
    permission_required,
    respond,
    transition_input,
    workflow,
    workflow_step,
)
from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto_conto_lavoro import services
from distretto_conto_lavoro.models import Dispatch, GoodsReturn

api = api_blueprint(
    "conto_lavoro",
    __name__,
    "Conto lavoro: material sent to subcontractors, processed goods back, what is still out.",
)

ETAG = {"ETag": {"description": "The representation's version.", "schema": {"type": "string"}}}
FIELD_RE = re.compile(r"^lines-(\d+)-(\w+)$")


# --- schemas -------------------------------------------------------------------------------


class ItemBalanceOut(Schema):
    code = fields.String()
    description = fields.String()
    unit = fields.String()
    sent = DecimalString(places=3)
    returned = DecimalString(places=3)
    scrap = DecimalString(places=3)
    outstanding = DecimalString(places=3)


class SubcontractorBalanceOut(Schema):
    id = fields.Integer()
    name = fields.String()
    vat_number = fields.String()
    items = fields.List(fields.Nested(ItemBalanceOut))


class OutstandingOut(Schema):
    subcontractors = fields.List(fields.Nested(SubcontractorBalanceOut))


class DispatchLineOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    item_id = fields.Integer()
    quantity = DecimalString(places=3)


class DispatchOut(Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True, metadata={"description": "Given when sent."})
    state = fields.String(metadata={"description": "The state in the firm's workflow."})
    subcontractor_id = fields.Integer()
    processing = fields.String()
    notes = fields.String(allow_none=True)
    shipped_on = fields.Date(allow_none=True)
    created_at = UtcDateTime()
    lines = fields.List(fields.Nested(DispatchLineOut))


class DispatchLineIn(Schema):
    item_id = fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = fields.String(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "Up to three decimals: 12.5 or 12,5."},
    )


class DispatchIn(Schema):
    subcontractor_id = fields.Integer(required=True, validate=validate.Range(min=1))
    processing = fields.String(required=True, validate=validate.Length(min=1, max=200))
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    lines = fields.List(
        fields.Nested(DispatchLineIn), required=True, validate=validate.Length(min=1, max=200)
    )


class ReturnLineOut(Schema):
    id = fields.Integer()
    dispatch_line_id = fields.Integer()
    quantity = DecimalString(places=3)
    scrap = DecimalString(places=3)


class ReturnOut(Schema):
    id = fields.Integer()
    subcontractor_id = fields.Integer()
    reference = fields.String()
    received_on = fields.Date()
    notes = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(ReturnLineOut))


class ReturnLineIn(Schema):
    dispatch_line_id = fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = fields.String(load_default="0", validate=validate.Length(max=30))
    scrap = fields.String(load_default="0", validate=validate.Length(max=30))


class ReturnIn(Schema):
    subcontractor_id = fields.Integer(required=True, validate=validate.Range(min=1))
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The subcontractor's transport document."},
    )
    received_on = fields.Date(metadata={"description": "Today if left out; not in the future."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    lines = fields.List(
        fields.Nested(ReturnLineIn), required=True, validate=validate.Length(min=1, max=200)
    )


DISPATCH_SORTS = {"created_at": Dispatch.created_at, "shipped_on": Dispatch.shipped_on}
DispatchListArgs = list_args(
    "ClDispatchListArgs",
    list(DISPATCH_SORTS),
    "-created_at",
    state=fields.String(validate=validate.Length(max=40)),
    subcontractor_id=fields.Integer(validate=validate.Range(min=1)),
)


# --- helpers -------------------------------------------------------------------------------


def _refused(exc: services.ContoLavoroError) -> ValidationError:
    """The service's refusal as field errors: ``lines-2-quantity`` becomes ``lines.2.quantity``."""
    db.session.rollback()
    match = FIELD_RE.match(exc.field or "")
    if match:
        return ValidationError({"lines": {int(match.group(1)): {match.group(2): [str(exc)]}}})
    return ValidationError({exc.field or "_schema": [str(exc)]})


def _dispatch(dispatch_id: int, *, lock: bool = False) -> Dispatch:
    query = select(Dispatch).where(Dispatch.id == dispatch_id).options(selectinload(Dispatch.lines))
    dispatch = db.session.execute(locked(query, Dispatch) if lock else query).scalar_one_or_none()
    if dispatch is None:
        raise Problem(404, "No such dispatch.")
    return dispatch


# --- views ---------------------------------------------------------------------------------


@api.route("/outstanding", methods=["GET"])
@permission_required("conto_lavoro.view")
@api.response(200, OutstandingOut)
def outstanding() -> Any:
    """What is still out, per subcontractor and item (sent - returned - scrap)."""
    return respond(
        OutstandingOut().dump(
            {
                "subcontractors": [
                    {
                        "id": subcontractor.id,
                        "name": subcontractor.name,
                        "vat_number": subcontractor.vat_number,
                        "items": [
                            {
                                "code": row.item.code,
                                "description": row.item.description,
                                "unit": row.item.unit,
                                "sent": row.sent,
                                "returned": row.returned,
                                "scrap": row.scrap,
                                "outstanding": row.outstanding,
                            }
                            for row in rows
                        ],
                    }
                    for subcontractor, rows in services.outstanding_by_subcontractor()
                ]
            }
        ),
        etag=False,
    )


@api.route("/dispatches", methods=["GET"])
@permission_required("conto_lavoro.view")
@api.arguments(DispatchListArgs, location="query", as_kwargs=False)
@api.response(200, page_schema(DispatchOut))
def list_dispatches(args: dict[str, Any]) -> Any:
    """Dispatches, newest first."""
    query = select(Dispatch).options(selectinload(Dispatch.lines))
    for key in ("state", "subcontractor_id"):
        if args.get(key) is not None:
            query = query.where(getattr(Dispatch, key) == args[key])
    return paginate(query, args, DISPATCH_SORTS, DispatchOut(many=True).dump)


@api.route("/dispatches", methods=["POST"])
@permission_required("conto_lavoro.edit")
@api.body(DispatchIn)
@api.response(201, DispatchOut, headers=ETAG)
def create_dispatch() -> Any:
    """A draft dispatch; it is numbered when sent (``transitions/send``)."""
    values = DispatchIn().load(json_body(DispatchIn))
    try:
        dispatch = services.create_dispatch(
            values["subcontractor_id"],
            values["processing"],
            [(line["item_id"], line["quantity"]) for line in values["lines"]],
            values.get("notes"),
        )
    except services.ContoLavoroError as exc:
        raise _refused(exc) from exc
    db.session.add(dispatch)
    db.session.flush()
    return respond(
        DispatchOut().dump(dispatch),
        201,
        location=url_for(".get_dispatch", dispatch_id=dispatch.id),
    )


@api.route("/dispatches/<int:dispatch_id>", methods=["GET"])
@permission_required("conto_lavoro.view")
@api.response(200, DispatchOut, headers=ETAG)
def get_dispatch(dispatch_id: int) -> Any:
    """One dispatch with its lines."""
    return respond(DispatchOut().dump(_dispatch(dispatch_id)))


@api.route("/dispatches/<int:dispatch_id>/transitions/<name>", methods=["POST"])
@permission_required("conto_lavoro.view")
@api.response(200, DispatchOut, headers=ETAG)
def dispatch_transition(dispatch_id: int, name: str) -> Any:
    """Move a dispatch through the firm's workflow (``send``, ``close``...); 409 with the
    reason when refused (no lines, material still out)."""
    dispatch = _dispatch(dispatch_id, lock=True)
    values = transition_input()
    workflow_step(dispatch, name)
    workflow.apply(
        dispatch, services.DOCUMENT_TYPE, name, role=current_role(), comment=values["comment"]
    )
    db.session.flush()
    return respond(DispatchOut().dump(dispatch))


@api.route("/returns", methods=["POST"])
@permission_required("conto_lavoro.edit")
@api.body(ReturnIn)
@api.response(201, ReturnOut, headers=ETAG)
def create_return() -> Any:
    """Record processed goods back against lines still out (send an ``Idempotency-Key``
    so that a retried request records them once)."""
    values = ReturnIn().load(json_body(ReturnIn))
    try:
        goods_return = services.record_return(
            values["subcontractor_id"],
            values["reference"],
            [
                (line["dispatch_line_id"], line["quantity"], line["scrap"])
                for line in values["lines"]
            ],
            values.get("received_on"),
            values.get("notes"),
        )
    except services.ContoLavoroError as exc:
        raise _refused(exc) from exc
    return respond(
        ReturnOut().dump(goods_return),
        201,
        location=url_for(".get_return", return_id=goods_return.id),
    )


@api.route("/returns/<int:return_id>", methods=["GET"])
@permission_required("conto_lavoro.view")
@api.response(200, ReturnOut, headers=ETAG)
def get_return(return_id: int) -> Any:
    """One return with its lines."""
    goods_return = db.session.execute(
        select(GoodsReturn)
        .where(GoodsReturn.id == return_id)
        .options(selectinload(GoodsReturn.lines))
    ).scalar_one_or_none()
    if goods_return is None:
        raise Problem(404, "No such return.")
    return respond(ReturnOut().dump(goods_return))
