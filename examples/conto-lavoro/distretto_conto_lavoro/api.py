"""A JSON endpoint: ``GET /api/v1/<tenant>/conto_lavoro/outstanding``.

Distretto's REST conventions (tokens, pagination, OpenAPI) are not settled
yet; this endpoint follows the namespace rule (blueprint ``conto_lavoro_api``
under ``/api/v1/<tenant>/conto_lavoro``) and answers for a signed-in member.
Quantities are strings, so that no decimal is lost to a JSON float.
"""

from __future__ import annotations

from typing import Any

from distretto.sdk import permission_required
from flask import Blueprint, jsonify

from distretto_conto_lavoro import services

api = Blueprint("conto_lavoro_api", __name__, url_prefix="/api/v1/<tenant>/conto_lavoro")


@api.get("/outstanding")
@permission_required("conto_lavoro.view")
def outstanding() -> Any:
    return jsonify(
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
                            "sent": str(row.sent),
                            "returned": str(row.returned),
                            "scrap": str(row.scrap),
                            "outstanding": str(row.outstanding),
                        }
                        for row in rows
                    ],
                }
                for subcontractor, rows in services.outstanding_by_subcontractor()
            ]
        }
    )
