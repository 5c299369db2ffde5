"""The firm-admin webhook pages: ``/<tenant>/settings/webhooks/...``.

Subscriptions (URL, events, description), their secret (revealed on request,
rotated), a test ``ping``, and the delivery log with the payload of each delivery
and a button to send it again. Every page needs ``firm.settings``. The rules live
in :mod:`distretto.platform.webhooks`; these views parse, call one service, render.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from distretto.platform import audit, webhooks
from distretto.platform.db import db
from distretto.platform.forms import select_choices
from distretto.platform.listing import paginate
from distretto.platform.permissions import permission_required
from distretto.platform.web import tenant_blueprint
from distretto.platform.webhooks import (
    WebhookDelivery,
    WebhookError,
    WebhookSubscription,
)

bp = tenant_blueprint("webhooks", __name__, "/settings/webhooks")

PERMISSION = "firm.settings"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class WebhookForm(FlaskForm):
    url = StringField(_l("URL"), filters=[_strip])
    events = SelectMultipleField(
        _l("Events"),
        choices=[],
        validate_choice=False,  # the service checks them against the firm's catalogue
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    description = StringField(_l("Description"), validators=[Length(max=200)], filters=[_strip])
    active = BooleanField(_l("Active: send events to this URL"), default=True)


class ButtonForm(FlaskForm):
    """Only the CSRF token, for the buttons that change something."""


@bp.context_processor
def _settings_section() -> dict[str, Any]:
    return {"settings_section": "webhooks"}


def _see_other(endpoint: str, **values: Any) -> Any:
    return redirect(url_for(endpoint, **values), 303)


def _subscription_or_404(subscription_id: int) -> WebhookSubscription:
    subscription = webhooks.get_subscription(subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _delivery_or_404(subscription: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        abort(404)
    return delivery


def _with_choices(form: WebhookForm) -> WebhookForm:
    form.events.choices = select_choices(
        (event.name, event.name) for event in webhooks.catalogue()
    )
    return form


def _form_page(
    form: WebhookForm, subscription: WebhookSubscription | None = None, status: int = 200
) -> Any:
    page = render_template(
        "settings/webhooks/form.html",
        form=form,
        subscription=subscription,
        catalogue=webhooks.catalogue(),
        chosen=set(form.events.data or []),
    )
    return page, status


@bp.get("/")
@permission_required(PERMISSION)
def index() -> Any:
    return render_template(
        "settings/webhooks/index.html",
        subscriptions=webhooks.subscriptions(),
        button=ButtonForm(),
    )


@bp.get("/new")
@permission_required(PERMISSION)
def create() -> Any:
    return _form_page(_with_choices(WebhookForm(formdata=None)))


@bp.post("/new")
@permission_required(PERMISSION)
def save_new() -> Any:
    form = _with_choices(WebhookForm())
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    try:
        subscription = webhooks.create_subscription(
            form.url.data or "", form.events.data or [], form.description.data
        )
    except WebhookError as exc:
        _field_error(form, exc)
        return _form_page(form, status=400)
    flash(
        _("Webhook created. Reveal its secret to check the signatures at the receiving end."),
        "success",
    )
    return _see_other("webhooks.detail", subscription_id=subscription.id)


def _field_error(form: WebhookForm, exc: WebhookError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@bp.get("/<int:subscription_id>")
@permission_required(PERMISSION)
def detail(subscription_id: int) -> Any:
    return _detail_page(_subscription_or_404(subscription_id))


def _detail_page(
    subscription: WebhookSubscription, *, secret: str | None = None, status: int = 200
) -> Any:
    page = paginate(
        webhooks.deliveries_query(subscription),
        request.args,
        {"id": WebhookDelivery.id},
        "-id",
    )
    labels = {event.name: event.label for event in webhooks.catalogue(installed=True)}
    html = render_template(
        "settings/webhooks/detail.html",
        subscription=subscription,
        page=page,
        secret=secret,
        labels=labels,
        button=ButtonForm(),
    )
    return html, status


@bp.get("/<int:subscription_id>/edit")
@permission_required(PERMISSION)
def edit(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    form = WebhookForm(
        formdata=None,
        url=subscription.url,
        events=list(subscription.events or []),
        description=subscription.description,
        active=subscription.active,
    )
    return _form_page(_with_choices(form), subscription)


@bp.post("/<int:subscription_id>/edit")
@permission_required(PERMISSION)
def update(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    form = _with_choices(WebhookForm())
    if not form.validate_on_submit():
        return _form_page(form, subscription, 400)
    try:
        webhooks.update_subscription(
            subscription,
            form.url.data or "",
            form.events.data or [],
            form.description.data,
            bool(form.active.data),
        )
    except WebhookError as exc:
        _field_error(form, exc)
        return _form_page(form, subscription, 400)
    flash(_("Webhook saved."), "success")
    return _see_other("webhooks.detail", subscription_id=subscription.id)


def _button_or_400() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400)


@bp.post("/<int:subscription_id>/active")
@permission_required(PERMISSION)
def toggle(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    _button_or_400()
    active = not subscription.active
    webhooks.set_active(subscription, active)
    flash(_("Webhook activated.") if active else _("Webhook deactivated."), "success")
    return _see_other("webhooks.detail", subscription_id=subscription.id)


@bp.post("/<int:subscription_id>/delete")
@permission_required(PERMISSION)
def delete(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    _button_or_400()
    webhooks.delete_subscription(subscription)
    flash(_("Webhook deleted."), "success")
    return _see_other("webhooks.index")


@bp.post("/<int:subscription_id>/secret")
@permission_required(PERMISSION)
def reveal_secret(subscription_id: int) -> Any:
    """Shown on a POST (never in a URL or a cached page) and written to the audit trail."""
    subscription = _subscription_or_404(subscription_id)
    _button_or_400()
    audit.record("webhook.secret_revealed", subscription)
    html, status = _detail_page(subscription, secret=subscription.secret)
    return html, status, {"Cache-Control": "no-store"}


@bp.post("/<int:subscription_id>/secret/rotate")
@permission_required(PERMISSION)
def rotate_secret(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    _button_or_400()
    secret = webhooks.rotate_secret(subscription)
    flash(_("New secret made: the old one no longer signs deliveries."), "success")
    html, status = _detail_page(subscription, secret=secret)
    return html, status, {"Cache-Control": "no-store"}


@bp.post("/<int:subscription_id>/ping")
@permission_required(PERMISSION)
def ping(subscription_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    _button_or_400()
    try:
        webhooks.send_ping(subscription)
    except WebhookError as exc:
        flash(str(exc), "error")
        return _see_other("webhooks.detail", subscription_id=subscription.id)
    flash(_("Test event queued: it is sent within a few seconds."), "success")
    return _see_other("webhooks.detail", subscription_id=subscription.id)


@bp.get("/<int:subscription_id>/deliveries/<int:delivery_id>")
@permission_required(PERMISSION)
def delivery(subscription_id: int, delivery_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    row = _delivery_or_404(subscription, delivery_id)
    return render_template(
        "settings/webhooks/delivery.html",
        subscription=subscription,
        delivery=row,
        body=json.dumps(row.payload, indent=2, sort_keys=True, ensure_ascii=False),
        button=ButtonForm(),
    )


@bp.post("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@permission_required(PERMISSION)
def redeliver(subscription_id: int, delivery_id: int) -> Any:
    subscription = _subscription_or_404(subscription_id)
    row = _delivery_or_404(subscription, delivery_id)
    _button_or_400()
    try:
        again = webhooks.redeliver(row)
    except WebhookError as exc:
        flash(str(exc), "error")
        return _see_other("webhooks.delivery", subscription_id=subscription.id, delivery_id=row.id)
    flash(_("Sent again as delivery %(id)s.", id=again.id), "success")
    return _see_other("webhooks.detail", subscription_id=subscription.id)
