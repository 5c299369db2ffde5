"""Operator console: the firms list with usage, quotas, the platform overview, templates.

Everything here reads the global usage tables (:mod:`distretto.platform.usage`)
and the ``tenants`` registry, never a firm's books. Pages stay fast with
thousands of firms: the firms list is paginated (a count and a page of firms,
then one query each for the page's figures), the other pages run a fixed
handful of aggregate queries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from distretto.platform import quotas, usage
from distretto.platform.db import db
from distretto.platform.listing import paginate
from distretto.tenants import district_templates
from distretto.tenants.models import Tenant
from distretto.tenants.operator import _tenant_or_404, bp, operator_required
from distretto.tenants.operator_forms import MAX_TEMPLATE_BYTES, QuotaForm, TemplateUploadForm

FIRM_SORTS = {
    "name": [Tenant.legal_name, Tenant.id],
    "address": Tenant.slug,
    "status": [Tenant.status, Tenant.legal_name],
    "created": [Tenant.created_at, Tenant.id],
}


def firms_listing(args: Mapping[str, Any]) -> dict[str, Any]:
    """The firms page: search, sort, pagination, and each firm's figures and quotas."""
    query = select(Tenant)
    q = str(args.get("q") or "").strip()
    if q:
        query = query.where(usage.search_condition(q))
    page = paginate(query, args, FIRM_SORTS, "name")
    ids = [t.id for t in page.items]
    stats = usage.stats_for(ids)
    return {
        "firms": page,
        "firm_stats": stats,
        "firm_documents": usage.documents_this_month(ids),
        "user_limit": quotas.max_users,
        "storage_limit": quotas.max_storage_mb,
        "megabytes": megabytes,
    }


def megabytes(size: int | None) -> str:
    return f"{(size or 0) / quotas.MB:.1f}"


def document_label(name: str) -> str:
    """A document type's name in the reader's language (its code if no module has it now)."""
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get(name)
    return str(doc_type.label) if doc_type is not None else name


@bp.get("/firms/<slug>/usage")
@operator_required
def firm_usage(slug: str) -> Any:
    tenant = _tenant_or_404(slug)
    figures = usage.firm_usage(tenant)
    return render_template(
        "operator/usage.html",
        tenant=tenant,
        usage=figures,
        megabytes=megabytes,
        document_label=document_label,
        user_limit=quotas.max_users(tenant),
        storage_limit=quotas.max_storage_mb(tenant),
        api_rate=quotas.api_requests_per_minute(tenant),
        adoptions=_adoptions_of(tenant.id),
    )


def _adoptions_of(tenant_id: int) -> list[Any]:
    return list(
        db.session.execute(
            select(district_templates.TemplateAdoption)
            .where(district_templates.TemplateAdoption.firm_id == tenant_id)
            .order_by(district_templates.TemplateAdoption.template_name)
        ).scalars()
    )


@bp.route("/firms/<slug>/quotas", methods=["GET", "POST"])
@operator_required
def firm_quotas(slug: str) -> Any:
    """Set a firm's quotas; an empty field falls back to the platform default."""
    tenant = _tenant_or_404(slug)
    form = QuotaForm(obj=tenant)
    if form.validate_on_submit():
        tenant.max_users = form.max_users.data
        tenant.max_storage_mb = form.max_storage_mb.data
        tenant.api_requests_per_minute = form.api_requests_per_minute.data
        db.session.flush()
        _record_quota_change(tenant)
        flash(_("Quotas of %(firm)s saved.", firm=tenant.legal_name), "success")
        _warn_if_over(tenant)
        return redirect(url_for("operator.firm_quotas", slug=tenant.slug))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "operator/quotas.html",
            tenant=tenant,
            form=form,
            defaults={
                "users": quotas._config_int("QUOTA_MAX_USERS"),
                "storage": quotas._config_int("QUOTA_MAX_STORAGE_MB"),
                "api": quotas.default_api_rate(),
            },
            stats=usage.stats_for([tenant.id]).get(tenant.id),
            megabytes=megabytes,
        ),
        status,
    )


def _record_quota_change(tenant: Tenant) -> None:
    """The firm's audit trail says who changed its quotas (the firm can read it)."""
    from distretto.platform import audit
    from distretto.platform.context import tenant_context

    with tenant_context(tenant, actor_id=current_user.id):
        audit.record(
            "tenant.quotas_changed",
            tenant,
            summary={
                "max_users": tenant.max_users,
                "max_storage_mb": tenant.max_storage_mb,
                "api_requests_per_minute": tenant.api_requests_per_minute,
            },
        )


