"""Pages of a person (firm chooser, invitations) and of a firm (home, members)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from distretto.platform.auth.addresses import same_address
from distretto.platform.auth.forms import AcceptInvitationForm
from distretto.platform.auth.services import memberships_of
from distretto.platform.auth.tokens import InvalidLink
from distretto.platform.db import db, utcnow
from distretto.platform.modules import enabled_modules
from distretto.platform.permissions import permission_required
from distretto.platform.web import tenant_blueprint
from distretto.tenants import services
from distretto.tenants.forms import EmptyForm, InviteForm
from distretto.tenants.models import Invitation, Membership, Role, role_label

home_bp = Blueprint("home", __name__)
bp = tenant_blueprint("tenant", __name__)


@home_bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    firms = memberships_of(current_user)
    return render_template("tenants/choose_firm.html", firms=firms)


@home_bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    """Join a firm through an invitation link.

    Someone new chooses a name and password and is signed in; someone with an
    account accepts by signing in as the invited address. Signed in as anybody
    else, nothing happens until they sign out.
    """
    try:
        pending = services.open_invitation(token)
    except InvalidLink as exc:
        return _invalid_link(exc)
    existing = pending.existing_user
    signed_in = current_user.is_authenticated
    if signed_in and not same_address(current_user.email, pending.invitation.email):
        status = 403 if request.method == "POST" else 200
        page = render_template(
            "tenants/accept_invitation.html", form=EmptyForm(), pending=pending, wrong_account=True
        )
        return page, status
    if existing is not None and not signed_in:
        if request.method == "POST":
            flash(
                _("Sign in as %(email)s, then open the link again.", email=existing.email), "error"
            )
            return redirect(url_for("auth.login", next=request.path))
        return render_template(
            "tenants/accept_invitation.html",
            form=EmptyForm(),
            pending=pending,
            sign_in_url=url_for("auth.login", next=request.path),
        )
    form = AcceptInvitationForm() if existing is None else EmptyForm()
    if request.method == "GET":
        return render_template("tenants/accept_invitation.html", form=form, pending=pending)
    if not form.validate_on_submit():
        return render_template("tenants/accept_invitation.html", form=form, pending=pending), 400
    try:
        tenant, user = services.accept_invitation(
            token,
            name=form.name.data if existing is None else "",
            password=form.password.data if existing is None else None,
            user=current_user._get_current_object() if signed_in else None,
        )
    except InvalidLink as exc:
        return _invalid_link(exc)
    except services.TenantError as exc:
        field = getattr(form, exc.field or "", None)
        (field.errors if field is not None else form.form_errors).append(str(exc))
        return render_template("tenants/accept_invitation.html", form=form, pending=pending), 400
    if not signed_in:
        login_user(user)
    flash(_("Welcome to %(firm)s.", firm=tenant.legal_name), "success")
    return redirect(url_for("tenant.home", tenant=tenant.slug))


def _invalid_link(exc: InvalidLink) -> Any:
    reason = exc.args[0] if exc.args else "invalid"
    return render_template("auth/invalid_link.html", reason=reason), 400


@bp.get("/")
@login_required
def home() -> Any:
    """The firm's dashboard: today's work and charts, from the modules the firm enabled."""
    from distretto.platform.dashboard import widgets

    return render_template(
        "tenants/home.html", modules=enabled_modules(), widgets=widgets(), today=date.today()
    )


@bp.get("/search")
@login_required
def search() -> Any:
    """Search the firm's records; htmx asks for the results alone (the navbar's live list)."""
    from distretto.platform import search as global_search

    query = global_search.normalise(request.args.get("q"))
    live = bool(request.headers.get("HX-Request"))
    limit = global_search.DEFAULT_LIMIT if live else 20
    groups = global_search.search(query, limit) if query else []
    template = "tenants/_search_results.html" if live else "tenants/search.html"
    return render_template(template, query=query, groups=groups)


def _members_page(form: InviteForm, status: int = 200) -> Any:
    members = (
        db.session.execute(select(Membership).order_by(Membership.created_at, Membership.id))
        .scalars()
        .all()
    )
    invitations = (
        db.session.execute(
            select(Invitation)
            .where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc())
        )
        .scalars()
        .all()
    )
    page = render_template(
        "tenants/members.html",
        members=members,
        invitations=invitations,
        form=form,
        role_choices=[(role, role_label(role)) for role in Role.ALL],
    )
    return page, status


@bp.get("/settings/members")
@permission_required("firm.members")
def members() -> Any:
    return _members_page(InviteForm())


@bp.post("/settings/members/invite")
@permission_required("firm.members")
def invite() -> Any:
    form = InviteForm()
    if not form.validate_on_submit():
        return _members_page(form, 400)
    try:
        services.invite(
            g.tenant,
            form.email.data,
            form.role.data,
            invited_by=current_user,
            inviter_role=g.membership.role,
        )
    except services.TenantError as exc:
        field = getattr(form, exc.field or "", None)
        (field.errors if field is not None else form.form_errors).append(str(exc))
        return _members_page(form, 400)
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("tenant.members"))


@bp.post("/settings/members/<int:membership_id>/role")
@permission_required("firm.members")
def change_role(membership_id: int) -> Any:
    from distretto.tenants.firm_forms import RoleForm

    form = RoleForm()
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        abort(404)
    if not form.validate_on_submit():
        errors = InviteForm(formdata=None)
        errors.form_errors.extend(str(e) for e in form.role.errors or [_("Choose a role.")])
        return _members_page(errors, 400)
    try:
        services.change_role(membership, form.role.data, changer_role=g.membership.role)
    except services.TenantError as exc:
        errors = InviteForm(formdata=None)
        errors.form_errors.append(str(exc))
        return _members_page(errors, 409)
    flash(
        _(
            "%(email)s is now %(role)s.",
            email=membership.user.email,
            role=membership.role_label,
        ),
        "success",
    )
    return redirect(url_for("tenant.members"))


@bp.post("/settings/members/<int:membership_id>/remove")
@permission_required("firm.members")
def remove_member(membership_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        abort(404)
    try:
        services.remove_member(membership, remover_role=g.membership.role)
    except services.TenantError as exc:
        form = InviteForm(formdata=None)
        form.form_errors.append(str(exc))
        return _members_page(form, 409)
    flash(_("Member removed."), "success")
    return redirect(url_for("tenant.members"))
