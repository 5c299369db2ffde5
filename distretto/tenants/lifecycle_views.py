"""Pages of a firm leaving: the owner's export and deletion page, the operator's scheduling.

``/<tenant>/settings/export`` is the firm owner's: download the whole firm as a
zip (see :mod:`distretto.tenants.portability`), ask for the deletion after the
grace period (typing the firm's address name), or cancel it. Operators
schedule or cancel a deletion from the console, without reading the firm's data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from distretto.platform.context import current_actor_id
from distretto.platform.permissions import permission_required, register_permissions
from distretto.platform.web import tenant_blueprint
from distretto.tenants import lifecycle
from distretto.tenants.forms import EmptyForm
from distretto.tenants.models import Role, Tenant
from distretto.tenants.operator import _tenant_or_404, operator_required
from distretto.tenants.services import TenantError

PERMISSION = "firm.lifecycle"
register_permissions({PERMISSION: (Role.OWNER,)})

bp = tenant_blueprint("lifecycle", __name__, "/settings")
operator_bp = Blueprint("operator_lifecycle", __name__, url_prefix="/operator")


class DeletionForm(FlaskForm):
    confirmation = StringField(
        _l("Type the firm's address name to confirm"),
        validators=[DataRequired(), Length(max=40)],
    )


def _page(form: DeletionForm, status: int = 200) -> Any:
    return (
        render_template(
            "settings/lifecycle.html",
            settings_section="lifecycle",
            form=form,
            cancel_form=EmptyForm(),
            grace_days=lifecycle.grace_days(),
        ),
        status,
    )


@bp.get("/export")
@permission_required(PERMISSION)
def export() -> Any:
    return _page(DeletionForm())


@bp.get("/export/download")
@permission_required(PERMISSION)
def export_download() -> Any:
    """The whole firm as a zip; the export is written to the firm's audit trail."""
    from distretto.tenants.portability import export_firm

    tenant: Tenant = g.tenant
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed by stream
    try:
        result = export_firm(tenant, spool, actor_id=current_actor_id())
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def stream() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(1 << 16):
                yield chunk

    day = result.manifest["exported_at"][:10]
    response = Response(stream(), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{tenant.slug}-{day}.zip"'
    response.headers["Content-Length"] = str(size)
    response.headers["X-Distretto-Checksum"] = result.checksum
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/deletion")
@permission_required(PERMISSION)
def request_deletion() -> Any:
    form = DeletionForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        tenant = lifecycle.request_deletion(g.tenant, form.confirmation.data)
    except TenantError as exc:
        form.confirmation.errors = [str(exc)]
        return _page(form, 400)
    flash(
        _(
            "%(firm)s will be deleted on %(date)s. Download the final export before then.",
            firm=tenant.legal_name,
            date=format_date(tenant.delete_after, "long"),
        ),
        "success",
    )
    return redirect(url_for("lifecycle.export"), 303)


@bp.post("/deletion/cancel")
@permission_required(PERMISSION)
def cancel_deletion() -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        lifecycle.cancel_deletion(g.tenant)
    except TenantError as exc:
        flash(str(exc), "error")
        return redirect(url_for("lifecycle.export"), 303)
    flash(_("The deletion was cancelled: the firm stays."), "success")
    return redirect(url_for("lifecycle.export"), 303)


# --- operators -----------------------------------------------------------------


@operator_bp.app_context_processor
def _lifecycle_globals() -> dict[str, Any]:
    return {"pending_deletions": lifecycle.pending_deletions}


@operator_bp.route("/firms/<slug>/deletion", methods=["GET", "POST"])
@operator_required
def schedule(slug: str) -> Any:
    tenant = _tenant_or_404(slug)
    form = DeletionForm()
    if form.validate_on_submit():
        try:
            lifecycle.request_deletion(tenant, form.confirmation.data, by_operator=True)
        except TenantError as exc:
            form.confirmation.errors = [str(exc)]
        else:
            flash(
                _(
                    "%(firm)s will be deleted on %(date)s.",
                    firm=tenant.legal_name,
                    date=format_date(tenant.delete_after, "long"),
                ),
                "success",
            )
            return redirect(url_for("operator.index"), 303)
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "operator/deletion.html",
            tenant=tenant,
            form=form,
            grace_days=lifecycle.grace_days(),
        ),
        status,
    )


@operator_bp.post("/firms/<slug>/deletion/cancel")
@operator_required
def cancel(slug: str) -> Any:
    tenant = _tenant_or_404(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        lifecycle.cancel_deletion(tenant, by_operator=True)
    except TenantError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The deletion of %(firm)s was cancelled.", firm=tenant.legal_name), "success")
    return redirect(url_for("operator.index"), 303)