def _warn_if_over(tenant: Tenant) -> None:
    """Say so when the firm already uses more than a quota just set."""
    from distretto.platform.context import tenant_context

    limit = quotas.max_users(tenant)
    if limit is not None:
        with tenant_context(tenant):
            in_use = quotas.users_in_use()
        if in_use >= limit:
            flash(
                _(
                    "%(firm)s already has %(count)d users (members and pending invitations) "
                    "for a quota of %(limit)d: nobody new can join until it has fewer.",
                    firm=tenant.legal_name,
                    count=in_use,
                    limit=limit,
                ),
                "warning",
            )
    limit_mb = quotas.max_storage_mb(tenant)
    if limit_mb is not None:
        with tenant_context(tenant):
            used = quotas.storage_used(tenant.id)
        if used > limit_mb * quotas.MB:
            flash(
                _(
                    "%(firm)s already uses %(used)s MB for a quota of %(limit)d MB: "
                    "it cannot store new files until it uses less.",
                    firm=tenant.legal_name,
                    used=megabytes(used),
                    limit=limit_mb,
                ),
                "warning",
            )


@bp.get("/overview")
@operator_required
def overview() -> Any:
    return render_template(
        "operator/overview.html",
        figures=usage.overview(),
        megabytes=megabytes,
        document_label=document_label,
    )


# --- district templates ----------------------------------------------------------------


def _templates_page(form: TemplateUploadForm, status: int = 200) -> Any:
    versions = db.session.execute(
        select(district_templates.DistrictTemplate).order_by(
            district_templates.DistrictTemplate.name,
            district_templates.DistrictTemplate.version.desc(),
        )
    ).scalars()
    by_name: dict[str, list[Any]] = {}
    for version in versions:
        by_name.setdefault(version.name, []).append(version)
    adopted = {(name, v): count for name, v, count in district_templates.usage()}
    return (
        render_template("operator/templates.html", templates=by_name, adopted=adopted, form=form),
        status,
    )


@bp.get("/templates")
@operator_required
def templates() -> Any:
    return _templates_page(TemplateUploadForm())


@bp.post("/templates")
@operator_required
def publish_template() -> Any:
    """Publish an uploaded template file as the next version of its name."""
    form = TemplateUploadForm()
    if not form.validate_on_submit():
        return _templates_page(form, 400)
    upload = form.file.data
    try:
        data = upload.read(MAX_TEMPLATE_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file
    if len(data) > MAX_TEMPLATE_BYTES:
        form.file.errors.append(
            _("The file is too large: at most %(kb)d KB.", kb=MAX_TEMPLATE_BYTES // 1024)
        )
        return _templates_page(form, 400)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        form.file.errors.append(_("The file is not valid JSON: %(problem)s", problem=str(exc)))
        return _templates_page(form, 400)
    try:
        template = district_templates.publish(document, published_by_id=current_user.id)
    except district_templates.TemplateError as exc:
        db.session.rollback()
        form.file.errors.append(_("The template was not published: %(problem)s", problem=str(exc)))
        return _templates_page(form, 400)
    flash(
        _(
            "%(name)s version %(version)d published.",
            name=template.name,
            version=template.version,
        ),
        "success",
    )
    return redirect(url_for("operator.templates"))


@bp.get("/templates/<name>/<int:version>")
@operator_required
def template_firms(name: str, version: int) -> Any:
    """Which firms adopted this version (paginated: a popular template has thousands)."""
    from flask import abort

    template = db.session.execute(
        select(district_templates.DistrictTemplate).where(
            district_templates.DistrictTemplate.name == name,
            district_templates.DistrictTemplate.version == version,
        )
    ).scalar_one_or_none()
    if template is None:
        abort(404)
    adoption = district_templates.TemplateAdoption
    query = (
        select(Tenant)
        .join(adoption, adoption.firm_id == Tenant.id)
        .where(adoption.template_name == name, adoption.template_version == version)
    )
    page = paginate(query, request.args, {"name": [Tenant.legal_name, Tenant.id]}, "name")
    latest = db.session.execute(
        select(func.max(district_templates.DistrictTemplate.version)).where(
            district_templates.DistrictTemplate.name == name
        )
    ).scalar_one()
    return render_template(
        "operator/template_firms.html", template=template, firms=page, latest=latest
    )
