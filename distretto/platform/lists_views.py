"""The routes every declared list shares: export, column choice, saved views.

A list page itself is the module's own view (it calls
:func:`distretto.platform.listviews.render`); these routes find the list by its
key, and answer 404 unless the firm enabled the list's module, and 403 unless
the member may see the list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from distretto.platform import listviews
from distretto.platform.db import db
from distretto.platform.listviews import ListView, SavedView
from distretto.platform.permissions import can
from distretto.platform.web import tenant_blueprint

bp = tenant_blueprint("lists", __name__, "/lists")


def _list_or_404(key: str) -> ListView:
    from distretto.platform.modules import enabled_modules

    view = listviews.lookup(key)
    if view is None or view.module not in {m.name for m in enabled_modules()}:
        abort(404)
    if not can(view.permission):
        abort(403)
    return view


def _back(view: ListView, drop: tuple[str, ...] = ()) -> Any:
    """Back to the list page the form came from (same firm only), without ``drop`` arguments."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    prefix = f"/{g.tenant.slug}/"
    if parts.scheme or parts.netloc or not parts.path.startswith(prefix):
        return redirect(url_for(view.endpoint), 303)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in drop])
    return redirect(parts.path + (f"?{query}" if query else ""), 303)


@bp.get("/<key>/export.<fmt>")
def export(key: str, fmt: str) -> Any:
    view = _list_or_404(key)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    state = listviews.resolve(view)
    if state.errors:
        abort(400, "; ".join(state.errors))
    return listviews.export_csv(state) if fmt == "csv" else listviews.export_xlsx(state)


@bp.post("/<key>/columns")
def save_columns(key: str) -> Any:
    view = _list_or_404(key)
    if request.form.get("reset"):
        listviews.save_columns(view, [])
    else:
        listviews.save_columns(view, request.form.getlist("columns"))
    flash(_("Columns saved."), "success")
    return _back(view, drop=("view", "cols", "page"))


@bp.post("/<key>/views")
def save_view(key: str) -> Any:
    view = _list_or_404(key)
    columns = [c for c in request.form.get("columns", "").split(",") if c]
    try:
        saved = listviews.save_view(
            view,
            request.form.get("name", ""),
            request.form.get("query", ""),
            columns,
            shared=request.form.get("shared") == "1",
        )
    except listviews.ViewError as exc:
        flash(str(exc), "error")
        return _back(view)
    flash(_("View %(name)s saved.", name=saved.name), "success")
    args = dict(parse_qsl(saved.query))
    args["view"] = str(saved.id)
    return redirect(url_for(view.endpoint, **args), 303)


@bp.post("/<key>/views/<int:view_id>/delete")
def delete_view(key: str, view_id: int) -> Any:
    view = _list_or_404(key)
    saved: SavedView | None = listviews.visible_view(view, view_id)
    if saved is None:
        abort(404)
    listviews.delete_view(saved, may_manage_shared=can("firm.settings"))
    db.session.flush()
    flash(_("View deleted."), "success")
    return _back(view, drop=("view",))
