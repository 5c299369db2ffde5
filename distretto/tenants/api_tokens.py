"""The firm's API tokens (``/<tenant>/settings/api-tokens``), for firm administrators.

A token is made with a name and a choice of the administrator's own permissions;
its secret is shown once, on the page that answers the creation, and only its
SHA-256 is kept. The list shows each token's prefix and when it was last used;
revoking takes effect on the next request.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from distretto.platform.api.models import ApiToken
from distretto.platform.api.tokens import (
    TokenError,
    create_token,
    grantable_permissions,
    revoke_token,
    tokens,
)
from distretto.platform.db import db, utcnow
from distretto.platform.forms import select_choices
from distretto.platform.modules import enabled_modules
from distretto.platform.permissions import current_role, permission_required
from distretto.platform.web import tenant_blueprint
from distretto.tenants.forms import EmptyForm

bp = tenant_blueprint("api_tokens", __name__, "/settings/api-tokens")

PERMISSION = "firm.settings"


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    permissions = SelectMultipleField(
        _l("Permissions"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


@bp.context_processor
def _settings_section() -> dict[str, Any]:
    return {"settings_section": "api_tokens"}


def _allowed() -> list[str]:
    return grantable_permissions(current_role(), [m.name for m in enabled_modules()])


def _form() -> TokenForm:
    form = TokenForm()
    form.permissions.choices = select_choices((p, p) for p in _allowed())
    return form


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> Any:
    return render_template(
        "settings/api_tokens.html",
        form=form,
        tokens=tokens(),
        secret=secret,
        revoke_form=EmptyForm(),
        now=utcnow(),
    ), status


@bp.get("")
@permission_required(PERMISSION)
def index() -> Any:
    return _page(_form())


@bp.post("")
@permission_required(PERMISSION)
def create() -> Any:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    expires_at = None
    if form.expires_on.data is not None:
        expires_at = datetime.combine(form.expires_on.data, time(23, 59, 59))
        if expires_at <= utcnow():
            form.expires_on.errors = [_("Choose a day in the future.")]
            return _page(form, status=400)
    try:
        _token, secret = create_token(
            form.name.data or "",
            list(form.permissions.data or []),
            created_by_id=current_user.id,
            allowed=_allowed(),
            expires_at=expires_at,
        )
    except TokenError as exc:
        field = getattr(form, exc.field or "name")
        field.errors = (
            [_("Choose at least one permission.")]
            if exc.field == "permissions"
            else [_("Give the token a name (up to 100 characters).")]
        )
        return _page(form, status=400)
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return _page(_form(), secret=secret, status=201)


@bp.post("/<int:token_id>/revoke")
@permission_required(PERMISSION)
def revoke(token_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    revoke_token(token)
    flash(_("Token %(name)s revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index", tenant=g.tenant.slug))
