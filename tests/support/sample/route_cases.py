"""How the cross-firm route sweep exercises the sample module's pages.

Found by convention (``route_cases`` in the module's package), the way a
module author's own declarations are: see ``distretto.testing.routes``.
"""

from __future__ import annotations

from typing import Any

from distretto.testing.routes import RouteRequest, SweepFirm, route_case


def _request(firm: SweepFirm) -> Any:
    from distretto.platform.db import db
    from tests.support.sample.services import create_request

    document = create_request(firm.unique("request"), "120.00")
    db.session.flush()
    return document


@route_case("sample.index", "GET")
def _list(firm: SweepFirm) -> None:
    _request(firm)


@route_case("sample.detail", "GET")
def _detail(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": _request(firm).id}


def _submitted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from tests.support.sample.models import SampleRequest

    assert db.session.get(SampleRequest, request.url["document_id"]).state == "submitted"


@route_case(
    "sample.transition",
    "POST",
    expect_ok={302},  # a refused step answers 303
    shared_values={"name"},
    verify=_submitted,
)
def _transition(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"document_id": _request(firm).id, "name": "submit"})
