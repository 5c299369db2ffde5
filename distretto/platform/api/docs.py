"""The OpenAPI documents and the browsable docs pages, generated from the schemas.

``/api/v1/openapi.json`` describes every installed module's API;
``/api/v1/<tenant>/openapi.json`` only the firm's enabled modules, with the
firm's custom fields spelled out in the document schemas. Both come from
flask-smorest's view documentation and apispec's marshmallow plugin: nothing
here is written by hand but the envelope (security schemes, problem details).
The docs pages run the vendored Swagger UI (no CDN).
"""

from __future__ import annotations

import hashlib
import http
from decimal import Decimal
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Flask, current_app, g, jsonify, render_template, url_for
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.spec.plugins import FlaskPlugin
from marshmallow import Schema, fields

from distretto import __version__
from distretto.platform.api.core import API_PREFIX, EXTENSION, api_blueprints
from distretto.platform.api.problems import PROBLEM_TYPE
from distretto.platform.api.resources import CustomFields, DecimalString
from distretto.platform.context import current_tenant_id

bp = Blueprint("api", __name__, url_prefix=API_PREFIX, template_folder="templates")

SPEC_CACHE_SIZE = 256


class ProblemSchema(Schema):
    """Problem details (RFC 9457)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    code = fields.String(metadata={"description": "A short machine-readable reason."})
    instance = fields.String()
    request_id = fields.String()
    errors = fields.Dict(
        metadata={"description": "Field-level messages: {field: [message, ...]} (nested)."}
    )
    reason = fields.String()


class _DocDefaults:
    """What flask-smorest's documentation callbacks read from an ``Api``."""

    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"
    DEFAULT_REQUEST_BODY_CONTENT_TYPE = "application/json"
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"
    config: dict[str, Any] = {"ETAG_DISABLED": True}  # noqa: RUF012


def _schema_name(schema: Any) -> str:
    cls = resolve_schema_cls(schema)
    name = cls.__name__
    if name.endswith("Schema") and len(name) > len("Schema"):
        name = name[: -len("Schema")]
    if isinstance(schema, Schema) and schema.partial:
        name += "Patch"
    return name


_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "maxLength": 500},
    "long_text": {"type": "string", "maxLength": 10000},
    "integer": {"type": "integer"},
    "decimal": {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
    "choice": {"type": "string"},
}


