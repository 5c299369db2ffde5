"""The firm's self-service settings: firm data and logo, audit trail, support access.

Pages under ``/<tenant>/settings/``: firm data needs ``firm.settings`` (owners
and administrators), the audit trail ``firm.audit`` (the same), support access
``firm.support_access`` (owners only). The logo itself is served at
``/<tenant>/logo`` to anyone who may see the firm's pages. Views parse, call
one service, render; a refused change answers 4xx and the request boundary
rolls back, so nothing of it is kept.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from distretto.platform import audit
from distretto.platform.db import db
from distretto.platform.listing import like_pattern, paginate
from distretto.platform.permissions import permission_required
from distretto.platform.web import tenant_blueprint
from distretto.tenants import firm, support
from distretto.tenants.firm_forms import AuditFilterForm, FirmForm, LogoForm, SupportGrantForm
from distretto.tenants.forms import EmptyForm
from distretto.tenants.services import TenantError

bp = tenant_blueprint("firm", __name__)

_SECTIONS = {
    "settings": "firm",
    "upload_logo": "firm",
    "remove_logo": "firm",
    "audit_trail": "audit",
    "audit_entry": "audit",
    "audit_verify": "audit",
    "support_access": "support",
    "grant_support": "support",
    "revoke_support": "support",
}


@bp.context_processor
def _settings_section() -> dict[str, Any]:
    view = (request.endpoint or "").rpartition(".")[2]
    return {"settings_section": _SECTIONS.get(view, "")}


def _put_error(form: Any, exc: Exception, field_name: str | None) -> None:
    field = getattr(form, field_name or "", None)
    (field.errors if field is not None else form.form_errors).append(str(exc))


# --- firm data and logo ----------------------------------------------------------------


def _firm_page(form: FirmForm, logo_form: LogoForm, status: int = 200) -> Any:
    page = render_template(
        "settings/firm.html",
        form=form,
        logo_form=logo_form,
        has_logo=firm.has_logo(g.tenant),
        max_logo_kb=firm.max_logo_bytes() // 1024,
    )
    return page, status


@bp.route("/settings/firm", methods=["GET", "POST"])
@permission_required("firm.settings")
def settings() -> Any:
    if request.method == "GET":
        return _firm_page(FirmForm(data=firm.firm_values(g.tenant)), LogoForm(formdata=None))
    form = FirmForm()
    if not form.validate_on_submit():
        return _firm_page(form, LogoForm(formdata=None), 400)
    values = {k: v for k, v in form.data.items() if k != "csrf_token"}
    try:
        firm.update_firm(g.tenant, values)
    except TenantError as exc:
        g.rollback_only = True
        _put_error(form, exc, exc.field)
        return _firm_page(form, LogoForm(formdata=None), 400)
    flash(_("Firm data saved."), "success")
    return redirect(url_for("firm.settings"), 303)


@bp.post("/settings/firm/logo")
@permission_required("firm.settings")
def upload_logo() -> Any:
    form = LogoForm()
    firm_form = FirmForm(data=firm.firm_values(g.tenant))
    if not form.validate_on_submit():
        return _firm_page(firm_form, form, 400)
    upload = form.logo.data
    if upload is None or not getattr(upload, "filename", ""):
        form.logo.errors.append(_("Choose a PNG or JPEG image."))
        return _firm_page(firm_form, form, 400)
    # read one byte more than allowed: enough to refuse, never the whole of a huge file
    data = upload.stream.read(firm.max_logo_bytes() + 1)
    try:
        firm.save_logo(g.tenant, upload.filename, data)
    except TenantError as exc:
        g.rollback_only = True
        _put_error(form, exc, "logo")
        return _firm_page(firm_form, form, 400)
    flash(_("Logo saved."), "success")
    return redirect(url_for("firm.settings"), 303)


@bp.post("/settings/firm/logo/remove")
@permission_required("firm.settings")
def remove_logo() -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    firm.remove_logo(g.tenant)
    flash(_("Logo removed."), "success")
    return redirect(url_for("firm.settings"), 303)


@bp.get("/logo")
@permission_required("firm.view")
def logo() -> Any:
    """The firm's logo, for its pages' header (cached by the browser per version)."""
    current = firm.current_logo()
    if current is None:
        abort(404)
    response = make_response(current.data)
    response.headers["Content-Type"] = current.content_type
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(current.sha256)
    return response.make_conditional(request)


# --- audit trail ---------------------------------------------------------------------


def _audit_query(form: AuditFilterForm) -> Any:
    query = select(audit.AuditEntry)
    if form.date_from.data and not form.date_from.errors:
        query = query.where(
            audit.AuditEntry.created_at >= datetime.combine(form.date_from.data, time.min)
        )
    if form.date_to.data and not form.date_to.errors:
        end = datetime.combine(form.date_to.data, time.min) + timedelta(days=1)
        query = query.where(audit.AuditEntry.created_at < end)
    if form.actor.data:
        query = query.where(
            audit.AuditEntry.actor_label.ilike(like_pattern(form.actor.data), escape="\\")
        )
    if form.action.data:
        query = query.where(
            audit.AuditEntry.action.ilike(like_pattern(form.action.data), escape="\\")
        )
    if form.object_type.data:
        query = query.where(
            audit.AuditEntry.object_type.ilike(like_pattern(form.object_type.data), escape="\\")
        )
    return query


def _audit_page(verification: audit.VerifyResult | None = None) -> Any:
    form = AuditFilterForm(request.args)
    valid = form.validate()
    if (
        valid
        and form.date_from.data
        and form.date_to.data
        and form.date_from.data > form.date_to.data
    ):
        form.date_to.errors = [_("The end date comes before the start date.")]
        valid = False
    page = paginate(
        _audit_query(form),
        request.args,
        {
            "seq": audit.AuditEntry.seq,
            "created_at": [audit.AuditEntry.created_at, audit.AuditEntry.seq],
        },
        "-seq",
    )
    actions = (
        db.session.execute(
            select(audit.AuditEntry.action).distinct().order_by(audit.AuditEntry.action)
        )
        .scalars()
        .all()
    )
    html = render_template(
        "settings/audit.html",
        form=form,
        page=page,
        actions=actions,
        verification=verification,
    )
    return html, (200 if valid else 400)


@bp.get("/settings/audit")
@permission_required("firm.audit")
def audit_trail() -> Any:
    return _audit_page()


@bp.get("/settings/audit/verify")
@permission_required("firm.audit")
def audit_verify() -> Any:
    """Recompute the whole hash chain and show the result above the trail."""
    return _audit_page(audit.verify())


@bp.get("/settings/audit/<int:entry_id>")
@permission_required("firm.audit")
def audit_entry(entry_id: int) -> Any:
    entry = db.session.get(audit.AuditEntry, entry_id)
    if entry is None:
        abort(404)
    changes = json.dumps(entry.summary or {}, indent=2, sort_keys=True, ensure_ascii=False)
    return render_template("settings/audit_entry.html", entry=entry, changes=changes)


# --- support access ------------------------------------------------------------------


def _support_page(form: SupportGrantForm, status: int = 200) -> Any:
    page = render_template(
        "settings/support.html",
        form=form,
        grants=support.grants(),
        min_hours=support.MIN_HOURS,
        max_hours=support.MAX_HOURS,
    )
    return page, status


@bp.get("/settings/support")
@permission_required("firm.support_access")
def support_access() -> Any:
    return _support_page(SupportGrantForm(formdata=None))


@bp.post("/settings/support")
@permission_required("firm.support_access")
def grant_support() -> Any:
    form = SupportGrantForm()
    if not form.validate_on_submit():
        return _support_page(form, 400)
    try:
        grant = support.grant_access(
            form.operator_email.data,
            form.hours.data,
            form.reason.data,
            granted_by=current_user._get_current_object(),
        )
    except support.SupportError as exc:
        g.rollback_only = True
        _put_error(form, exc, exc.field)
        return _support_page(form, 400)
    flash(
        _(
            "%(email)s may read this firm's pages until %(until)s.",
            email=grant.operator.email,
            until=_when(grant.expires_at),
        ),
        "success",
    )
    return redirect(url_for("firm.support_access"), 303)


@bp.post("/settings/support/<int:grant_id>/revoke")
@permission_required("firm.support_access")
def revoke_support(grant_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    grant = db.session.get(support.SupportGrant, grant_id)
    if grant is None:
        abort(404)
    support.revoke(grant, revoked_by=current_user._get_current_object())
    flash(_("Support access revoked."), "success")
    return redirect(url_for("firm.support_access"), 303)


def _when(value: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "short")
