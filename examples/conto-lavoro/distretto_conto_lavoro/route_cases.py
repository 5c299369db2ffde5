"""How the platform's cross-firm route sweep exercises conto lavoro's routes.

The sweep (``distretto.testing.routes``) builds the same data in two firms, signs
in as an owner of firm A and requests every route with firm B's ids: each must
answer 404 (or 400 for a form refusing a foreign id) and leave B's rows alone,
while A's own request succeeds. Every route of the module needs a case here;
``tests/test_route_isolation.py`` runs them and checks none is missing.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from distretto.sdk import workflow
from distretto.testing.routes import RouteRequest, SweepFirm, route_case
from stdnum import luhn

from distretto_conto_lavoro import services

_numbers = itertools.count(1)


def _vat() -> str:
    base = f"{(next(_numbers) * 7727) % 10_000_000:07d}003"
    return base + luhn.calc_check_digit(base)


def _subcontractor(firm: SweepFirm) -> Any:
    return services.create_subcontractor(firm.unique("Terzista"), _vat(), firm.unique("Sarezzo"))


def _item(firm: SweepFirm) -> Any:
    return services.create_item(f"IT{next(_numbers)}", firm.unique("Barra"), "kg")


def _dispatch(firm: SweepFirm, *, send: bool = True) -> Any:
    dispatch = services.create_dispatch(
        _subcontractor(firm).id, firm.unique("Zincatura"), [(_item(firm).id, "10")]
    )
    if send:
        workflow.apply(dispatch, services.DOCUMENT_TYPE, "send", role=workflow.SYSTEM)
    return dispatch


@route_case("conto_lavoro.outstanding", "GET")
@route_case("conto_lavoro.dispatches", "GET")
@route_case("conto_lavoro_api.outstanding", "GET")
def with_material_out(firm: SweepFirm) -> None:
    _dispatch(firm)


@route_case("conto_lavoro.subcontractors", "GET")
def with_a_subcontractor(firm: SweepFirm) -> None:
    _subcontractor(firm)


@route_case("conto_lavoro.subcontractors", "POST", expect_ok={302})
def new_subcontractor(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(data={"name": firm.unique("Nuovo terzista"), "vat_number": _vat()})


@route_case("conto_lavoro.items", "GET")
def with_an_item(firm: SweepFirm) -> None:
    _item(firm)


@route_case("conto_lavoro.items", "POST", expect_ok={302})
def new_item(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        data={"code": f"N{next(_numbers)}", "description": firm.unique("Flangia"), "unit": "pz"}
    )


@route_case("conto_lavoro.new_dispatch", "GET")
def dispatch_form(firm: SweepFirm) -> None:
    _subcontractor(firm)
    _item(firm)


@route_case(
    "conto_lavoro.new_dispatch",
    "POST",
    expect_ok={302},
    id_fields={"subcontractor_id", "lines-0-item_id"},
    expect_denied={400},
)
def new_dispatch(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        data={
            "subcontractor_id": _subcontractor(firm).id,
            "processing": firm.unique("Tornitura"),
            "lines-0-item_id": _item(firm).id,
            "lines-0-quantity": "3",
        }
    )


@route_case("conto_lavoro.dispatch_detail", "GET")
def dispatch_page(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": _dispatch(firm).id}


@route_case("conto_lavoro.dispatch_transition", "POST", expect_ok={302}, shared_values={"name"})
def send_dispatch(firm: SweepFirm) -> dict[str, Any]:
    return {"document_id": _dispatch(firm, send=False).id, "name": "send"}


@route_case("conto_lavoro.returns", "GET")
def with_a_return(firm: SweepFirm) -> None:
    dispatch = _dispatch(firm)
    services.record_return(
        dispatch.subcontractor_id, firm.unique("DDT"), [(dispatch.lines[0].id, "1", "")]
    )


@route_case("conto_lavoro.new_return", "GET", id_fields={"subcontractor_id"})
def return_form(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(query={"subcontractor_id": _dispatch(firm).subcontractor_id})


@route_case(
    "conto_lavoro.new_return",
    "POST",
    expect_ok={302},
    id_fields={"subcontractor_id", "lines-0-dispatch_line_id"},
)
def new_return(firm: SweepFirm) -> RouteRequest:
    dispatch = _dispatch(firm)
    return RouteRequest(
        query={"subcontractor_id": dispatch.subcontractor_id},
        data={
            "reference": firm.unique("DDT"),
            "received_on": date.today().isoformat(),
            "lines-0-dispatch_line_id": dispatch.lines[0].id,
            "lines-0-quantity": "4",
            "lines-0-scrap": "1",
        },
    )


@route_case("conto_lavoro.return_detail", "GET")
def return_page(firm: SweepFirm) -> dict[str, Any]:
    dispatch = _dispatch(firm)
    goods_return = services.record_return(
        dispatch.subcontractor_id, firm.unique("DDT"), [(dispatch.lines[0].id, "2", "")]
    )
    return {"return_id": goods_return.id}


# --- the API (conto_lavoro_api.*): JSON bodies name the firm's own rows ----------------------


@route_case("conto_lavoro_api.list_dispatches", "GET")
def with_dispatches(firm: SweepFirm) -> None:
    _dispatch(firm)


@route_case("conto_lavoro_api.create_dispatch", "POST", expect_ok={201})
def api_new_dispatch(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        json={
            "subcontractor_id": _subcontractor(firm).id,
            "processing": firm.unique("Tornitura"),
            "lines": [{"item_id": _item(firm).id, "quantity": "3,5"}],
        }
    )


@route_case("conto_lavoro_api.get_dispatch", "GET")
def api_dispatch(firm: SweepFirm) -> dict[str, Any]:
    return {"dispatch_id": _dispatch(firm).id}


@route_case("conto_lavoro_api.dispatch_transition", "POST", shared_values={"name"})
def api_send_dispatch(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        url={"dispatch_id": _dispatch(firm, send=False).id, "name": "send"}, json={}
    )


@route_case("conto_lavoro_api.create_return", "POST", expect_ok={201})
def api_new_return(firm: SweepFirm) -> RouteRequest:
    dispatch = _dispatch(firm)
    return RouteRequest(
        json={
            "subcontractor_id": dispatch.subcontractor_id,
            "reference": firm.unique("DDT"),
            "lines": [{"dispatch_line_id": dispatch.lines[0].id, "quantity": "4", "scrap": "1"}],
        }
    )


@route_case("conto_lavoro_api.get_return", "GET")
def api_return(firm: SweepFirm) -> dict[str, Any]:
    dispatch = _dispatch(firm)
    goods_return = services.record_return(
        dispatch.subcontractor_id, firm.unique("DDT"), [(dispatch.lines[0].id, "2", "")]
    )
    return {"return_id": goods_return.id}
