"""What a module's API views use: bodies, lists, ETags, custom fields.

A view stays thin: read the body with :func:`json_body`, call the module's
service, answer with :func:`respond`. Lists go through :func:`list_args` (query
schema with a sort whitelist) and :func:`paginate`; updates lock the row and
check ``If-Match`` with :func:`check_if_match` before changing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, json, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select

from distretto.platform.api.problems import Problem
from distretto.platform.db import db

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
FILTER_OPERATORS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "contains": "contains",
    "empty": "is_empty",
}

# --- bodies and answers ------------------------------------------------------------------


def json_body(schema: Schema | type[Schema] | None = None) -> dict[str, Any]:
    """The request's JSON object (415 if not JSON, 400 if not an object).

    With ``schema``, a key the schema does not know is refused (422) rather than
    silently ignored, so a typing slip in a client is reported.
    """
    if not request.is_json:
        raise Problem(415, _("Send the body as JSON (Content-Type: application/json)."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Problem(400, _("The body must be a JSON object."))
    if schema is not None:
        instance = schema() if isinstance(schema, type) else schema
        known = {f.data_key or name for name, f in instance.fields.items() if not f.dump_only}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError({name: [_("Unknown field.")] for name in unknown})
    return data


def merge_patch(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The full input of an update: the stored values with the PATCH body's on top."""
    return {**current, **patch}


class UtcDateTime(fields.DateTime):
    """A moment as RFC 3339 with its offset: the database keeps UTC without one."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DecimalString(fields.Decimal):
    """A decimal amount written as a JSON string (``"1250.50"``): no float rounding."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(*args, **kwargs)


