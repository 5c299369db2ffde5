"""Route cases of the shared list routes (export, columns, saved views) and of imports.

Each case builds rows with telltale values (:meth:`SweepFirm.unique`): an export,
a saved view or an import job of firm B showing in A's answer fails the sweep.
"""

from __future__ import annotations

from typing import Any

from distretto.testing.routes import RouteRequest, SweepFirm, route_case

LIST = "catalog.customers"


def _customer(firm: SweepFirm) -> Any:
    from distretto.modules.catalog import services as catalog

    return catalog.create_party(
        {"legal_name": firm.unique("Cliente"), "is_customer": True, "vat_number": "03777120167"}
    )


def _exported_own_customer(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from sqlalchemy import select

    from distretto.modules.catalog.models import Party
    from distretto.platform.db import db

    names = db.session.execute(select(Party.legal_name)).scalars().all()
    if request.url["fmt"] == "csv":
        body = response.get_data(as_text=True)
        assert any(name in body for name in names)
    else:
        assert response.data[:2] == b"PK"  # an XLSX is a zip


@route_case(
    "lists.export",
    "GET",
    shared_values={"key", "fmt"},
    modules=("catalog",),
    verify=_exported_own_customer,
)
def _export(firm: SweepFirm) -> RouteRequest:
    _customer(firm)
    return RouteRequest(url={"key": LIST, "fmt": "csv"}, query={"q": ""})


def _views(firm: SweepFirm) -> list[Any]:
    from sqlalchemy import select

    from distretto.platform.db import db
    from distretto.platform.listviews import SavedView

    return db.session.execute(select(SavedView)).scalars().all()


def _columns_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert any(v.name == "" and v.columns == ["code", "city"] for v in _views(firm))


@route_case(
    "lists.save_columns",
    "POST",
    expect_ok={303},
    shared_values={"key"},
    modules=("catalog",),
    verify=_columns_saved,
)
def _save_columns(firm: SweepFirm) -> RouteRequest:
    _customer(firm)
    return RouteRequest(
        url={"key": LIST},
        data={"columns": ["code", "city"], "next": f"/{firm.slug}/catalog/customers"},
    )


def _view_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert request.data is not None
    assert any(v.name == request.data["name"] and v.shared for v in _views(firm))


@route_case(
    "lists.save_view",
    "POST",
    expect_ok={303},
    shared_values={"key"},
    modules=("catalog",),
    verify=_view_saved,
)
def _save_view(firm: SweepFirm) -> RouteRequest:
    _customer(firm)
    return RouteRequest(
        url={"key": LIST},
        data={
            "name": firm.unique("View"),
            "query": "q=x&sort=city",
            "columns": "code,name",
            "shared": "1",
        },
    )


def _view_deleted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    assert all(v.id != request.url["view_id"] for v in _views(firm))


@route_case(
    "lists.delete_view",
    "POST",
    expect_ok={303},
    shared_values={"key"},
    modules=("catalog",),
    verify=_view_deleted,
)
def _delete_view(firm: SweepFirm) -> RouteRequest:
    from distretto.platform import listviews

    view = listviews.lookup(LIST)
    assert view is not None
    saved = listviews.save_view(view, firm.unique("View"), "q=a", ["code"], shared=True)
    return RouteRequest(url={"key": LIST, "view_id": saved.id})


# --- imports -----------------------------------------------------------------------------------


def _job(firm: SweepFirm) -> Any:
    from distretto.platform import imports

    kind = imports.lookup("customers")
    assert kind is not None
    content = f"code;legal_name;vat_number\n;{firm.unique('Importata')};12345678901\n"
    return imports.start(kind, f"{firm.unique('file')}.csv", "text/csv", content.encode())


@route_case("imports.index", "GET", modules=("catalog",))
def _imports_page(firm: SweepFirm) -> None:
    _job(firm)


@route_case("imports.upload", "GET", shared_values={"kind"}, modules=("catalog", "inventory"))
def _upload_page(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"kind": "opening_stock"})


def _queued(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from sqlalchemy import select

    from distretto.platform.db import db
    from distretto.platform.imports import ImportJob

    jobs = db.session.execute(select(ImportJob)).scalars().all()
    assert [j.status for j in jobs] == ["queued"]


@route_case(
    "imports.upload",
    "POST",
    expect_ok={303},
    shared_values={"kind"},
    modules=("catalog",),
    verify=_queued,
)
def _upload(firm: SweepFirm) -> RouteRequest:
    _customer(firm)
    content = f"legal_name;vat_number\n{firm.unique('Importata')};03777120167\n"
    return RouteRequest(url={"kind": "customers"}, data={"content": content})


@route_case("imports.job", "GET", modules=("catalog",))
@route_case("imports.errors", "GET", modules=("catalog",))
def _job_page(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"job_id": _job(firm).id})
