"""The firm-admin settings pages as the cross-firm sweep sees them (see :mod:`.routes`).

Imported by :mod:`distretto.testing.kernel_routes`. The settings pages are the
kernel's, so these cases must work in any app: they use whichever installed
module declares a document type with a workflow (the test-only ``sample``
module when it is loaded), enabling it in the firm from ``build``.
"""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from distretto.testing.routes import RouteCaseFailed, RouteRequest, SweepFirm, route_case

DOC = frozenset({"doc_type"})
FIELD_NAME = "sweep_field"


def _document_type(firm: SweepFirm) -> Any:
    """A document type with a workflow, its module enabled in ``firm``."""
    from distretto.platform.modules import enable_module, registry

    candidates = sorted(
        (module.name != "sample", module.name, doc_type.name, doc_type)
        for module in registry.modules.values()
        for doc_type in module.document_types
        if doc_type.default_workflow
    )
    if not candidates:
        raise RouteCaseFailed(
            "the settings pages need an installed module with a document type and a workflow"
        )
    _first, module_name, _name, doc_type = candidates[0]
    enable_module(module_name)
    return doc_type


def _doc(firm: SweepFirm, **request: Any) -> RouteRequest:
    doc_type = _document_type(firm)
    return RouteRequest(url={"doc_type": doc_type.name}, **request)


def _field(firm: SweepFirm) -> tuple[Any, Any]:
    from distretto.platform import customfields

    doc_type = _document_type(firm)
    row = customfields.define(
        doc_type.name, {"name": FIELD_NAME, "label": "Sweep field", "type": "text"}
    )
    return doc_type, row


def _definition(firm: SweepFirm) -> dict[str, Any]:
    return _document_type(firm).default_workflow


def _module_name(firm: SweepFirm) -> str:
    return _document_type(firm).module


# --- pages that only read ----------------------------------------------------------------


@route_case("settings.index", "GET", expect_ok={303})
def _index(firm: SweepFirm) -> None:
    return None


@route_case("settings.modules", "GET")
@route_case("settings.workflows", "GET")
@route_case("settings.fields", "GET")
@route_case("settings.numbering_rules", "GET")
@route_case("settings.customisation", "GET")
@route_case("settings.export_customisation", "GET")
def _firm_page(firm: SweepFirm) -> None:
    _field(firm)


@route_case("settings.workflow", "GET", shared_values=DOC)
@route_case("settings.document_fields", "GET", shared_values=DOC)
@route_case("settings.numbering_rule", "GET", shared_values=DOC)
def _document_type_page(firm: SweepFirm) -> RouteRequest:
    return _doc(firm)


@route_case("settings.numbering_preview", "GET", shared_values=DOC)
def _numbering_preview(firm: SweepFirm) -> RouteRequest:
    return _doc(firm, query={"format": "SW-{seq:03}"})


@route_case("settings.edit_field", "GET", shared_values=DOC)
def _edit_field(firm: SweepFirm) -> RouteRequest:
    doc_type, row = _field(firm)
    return RouteRequest(url={"doc_type": doc_type.name, "field_id": row.id})


# --- modules ---------------------------------------------------------------------------------