def etag_of(data: Any) -> str:
    """A strong ETag of a resource's representation (unquoted)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def respond(
    data: Any, status: int = 200, *, etag: bool = True, location: str | None = None
) -> Response:
    """Answer ``data`` as JSON, with its ETag (for single resources)."""
    response = Response(json.dumps(data), status=status, mimetype="application/json")
    if etag:
        response.set_etag(etag_of(data))
    if location:
        response.headers["Location"] = location
    return response


def check_if_match(current: Any) -> None:
    """Refuse the update unless ``If-Match`` names the current representation.

    Call it after loading the row ``FOR UPDATE`` (see :func:`locked`), inside the
    request's transaction: two concurrent updates based on the same version
    cannot both pass. Missing header: 428; stale: 412.
    """
    if not request.if_match:
        raise Problem(
            428,
            _("Send If-Match with the ETag you read, so a concurrent change is not overwritten."),
            code="if_match_required",
        )
    if not request.if_match.contains(etag_of(current)):
        raise Problem(
            412,
            _("The resource changed since you read it: read it again and redo your change."),
            code="stale",
        )


def locked(query: Select[Any], model: type) -> Select[Any]:
    """``query`` taking a row lock on ``model`` (PostgreSQL; SQLite serialises writers)."""
    return query.with_for_update(of=model)


# --- lists ---------------------------------------------------------------------------------


_list_schemas: dict[str, type[Schema]] = {}


def list_args(
    name: str, sorts: Sequence[str], default_sort: str, **filters: fields.Field
) -> type[Schema]:
    """A query-string schema: ``page``, ``per_page``, ``sort`` (whitelisted) and ``filters``."""
    if name in _list_schemas:
        return _list_schemas[name]
    choices = [*sorts, *(f"-{s}" for s in sorts)]
    declared: dict[str, fields.Field] = {
        "page": fields.Integer(
            load_default=1,
            validate=validate.Range(min=1, max=1_000_000),
            metadata={"description": "Page number, from 1."},
        ),
        "per_page": fields.Integer(
            load_default=DEFAULT_PER_PAGE,
            validate=validate.Range(min=1, max=MAX_PER_PAGE),
            metadata={"description": f"Items per page (1 to {MAX_PER_PAGE})."},
        ),
        "sort": fields.String(
            load_default=default_sort,
            validate=validate.OneOf(choices),
            metadata={"description": "Sort key; prefix with - for descending."},
        ),
        **filters,
    }
    schema = Schema.from_dict(declared, name=name)
    _list_schemas[name] = schema
    return schema


_page_schemas: dict[str, type[Schema]] = {}


class LinksSchema(Schema):
    self_ = fields.String(data_key="self")
    first = fields.String()
    last = fields.String()
    prev = fields.String(allow_none=True)
    next = fields.String(allow_none=True)


def page_schema(item: type[Schema]) -> type[Schema]:
    """The schema of a page of ``item``: ``items``, ``page``, ``per_page``, ``total``, ``links``."""
    name = item.__name__.removesuffix("Schema") + "Page"
    if name not in _page_schemas:
        _page_schemas[name] = Schema.from_dict(
            {
                "items": fields.List(fields.Nested(item), required=True),
                "page": fields.Integer(required=True),
                "per_page": fields.Integer(required=True),
                "pages": fields.Integer(required=True),
                "total": fields.Integer(required=True),
                "links": fields.Nested(LinksSchema, required=True),
            },
            name=name,
        )
    return _page_schemas[name]


def paginate(
    query: Select[Any],
    args: Mapping[str, Any],
    sorts: Mapping[str, Any],
    dump: Any,
) -> Response:
    """Sort, count and cut ``query``; answer the page with links (and a Link header).

    ``sorts`` maps the whitelisted sort keys to columns (a list for ties); the
    id breaks ties last so pages never overlap. ``dump`` turns the rows into
    JSON (``Schema(many=True).dump`` or a function).
    """
    sort = str(args.get("sort"))
    key = sort.lstrip("-")
    columns = sorts[key]
    columns = list(columns) if isinstance(columns, (list, tuple)) else [columns]
    order = [c.desc() if sort.startswith("-") else c.asc() for c in columns]
    entity = query.column_descriptions[0]["entity"]
    if entity is not None and hasattr(entity, "id"):
        order.append(entity.id.desc() if sort.startswith("-") else entity.id.asc())
    page, per_page = int(args["page"]), int(args["per_page"])
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = (
        db.session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
        .unique()
        .scalars()
        .all()
    )
    pages = max(1, -(-total // per_page))
    links = {
        "self": _page_url(page),
        "first": _page_url(1),
        "last": _page_url(pages),
        "prev": _page_url(page - 1) if page > 1 else None,
        "next": _page_url(page + 1) if page < pages else None,
    }
    body = {
        "items": dump(rows),
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "total": total,
        "links": links,
    }
    response = respond(body, etag=False)
    response.headers["Link"] = ", ".join(
        f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self"
    )
    response.headers["X-Total-Count"] = str(total)
    return response


def _page_url(page: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    args.append(("page", str(page)))
    return f"{request.path}?{urlencode(args)}"


# --- custom fields --------------------------------------------------------------------------


class CustomFields(fields.Dict):
    """The firm's custom fields of ``document_type`` (values as stored, validated by services).

    In a firm's OpenAPI document this field lists that firm's fields with their types.
    """

    def __init__(self, document_type: str, *, output: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("keys", fields.String())
        kwargs.setdefault(
            "metadata",
            {"description": "The firm's custom fields (see the firm's own OpenAPI document)."},
        )
        super().__init__(**kwargs)
        self.document_type = document_type
        self.output = output  # answers may hold values of fields deactivated since


def custom_field_filters(model: Any, document_type: str) -> list[Any]:
    """Conditions from ``cf_<name>=value`` or ``cf_<name>__<op>=value`` query parameters.

    Operators: eq, ne, gt, gte, lt, lte, contains, empty (``cf_x__empty=1``). An
    unknown field or a value that does not fit its type is a 400 naming the parameter.
    """
    from distretto.platform import customfields

    wanted = [(k, v) for k, v in request.args.items(multi=True) if k.startswith("cf_")]
    if not wanted:
        return []
    definitions = {d.name: d for d in customfields.definitions(document_type)}
    clauses: list[Any] = []
    errors: dict[str, list[str]] = {}
    for param, value in wanted:
        name, _sep, op = param[3:].partition("__")
        definition = definitions.get(name)
        if definition is None:
            errors[param] = [_("Unknown custom field.")]
            continue
        if op and op not in FILTER_OPERATORS:
            errors[param] = [
                _(
                    "Unknown operator; use one of %(operators)s.",
                    operators=", ".join(FILTER_OPERATORS),
                )
            ]
            continue
        try:
            clauses.append(
                customfields.filter_clause(
                    model, definition, value, FILTER_OPERATORS[op] if op else None
                )
            )
        except (ValueError, ArithmeticError) as exc:
            errors[param] = [str(exc) or _("Not a valid filter.")]
    if errors:
        raise Problem(400, _("Some filters are not valid."), errors=errors, code="bad_filter")
    return clauses


class TransitionIn(Schema):
    """The optional body of ``POST .../<id>/transitions/<name>``: a comment for the history."""

    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def transition_input() -> dict[str, Any]:
    """The transition's body, when one was sent (a bodyless POST is the usual case)."""
    return TransitionIn().load(json_body(TransitionIn) if request.get_data(cache=True) else {})


def workflow_step(document: Any, name: str) -> Any:
    """The transition ``name`` of the document's workflow, if the caller may fire it.

    404 when the firm's workflow has no such step, 403 when the role (or the API
    token) lacks its permission; the guard's own refusals come later, from
    ``workflow.apply`` (409).
    """
    from distretto.platform import workflow
    from distretto.platform.permissions import can

    _row, definition = workflow.engine.definition_of(document)
    step = definition.transition(name)
    if step is None:
        raise Problem(404, _("The workflow has no step %(name)s.", name=name))
    if step.permission and not can(step.permission):
        raise Problem(403, _("Your role or token does not allow this step."))
    return step
