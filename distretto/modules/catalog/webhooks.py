"""How the catalog's parties appear in other modules' webhook payloads (stable JSON)."""

from __future__ import annotations

from typing import Any

from distretto.modules.catalog.models import Party
from distretto.sdk import db


def counterpart(party_id: int | None) -> dict[str, Any] | None:
    """The customer or supplier of a document, as every payload names it (None if absent)."""
    party = db.session.get(Party, party_id) if party_id else None
    if party is None:
        return None
    return {
        "id": party.id,
        "code": party.code,
        "name": party.legal_name,
        "vat_number": party.vat_number,
        "tax_code": party.tax_code,
        "country": party.country,
    }
