"""What global search finds among stock documents: transport documents (DDT)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party
from distretto.modules.inventory.models import Shipment
from distretto.sdk import (
    SearchGroup,
    SearchResult,
    can,
    contains_pattern,
    db,
    short_date,
    starts_first,
)


def search(query: str, limit: int) -> list[SearchGroup]:
    if not can("inventory.view"):
        return []
    pattern = contains_pattern(query)
    rows = db.session.execute(
        select(
            Shipment.id,
            Shipment.number,
            Shipment.shipment_date,
            Shipment.source_number,
            Party.legal_name,
        )
        .join(Party, Party.id == Shipment.party_id)
        .where(
            or_(
                Shipment.number.ilike(pattern, escape="\\"),
                Shipment.source_number.ilike(pattern, escape="\\"),
                Party.legal_name.ilike(pattern, escape="\\"),
            )
        )
        .order_by(
            starts_first(Shipment.number, query), Shipment.shipment_date.desc(), Shipment.id.desc()
        )
        .limit(limit + 1)
    ).all()
    results = [
        SearchResult(
            label=f"{row.number or _('Draft')} · {row.legal_name}",
            url=url_for("inventory.shipment_detail", shipment_id=row.id),
            detail=short_date(row.shipment_date)
            + (f" · {row.source_number}" if row.source_number else ""),
        )
        for row in rows[:limit]
    ]
    return [
        SearchGroup(
            name="inventory.shipments",
            title=_l("Transport documents"),
            results=results,
            more_url=url_for("inventory.shipments", q=query),
            has_more=len(rows) > limit,
            order=60,
        )
    ]
