"""Conto lavoro: material sent to subcontractors on a transport document, processed goods
back, and what is still out per subcontractor. Distretto finds ``module`` through the
``distretto.modules`` entry point in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from distretto.sdk import DocumentType, FieldSpec, MenuEntry, Module, NumberingDefault
from flask_babel import lazy_gettext as _l

from distretto_conto_lavoro.api import api
from distretto_conto_lavoro.models import (
    Dispatch,
    DispatchLine,
    GoodsReturn,
    Item,
    ReturnLine,
    Subcontractor,
)
from distretto_conto_lavoro.views import bp
from distretto_conto_lavoro.workflows import ACTIONS, DEFAULT_WORKFLOW, EVENT_HANDLERS

module = Module(
    name="conto_lavoro",
    version="1.0.0",
    label=_l("Conto lavoro"),
    description=_l("Material sent to subcontractors, processed goods back, what is still out."),
    platform_versions=">=0.1,<1",
    models=(Subcontractor, Item, Dispatch, DispatchLine, GoodsReturn, ReturnLine),
    blueprint=bp,
    api_blueprint=api,
    permissions={
        "conto_lavoro.view": ("owner", "admin", "staff", "viewer"),
        "conto_lavoro.edit": ("owner", "admin", "staff"),
    },
    menu=(
        MenuEntry(_l("Conto lavoro"), "conto_lavoro.outstanding", "conto_lavoro.view", order=60),
    ),
    document_types=(
        DocumentType(
            name="cl_dispatch",
            label=_l("Conto lavoro dispatch"),
            model=Dispatch,
            fields={
                "processing": FieldSpec("text", _l("Processing requested")),
                "total_quantity": FieldSpec("decimal", _l("Total quantity sent")),
            },
            default_workflow=DEFAULT_WORKFLOW,
            numbering=NumberingDefault("CL-{year}-{seq:05}", yearly_reset=True, gapless=True),
            detail_endpoint="conto_lavoro.dispatch_detail",
            lockable_fields=("processing", "notes"),
        ),
    ),
    actions=ACTIONS,
    event_handlers=EVENT_HANDLERS,
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
