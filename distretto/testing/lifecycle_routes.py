"""Export and deletion pages of a firm (distretto.tenants.lifecycle_views) for the sweep.

Imported by :mod:`distretto.testing.kernel_routes`; see :mod:`.routes`.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from distretto.testing.routes import (
    RouteCaseFailed,
    RouteRequest,
    SweepFirm,
    route_case,
    tenant_free,
)

tenant_free("operator_lifecycle.schedule", "operator console: a firm's lifecycle, not its data")
tenant_free("operator_lifecycle.cancel", "operator console: a firm's lifecycle, not its data")


def _tenant_row(firm: SweepFirm) -> Any:
    from distretto.platform.db import db
    from distretto.tenants.models import Tenant

    db.session.rollback()
    return db.session.get(Tenant, firm.tenant_id)


def _zip_is_own(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    tenant = json.loads(archive.read("tenant.json"))
    if tenant["legal_name"] != firm.legal_name:
        raise RouteCaseFailed(f"the export holds {tenant['legal_name']}, not {firm.legal_name}")


def _scheduled(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    if _tenant_row(firm).delete_after is None:
        raise RouteCaseFailed("the deletion was not scheduled")


def _cancelled(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    if _tenant_row(firm).delete_after is not None:
        raise RouteCaseFailed("the deletion is still scheduled")


@route_case("lifecycle.export", "GET")
def _export_page(firm: SweepFirm) -> None:
    return None


@route_case("lifecycle.export_download", "GET", verify=_zip_is_own)
def _export_download(firm: SweepFirm) -> None:
    from distretto.platform.files import save_file

    save_file("logo", firm.unique("logo") + ".png", "image/png", b"\x89PNG-sweep")


@route_case("lifecycle.request_deletion", "POST", expect_ok={303}, verify=_scheduled)
def _request_deletion(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(data={"confirmation": firm.slug})


@route_case("lifecycle.cancel_deletion", "POST", expect_ok={303}, verify=_cancelled)
def _cancel_deletion(firm: SweepFirm) -> None:
    from distretto.tenants.lifecycle import request_deletion

    request_deletion(firm.tenant, firm.slug)
