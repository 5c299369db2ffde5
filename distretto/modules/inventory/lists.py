"""Transport documents (DDT) as a declared list view (filters, columns, saved views, exports)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from distretto.modules.catalog.models import Party
from distretto.modules.inventory.models import Shipment
from distretto.platform.listing import like_pattern
from distretto.sdk import db, listviews, workflow

Column = listviews.Column


def _related(shipments: Any) -> dict[str, Any]:
    """Recipients and state labels of the listed documents, one query each."""
    party_ids = {s.party_id for s in shipments}
    parties = (
        {
            p.id: p
            for p in db.session.execute(select(Party).where(Party.id.in_(party_ids))).scalars()
        }
        if party_ids
        else {}
    )
    return {"parties": parties, "states": listviews.workflow_states(shipments)}


def _search(query: Any, text: str) -> Any:
    pattern = like_pattern(text)
    parties = select(Party.id).where(Party.legal_name.ilike(pattern, escape="\\"))
    return query.where(
        Shipment.number.ilike(pattern, escape="\\")
        | Shipment.source_number.ilike(pattern, escape="\\")
        | Shipment.party_id.in_(parties)
    )


def _state_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "it")
    states = workflow.engine.parsed(workflow.current_definition("transport_document")).states
    return [(s.name, workflow.label_text(s.label, locale)) for s in states]


def _recipient(shipment: Shipment, related: Any) -> Party | None:
    return related["parties"].get(shipment.party_id)


SHIPMENTS = listviews.register(
    listviews.ListView(
        key="inventory.shipments",
        endpoint="inventory.shipments",
        title=_l("Transport documents"),
        permission="inventory.view",
        query=lambda: select(Shipment),
        search=_search,
        search_placeholder=_l("DDT or order number"),
        columns=[
            Column(
                "number",
                _l("Number"),
                lambda s, r: s.number,
                sort=Shipment.number,
                link=lambda s: url_for("inventory.shipment_detail", shipment_id=s.id),
            ),
            Column(
                "date",
                _l("Date"),
                lambda s, r: s.shipment_date,
                kind="date",
                sort=Shipment.shipment_date,
            ),
            Column(
                "party_code",
                _l("Recipient code"),
                lambda s, r: getattr(_recipient(s, r), "code", None),
                default=False,
            ),
            Column(
                "party", _l("Recipient"), lambda s, r: getattr(_recipient(s, r), "legal_name", None)
            ),
            Column("order", _l("Order"), lambda s, r: s.source_number),
            Column(
                "state",
                _l("State"),
                listviews.state_label,
                sort=Shipment.state,
            ),
            Column("reason", _l("Reason"), lambda s, r: s.reason, default=False),
            Column(
                "packages", _l("Packages"), lambda s, r: s.packages, kind="number", default=False
            ),
            Column(
                "weight", _l("Weight (kg)"), lambda s, r: s.weight_kg, kind="number", default=False
            ),
            Column("invoiced", _l("Invoiced"), lambda s, r: s.invoiced, kind="bool", default=False),
        ],
        filters=[
            listviews.Filter(
                "state",
                _l("State"),
                lambda query, value: query.where(Shipment.state == value),
                choices=_state_choices,
            ),
            listviews.Filter(
                "invoiced",
                _l("Invoiced"),
                lambda query, value: query.where(Shipment.invoiced.is_(value == "1")),
                choices=lambda: [("1", _l("Yes")), ("0", _l("No"))],
            ),
        ],
        default_sort="-date",
        tiebreak=Shipment.id,
        related=_related,
        model=Shipment,
        document_type="transport_document",
        export_name="transport-documents",
        empty_text=_l("No transport documents yet."),
    )
)
