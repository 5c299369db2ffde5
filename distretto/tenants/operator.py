"""The district operator's console: firms, not their books.

Operators see the firm registry (name, status, when created) and manage the
lifecycle; they never reach a firm's business pages without a support grant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from distretto.platform.db import db
from distretto.tenants import services
from distretto.tenants.forms import EmptyForm, SuspendForm, TenantForm
from distretto.tenants.models import Role, Tenant, TenantStatus

bp = Blueprint("operator", __name__, url_prefix="/operator")


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_operator:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _onboarding_choices(form: TenantForm) -> None:
    from distretto.platform.forms import select_choices
    from distretto.platform.modules import registry
    from distretto.tenants import district_templates

    form.modules.choices = select_choices((m.name, m.label) for m in registry.modules.values())
    if form.modules.data is None and not form.is_submitted():
        form.modules.data = list(registry.modules)
    form.template.choices = select_choices(
        [("", _("None"))]
        + [(t.name, f"{t.label} (v{t.version})") for t in district_templates.all_latest()]
    )


def _index_page(form: TenantForm, status: int = 200) -> Any:
    from distretto.tenants.operator_usage import firms_listing

    listing = firms_listing(request.args)  # paginated: thousands of firms stay fast
    if request.headers.get("HX-Request") and request.method == "GET":
        return render_template("operator/_firms.html", **listing)
    _onboarding_choices(form)
    from distretto.platform.modules import registry

    return (
        render_template(
            "operator/index.html",
            tenants=listing["firms"].items,
            **listing,
            form=form,
            modules=list(registry.modules.values()),
            broken_modules=dict(registry.errors),
        ),
        status,
    )


@bp.get("/")
@operator_required
def index() -> Any:
    return _index_page(TenantForm())


@bp.post("/firms")
@operator_required
def create_firm() -> Any:
    """Onboard a firm and invite its first owner; any refusal leaves nothing behind."""
    form = TenantForm()
    if not form.validate_on_submit():
        return _index_page(form, 400)
    from distretto.platform.modules import ModuleError
    from distretto.tenants import district_templates

    try:
        tenant = services.create_tenant(
            form.slug.data,
            form.legal_name.data,
            form.vat_number.data,
            default_locale=form.default_locale.data,
            modules=list(form.modules.data or []),
        )
        if form.template.data:
            try:
                district_templates.apply(tenant, form.template.data)
            except district_templates.TemplateError as exc:
                raise services.TenantError(str(exc), "template") from exc
        services.invite(tenant, form.admin_email.data, Role.OWNER, invited_by=current_user)
    except ModuleError as exc:
        db.session.rollback()
        form.modules.errors = [str(exc)]
        return _index_page(form, 400)
    except services.TenantError as exc:
        db.session.rollback()
        field = getattr(form, exc.field or "", None)
        (field.errors if field is not None else form.form_errors).append(str(exc))
        return _index_page(form, 400)
    flash(_("%(firm)s is ready; its administrator was invited.", firm=tenant.legal_name), "success")
    return redirect(url_for("operator.index"))


@bp.route("/firms/<slug>/suspend", methods=["GET", "POST"])
@operator_required
def suspend(slug: str) -> Any:
    tenant = _tenant_or_404(slug)
    form = SuspendForm()
    if form.validate_on_submit():
        services.set_status(tenant, TenantStatus.SUSPENDED, form.reason.data)
        flash(_("%(firm)s is suspended.", firm=tenant.legal_name), "success")
        return redirect(url_for("operator.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("operator/suspend.html", tenant=tenant, form=form), status


@bp.post("/firms/<slug>/resume")
@operator_required
def resume(slug: str) -> Any:
    tenant = _tenant_or_404(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_status(tenant, TenantStatus.ACTIVE)
    flash(_("%(firm)s is active again.", firm=tenant.legal_name), "success")
    return redirect(url_for("operator.index"))


@bp.get("/support")
@operator_required
def support_grants() -> Any:
    """The firms whose owners granted the signed-in operator support access, live now."""
    from distretto.tenants.support import firms_granting

    granted = firms_granting(current_user._get_current_object())
    return render_template("operator/support.html", granted=granted)


def _tenant_or_404(slug: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        abort(404)
    return tenant


from distretto.tenants import operator_usage  # noqa: E402, F401  (its pages join this blueprint)