def _enabled(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.platform.modules import TenantModule

    row = db.session.execute(
        select(TenantModule).where(TenantModule.module == request.url["name"])
    ).scalar_one()
    assert row.enabled


def _disabled(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.platform.modules import TenantModule

    row = db.session.execute(
        select(TenantModule).where(TenantModule.module == request.url["name"])
    ).scalar_one()
    assert not row.enabled


@route_case("settings.enable", "POST", expect_ok={303}, shared_values={"name"}, verify=_enabled)
def _enable(firm: SweepFirm) -> RouteRequest:
    from distretto.platform.modules import disable_module

    name = _module_name(firm)
    disable_module(name)  # enabled by _module_name; the request enables it again
    return RouteRequest(url={"name": name})


@route_case("settings.disable", "POST", expect_ok={303}, shared_values={"name"}, verify=_disabled)
def _disable(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"name": _module_name(firm)})


# --- workflows -------------------------------------------------------------------------------


@route_case("settings.workflow_edit", "POST", expect_ok={200}, shared_values=DOC)
def _workflow_edit(firm: SweepFirm) -> RouteRequest:
    return _doc(firm, data={"op": "add_state", "states-0-name": "draft"})


@route_case("settings.workflow_preview", "POST", expect_ok={200}, shared_values=DOC)
def _workflow_preview(firm: SweepFirm) -> RouteRequest:
    definition = _definition(firm)
    return _doc(firm, data={"editor": "json", "definition_json": json.dumps(definition)})


def _published(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.workflow import engine

    current = engine.current_definition(request.url["doc_type"])
    assert current.source == "custom"
    assert current.note == "sweep"


@route_case(
    "settings.workflow_publish", "POST", expect_ok={303}, shared_values=DOC, verify=_published
)
def _workflow_publish(firm: SweepFirm) -> RouteRequest:
    definition = _definition(firm)
    data = {"editor": "json", "definition_json": json.dumps(definition), "note": "sweep"}
    return _doc(firm, data=data)


def _reset(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.workflow import engine

    assert engine.current_definition(request.url["doc_type"]).source == "default"


@route_case("settings.workflow_reset", "POST", expect_ok={303}, shared_values=DOC, verify=_reset)
def _workflow_reset(firm: SweepFirm) -> RouteRequest:
    from distretto.platform.workflow import engine

    request = _doc(firm)
    engine.publish(request.url["doc_type"], _definition(firm))
    return request


def _migrated(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.audit import AuditEntry
    from distretto.platform.db import db

    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "workflow.migrated" in actions


@route_case(
    "settings.workflow_migrate", "POST", expect_ok={303}, shared_values=DOC, verify=_migrated
)
def _workflow_migrate(firm: SweepFirm) -> RouteRequest:
    from distretto.platform.workflow import engine

    request = _doc(firm)
    engine.current_definition(request.url["doc_type"])
    engine.publish(request.url["doc_type"], _definition(firm))
    return RouteRequest(url=request.url, data={"from_version": "1", "to_version": "2"})


# --- custom fields -----------------------------------------------------------------------------


def _field_row(doc_type: str, name: str = FIELD_NAME) -> Any:
    from distretto.platform import customfields

    return next(
        d for d in customfields.definitions(doc_type, include_inactive=True) if d.name == name
    )


def _field_added(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _field_row(request.url["doc_type"], "sweep_added").label == "Added"


@route_case("settings.add_field", "POST", expect_ok={303}, shared_values=DOC, verify=_field_added)
def _add_field(firm: SweepFirm) -> RouteRequest:
    return _doc(firm, data={"name": "sweep_added", "label": "Added", "field_type": "text"})


def _field_updated(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _field_row(request.url["doc_type"]).label == "Renamed"


@route_case(
    "settings.update_field", "POST", expect_ok={303}, shared_values=DOC, verify=_field_updated
)
def _update_field(firm: SweepFirm) -> RouteRequest:
    doc_type, row = _field(firm)
    return RouteRequest(
        url={"doc_type": doc_type.name, "field_id": row.id},
        data={"label": "Renamed", "active": "y"},
    )


def _field_hidden(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert _field_row(request.url["doc_type"]).active is False


@route_case(
    "settings.deactivate_field", "POST", expect_ok={303}, shared_values=DOC, verify=_field_hidden
)
def _deactivate_field(firm: SweepFirm) -> RouteRequest:
    doc_type, row = _field(firm)
    return RouteRequest(url={"doc_type": doc_type.name, "field_id": row.id})


# --- numbering and the customisation file -------------------------------------------------------


def _numbering_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform import numbering

    assert numbering.rule_for(request.url["doc_type"]).format == "SW-{seq:04}"


@route_case(
    "settings.save_numbering", "POST", expect_ok={303}, shared_values=DOC, verify=_numbering_saved
)
def _save_numbering(firm: SweepFirm) -> RouteRequest:
    return _doc(firm, data={"format": "SW-{seq:04}"})


def _imported(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.platform.numbering import NumberingRule

    formats = db.session.execute(select(NumberingRule.format)).scalars().all()
    assert "IMP-{seq}" in formats


@route_case("settings.import_customisation", "POST", expect_ok={303}, verify=_imported)
def _import_customisation(firm: SweepFirm) -> RouteRequest:
    doc_type = _document_type(firm)
    bundle = {
        "format": "distretto.customisation/1",
        "numbering": {doc_type.name: {"format": "IMP-{seq}", "yearly_reset": True}},
    }
    return RouteRequest(
        data={"bundle": (io.BytesIO(json.dumps(bundle).encode()), "customisation.json")}
    )
