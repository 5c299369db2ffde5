"""Pages of a person (firm chooser, invitations) and of a firm (home, members)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from distretto.platform.auth.forms import AcceptInvitationForm
from distretto.platform.auth.services import memberships_of
from distretto.platform.auth.tokens import InvalidLink
from distretto.platform.db import db
from distretto.platform.modules import enabled_modules
from distretto.platform.permissions import permission_required
from distretto.platform.web import tenant_blueprint
from distretto.tenants import services
from distretto.tenants.forms import EmptyForm, InviteForm
from distretto.tenants.models import Invitation, Membership

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
    try:
        pending = services.open_invitation(token)
    except InvalidLink:
        return render_template("auth/invalid_link.html"), 400
    existing = pending.existing_user
    signed_in_as_invitee = (
        current_user.is_authenticated
        and current_user.email.lower() == pending.invitation.email.lower()
    )
    form = AcceptInvitationForm() if existing is None else EmptyForm()
    if request.method == "POST":
        if existing is not None and not signed_in_as_invitee:
            flash(
                _("Sign in as %(email)s, then open the link again.", email=existing.email), "error"
            )
            return redirect(url_for("auth.login", next=request.path))
        if form.validate_on_submit():
            try:
                tenant, user = services.accept_invitation(
                    token,
                    name=getattr(form, "name", None) and form.name.data or "",
                    password=getattr(form, "password", None) and form.password.data or None,
                    user=current_user if signed_in_as_invitee else None,
                )
            except InvalidLink:
                return render_template("auth/invalid_link.html"), 400
            except services.TenantError as exc:
                flash(str(exc), "error")
                return render_template(
                    "tenants/accept_invitation.html", form=form, pending=pending
                ), 400
            if not current_user.is_authenticated:
                login_user(user)
            flash(_("Welcome to %(firm)s.", firm=tenant.legal_name), "success")
            return redirect(url_for("tenant.home", tenant=tenant.slug))
        return render_template("tenants/accept_invitation.html", form=form, pending=pending), 400
    return render_template("tenants/accept_invitation.html", form=form, pending=pending)


@bp.get("/")
@login_required
def home() -> Any:
    return render_template("tenants/home.html", modules=enabled_modules())


@bp.get("/settings/members")
@permission_required("firm.members")
def members() -> Any:
    rows = db.session.execute(select(Membership).order_by(Membership.created_at)).scalars().all()
    invitations = (
        db.session.execute(
            select(Invitation)
            .where(Invitation.accepted_at.is_(None))
            .order_by(Invitation.created_at.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "tenants/members.html", members=rows, invitations=invitations, form=InviteForm()
    )


@bp.post("/settings/members/invite")
@permission_required("firm.members")
def invite() -> Any:
    form = InviteForm()
    if not form.validate_on_submit():
        rows = db.session.execute(select(Membership)).scalars().all()
        return render_template("tenants/members.html", members=rows, invitations=[], form=form), 400
    try:
        services.invite(g.tenant, form.email.data, form.role.data, invited_by=current_user)
    except services.TenantError as exc:
        form.email.errors.append(str(exc))
        rows = db.session.execute(select(Membership)).scalars().all()
        return render_template("tenants/members.html", members=rows, invitations=[], form=form), 400
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("tenant.members"))


@bp.post("/settings/members/<int:membership_id>/remove")
@permission_required("firm.members")
def remove_member(membership_id: int) -> Any:
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.remove_member(membership)
    except services.TenantError as exc:
        flash(str(exc), "error")
        return redirect(url_for("tenant.members")), 303
    flash(_("Member removed."), "success")
    return redirect(url_for("tenant.members"))