def _custom_fields_property(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict:
    """In a firm's document, a CustomFields field lists the firm's own fields."""
    if not isinstance(field, CustomFields) or current_tenant_id() is None:
        return {}
    from distretto.platform import customfields

    properties: dict[str, Any] = {}
    required = []
    for definition in customfields.definitions(field.document_type):
        prop = dict(_TYPES.get(definition.field_type, {"type": "string"}))
        if definition.field_type == "choice":
            prop["enum"] = list(definition.choices or [])
        prop["description"] = definition.label + (
            f" — {definition.help_text}" if definition.help_text else ""
        )
        if definition.required:
            required.append(definition.name)
        else:
            prop["nullable"] = True
        properties[definition.name] = prop
    extra: dict[str, Any] = {
        "properties": properties,
        "additionalProperties": bool(field.output),
        "description": "This firm's custom fields. Leave one out to keep its value.",
    }
    if required and not field.output:
        extra["x-required-on-create"] = required
    return extra


def build_spec(app: Flask, blueprints: list[Any], *, firm: Any = None) -> dict[str, Any]:
    """The OpenAPI 3 document of ``blueprints`` (for ``firm`` when given)."""
    ma_plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    title = "Distretto API" + (f" — {firm.legal_name}" if firm is not None else "")
    spec = APISpec(
        title=title,
        version=__version__,
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), ma_plugin],
        info={
            "description": (
                "REST API of the Distretto platform. Authenticate with a firm's API token "
                "(`Authorization: Bearer dst_...`) or, from the same origin, a browser session "
                "plus the X-CSRFToken header on writes. See docs/api.md."
            )
        },
    )
    ma_plugin.converter.add_attribute_function(_custom_fields_property)
    ma_plugin.map_to_openapi_type(DecimalString, "string", "decimal")
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "dst_..."}
    )
    spec.components.security_scheme(
        "cookieAuth",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        },
    )
    spec.components.schema("Problem", schema=ProblemSchema)
    problem = {"content": {PROBLEM_TYPE: {"schema": "Problem"}}}
    for status in http.HTTPStatus:
        if status >= 400:
            spec.components.response(
                status.name, {"description": status.phrase, **problem}, lazy=True
            )
    spec.components.response(
        _DocDefaults.DEFAULT_ERROR_RESPONSE_NAME, {"description": "An error", **problem}
    )
    defaults = _DocDefaults()
    for blueprint in blueprints:
        if not isinstance(blueprint, SmorestBlueprint):
            continue  # a plain Flask blueprint still answers, but documents nothing
        blueprint.register_views_in_doc(defaults, app, spec, name=blueprint.name, parameters=None)
        spec.tag({"name": blueprint.name, "description": blueprint.description or ""})
    document = _jsonable(spec.to_dict())
    document["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
    for path in document.get("paths", {}).values():
        for item in [path, *(op for op in path.values() if isinstance(op, dict))]:
            for parameter in item.get("parameters", []) if isinstance(item, dict) else []:
                if isinstance(parameter, dict) and parameter.get("name") == "tenant":
                    parameter["description"] = "The firm's address (its slug)."
                    if firm is not None:
                        parameter["schema"] = {"type": "string", "enum": [firm.slug]}
    return document


def _jsonable(value: Any) -> Any:
    """The document as plain JSON: schema defaults may be Decimals, labels lazy strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def platform_spec() -> dict[str, Any]:
    state = current_app.extensions[EXTENSION]
    if "platform_spec" not in state:
        state["platform_spec"] = build_spec(current_app, api_blueprints(current_app))
    return state["platform_spec"]


def firm_spec() -> dict[str, Any]:
    """The current firm's document, cached until its modules or custom fields change."""
    from distretto.platform.modules import enabled_modules

    firm = g.tenant
    blueprints = [m.api_blueprint for m in enabled_modules() if m.api_blueprint is not None]
    signature = hashlib.sha256()
    signature.update(repr([bp.name for bp in blueprints]).encode())
    for row in _definitions():
        signature.update(repr(tuple(row)).encode())
    key = (firm.id, firm.slug, firm.legal_name, signature.hexdigest())
    cache = current_app.extensions[EXTENSION]["spec_cache"]
    if key not in cache:
        if len(cache) >= SPEC_CACHE_SIZE:
            cache.clear()
        cache[key] = build_spec(current_app, blueprints, firm=firm)
    return cache[key]


def _definitions() -> list[tuple[Any, ...]]:
    from sqlalchemy import select

    from distretto.platform.customfields import CustomFieldDefinition as D
    from distretto.platform.db import db

    return list(
        db.session.execute(
            select(
                D.document_type,
                D.name,
                D.label,
                D.field_type,
                D.required,
                D.choices,
                D.help_text,
                D.active,
                D.position,
            ).order_by(D.document_type, D.position, D.id)
        ).all()
    )


@bp.get("/openapi.json")
def openapi() -> Any:
    """Every installed module's API (no firm's data)."""
    return jsonify(platform_spec())


@bp.get("/docs")
def docs() -> Any:
    return render_template(
        "api/docs.html", spec_url=url_for("api.openapi"), title="Distretto API", firm=None
    )


@bp.get("/<tenant>/openapi.json")
def firm_openapi() -> Any:
    """The firm's API: its enabled modules, its custom fields."""
    return jsonify(firm_spec())


@bp.get("/<tenant>/docs")
def firm_docs() -> Any:
    return render_template(
        "api/docs.html",
        spec_url=url_for("api.firm_openapi"),
        title=f"Distretto API — {g.tenant.legal_name}",
        firm=g.tenant,
    )
