"""Webhooks: a firm's own URLs told about what happens in its books.

A firm admin subscribes a URL to public events from the catalogue (``order.confirmed``,
``invoice.issued``, ...). Modules contribute the catalogue through their ``Module``
object (``webhook_events``): each :class:`WebhookEvent` names the in-process events
it follows and turns their arguments into a stable JSON payload. When such an event
is emitted, a :class:`WebhookDelivery` is written for every matching active
subscription, together with an outbox message, in the emitting transaction: a
delivery exists exactly when the change does, and nothing leaves the process inside
a request.

The worker then POSTs the JSON body, signed with the subscription's secret
(``Distretto-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``), with
a short timeout and without following redirects. A failure (network error or a
status other than 2xx) is recorded on the delivery and retried with the outbox's
backoff until ``outbox.MAX_ATTEMPTS``; then the delivery is marked failed. The
firm reads the log and can send any delivery again (a new delivery, same payload).

URLs that lead to private, loopback or otherwise non-public addresses are refused
unless ``WEBHOOKS_ALLOW_PRIVATE`` is set (development and testing set it): checked
when the subscription is saved and again at each delivery, on the address actually
connected to, so a host name that later resolves inside the network (DNS
rebinding) reaches nothing there.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from distretto import __version__
from distretto.platform import audit, events, outbox
from distretto.platform.context import current_actor_id, current_scope, current_tenant_id
from distretto.platform.db import BigId, TenantOwned, db, tenant_ref, utcnow

logger = logging.getLogger("distretto.webhooks")

TOPIC = "webhooks.deliver"
PING = "ping"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_URL_LENGTH = 500
DEFAULT_TIMEOUT = 5.0  # seconds; WEBHOOKS_TIMEOUT overrides
EXCERPT = 500  # characters of a response or an error kept in the log


class Status:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    ALL = (PENDING, DELIVERED, FAILED)


STATUS_LABELS = {
    Status.PENDING: _l("Pending"),
    Status.DELIVERED: _l("Delivered"),
    Status.FAILED: _l("Failed"),
}


# --- models ------------------------------------------------------------------------------


class WebhookSubscription(TenantOwned, db.Model):
    """A URL of the firm's and the events it wants to hear about."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_active", "tenant_id", "active"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(TenantOwned, db.Model):
    """One event sent (or being sent) to one subscription, with the outcome of its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_subscription", "tenant_id", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = tenant_ref("webhook_subscriptions", ondelete="CASCADE")
    event: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=Status.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    def body(self) -> bytes:
        return encode(self.payload)


# --- the public event catalogue ----------------------------------------------------------

Payload = Callable[..., "dict[str, Any] | None"]


@dataclass(frozen=True)
class WebhookEvent:
    """A public event firms may subscribe to.

    ``name`` is what subscribers see (``order.confirmed``); ``sources`` the
    in-process events (:func:`distretto.platform.events.emit`) it follows;
    ``payload(**arguments)`` turns a source event's arguments into the JSON
    ``data`` of the webhook (Decimals become strings, dates ISO 8601), or None
    when this occurrence is not one to publish. A module lists its events in
    ``Module.webhook_events``; ``module`` is filled in from there.
    """

    name: str
    label: Any
    sources: tuple[str, ...]
    payload: Payload
    description: Any = ""
    module: str | None = field(default=None, compare=False)


_kernel_events: dict[str, WebhookEvent] = {}


def register_event(event: WebhookEvent) -> WebhookEvent:
    """Add a kernel event to the catalogue (modules use ``Module.webhook_events`` instead)."""
    _kernel_events[event.name] = event
    return event


def _module_events(modules: Iterable[Any]) -> list[WebhookEvent]:
    found = []
    for module in modules:
        for event in getattr(module, "webhook_events", ()) or ():
            found.append(event if event.module == module.name else _with_module(event, module.name))
    return found


def _with_module(event: WebhookEvent, module: str) -> WebhookEvent:
    return WebhookEvent(
        event.name, event.label, tuple(event.sources), event.payload, event.description, module
    )


def catalogue(*, installed: bool = False) -> list[WebhookEvent]:
    """The events the current firm may subscribe to (its enabled modules' and the kernel's),
    sorted by name; ``installed=True``: every installed module's, whatever the firm runs."""
    from distretto.platform.modules import enabled_modules, registry

    modules = registry.modules.values() if installed else enabled_modules()
    by_name = {event.name: event for event in _kernel_events.values()}
    for event in _module_events(modules):
        by_name.setdefault(event.name, event)
    return [by_name[name] for name in sorted(by_name)]


def _following(source: str) -> list[WebhookEvent]:
    """Catalogue events of the current firm that follow the in-process event ``source``."""
    return [event for event in catalogue() if source in event.sources]


# --- payloads, bodies and signatures -----------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` as stable JSON: Decimals as strings (exact), dates and times ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact, keys sorted, UTF-8 (the signature covers them)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Distretto-Signature`` header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """Check a ``Distretto-Signature`` header as a receiver should (constant time, fresh)."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if tolerance and abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def new_secret() -> str:
    """256 bits from the OS's CSPRNG, prefixed so a leaked one is recognisable."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def envelope(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body every webhook carries: a unique event id, the event, when, which firm, data."""
    scope = current_scope()
    return {
        "id": uuid.uuid4().hex,
        "event": event,
        "created_at": jsonable(utcnow()),
        "firm": scope.slug if scope else None,
        "data": jsonable(data),
    }


# --- addresses ---------------------------------------------------------------------------


class UnsafeURL(ValueError):
    """A URL that may not receive webhooks; the message says why, for the firm admin."""


def allow_private() -> bool:
    if not has_app_context():
        return False
    value = current_app.config.get("WEBHOOKS_ALLOW_PRIVATE")
    if value is None:
        return current_app.config.get("ENV_NAME") in {"development", "testing"}
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> str:
    """``url`` tidied, or :class:`UnsafeURL` naming what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise UnsafeURL(_("Enter the URL that receives the events."))
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(_("The URL is too long (%(n)d characters at most).", n=MAX_URL_LENGTH))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(_("This is not a valid URL.")) from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURL(_("The URL must start with https:// (or http://)."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL must name a host."))
    if parts.username or parts.password:
        raise UnsafeURL(
            _("Leave user names and passwords out of the URL: check the signature instead.")
        )
    if parts.fragment:
        raise UnsafeURL(_("The URL cannot have a #fragment."))
    if not allow_private():
        _resolve_public(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


def _resolve_public(host: str, port: int) -> list[str]:
    """The host's addresses, all public, or :class:`UnsafeURL`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(_("The host %(host)s cannot be found.", host=host)) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(_public(address) for address in addresses):
        raise UnsafeURL(
            _(
                "%(host)s leads to a private or local address: webhooks go to public "
                "addresses only.",
                host=host,
            )
        )
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        context = self._context  # type: ignore[attr-defined]
        self.sock = context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Response:
    status: int
    excerpt: str


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST ``body`` to ``url`` once; redirects are answers, never followed.

    Unless private addresses are allowed, the host is resolved here, every
    address checked, and the connection made to a checked address.
    """
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname or ""
    if allow_private():
        address = host
    else:
        address = _resolve_public(host, port)[0]
    if https:
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            host, port, address, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(host, port, address, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read(EXCERPT * 4).decode("utf-8", "replace")
        return Response(answer.status, text[:EXCERPT])
    finally:
        connection.close()


# --- publishing --------------------------------------------------------------------------


def publish(event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription of the current firm that wants it.

    In the caller's transaction: the deliveries exist exactly when the change does.
    """
    subscriptions = [s for s in _active_subscriptions() if event in (s.events or [])]
    if not subscriptions:
        return []
    body = envelope(event, data)
    return [_queue(subscription, body) for subscription in subscriptions]


_SUBSCRIPTIONS = "distretto.webhook_subscriptions"


def _active_subscriptions() -> Sequence[WebhookSubscription]:
    """The firm's active subscriptions, read once per transaction.

    A sales cycle raises a dozen events; asking the database each time cost more
    than the deliveries. The copy is dropped when the transaction ends or a
    subscription changes in it.
    """
    session = db.session()
    cache = session.info.setdefault(_SUBSCRIPTIONS, {})
    tenant_id = current_tenant_id()
    if tenant_id not in cache:
        cache[tenant_id] = (
            session.execute(
                select(WebhookSubscription)
                .where(WebhookSubscription.active.is_(True))
                .order_by(WebhookSubscription.id)
            )
            .scalars()
            .all()
        )
    return cache[tenant_id]


@sa_event.listens_for(Session, "after_flush")
def _forget_changed_subscriptions(session: Session, flush_context: Any) -> None:
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    if any(isinstance(obj, WebhookSubscription) for obj in changed):
        session.info.pop(_SUBSCRIPTIONS, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_subscriptions(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_SUBSCRIPTIONS, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_subscriptions(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_SUBSCRIPTIONS, None)  # any rollback, savepoints included


def _queue(subscription: WebhookSubscription, body: dict[str, Any]) -> WebhookDelivery:
    delivery = WebhookDelivery(
        subscription_id=subscription.id,
        event=body["event"],
        event_id=body["id"],
        payload=body,
        status=Status.PENDING,
        attempts=0,
    )
    db.session.add(delivery)
    db.session.flush()
    outbox.enqueue(TOPIC, {"delivery_id": delivery.id})
    return delivery


def _on_event(name: str, arguments: dict[str, Any]) -> None:
    """Every in-process event passes here; those the catalogue follows become deliveries."""
    if current_tenant_id() is None or name not in _known_sources():
        return
    subscriptions = None
    for event in _following(name):
        if subscriptions is None:
            subscriptions = _active_subscriptions()
        wanted = [s for s in subscriptions if event.name in (s.events or [])]
        if not wanted:
            continue
        data = event.payload(**arguments)
        if data is None:
            continue
        body = envelope(event.name, data)
        for subscription in wanted:
            _queue(subscription, body)


def _known_sources() -> set[str]:
    """Every source event any installed catalogue entry follows (a cheap first filter)."""
    return {source for event in catalogue(installed=True) for source in event.sources}


events.subscribe("*", _on_event)


# --- delivering --------------------------------------------------------------------------


@outbox.handler(TOPIC)
def deliver(message: dict[str, Any]) -> None:
    """The worker's side: send one delivery, record the attempt, retry through the outbox."""
    delivery = db.session.get(WebhookDelivery, message.get("delivery_id"))
    if delivery is None or delivery.status != Status.PENDING:
        return  # the subscription was deleted, or this is a repeat of a finished delivery
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    now = utcnow()
    if subscription is None or not subscription.active:
        delivery.status = Status.FAILED
        delivery.last_error = "The subscription is inactive."
        delivery.next_attempt_at = None
        return
    delivery.attempts = int(delivery.attempts or 0) + 1
    delivery.last_attempt_at = now
    body = delivery.body()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Distretto-Webhooks/{__version__}",
        "Distretto-Event": delivery.event,
        "Distretto-Delivery": str(delivery.id),
        "Distretto-Signature": sign(subscription.secret, timestamp, body),
    }
    timeout = float(current_app.config.get("WEBHOOKS_TIMEOUT") or DEFAULT_TIMEOUT)
    try:
        # a refusal is logged in the firm's language (the worker has no request to take it from)
        with force_locale(_firm_locale()):
            answer = post(subscription.url, body, headers, timeout)
    except UnsafeURL as exc:
        _failed(delivery, None, str(exc))
    except (OSError, http.client.HTTPException) as exc:
        _failed(delivery, None, f"{type(exc).__name__}: {exc}")
    else:
        if 200 <= answer.status < 300:
            delivery.status = Status.DELIVERED
            delivery.response_status = answer.status
            delivery.last_error = None
            delivery.delivered_at = utcnow()
            delivery.next_attempt_at = None
            return
        _failed(delivery, answer.status, answer.excerpt)


def _firm_locale() -> str:
    scope = current_scope()
    locale = getattr(scope.tenant, "default_locale", None) if scope else None
    return locale or (current_app.config.get("DEFAULT_LOCALE") or "it")


def _failed(delivery: WebhookDelivery, status: int | None, error: str) -> None:
    """Record a failed attempt, then hand the retry (or the giving up) to the outbox."""
    delivery.response_status = status
    delivery.last_error = (error or "")[:EXCERPT] or None
    if delivery.attempts >= outbox.MAX_ATTEMPTS:
        delivery.status = Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = utcnow() + outbox.backoff(delivery.attempts)
    db.session.flush()
    raise outbox.Retry(
        f"webhook delivery {delivery.id}: "
        + (f"HTTP {status}" if status is not None else (error or "")[:200])
    )


# --- what the settings pages call --------------------------------------------------------


class WebhookError(ValueError):
    """Input the firm admin must correct; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean(url: str, events_wanted: Iterable[str], description: str | None) -> dict[str, Any]:
    try:
        url = check_url(url)
    except UnsafeURL as exc:
        raise WebhookError(str(exc), "url") from None
    offered = {event.name for event in catalogue()}
    chosen = sorted(dict.fromkeys(e for e in events_wanted if e))
    if not chosen:
        raise WebhookError(_("Choose at least one event."), "events")
    unknown = [e for e in chosen if e not in offered]
    if unknown:
        raise WebhookError(_("Unknown events: %(names)s.", names=", ".join(unknown)), "events")
    description = (description or "").strip() or None
    if description and len(description) > 200:
        raise WebhookError(
            _("The description is too long (200 characters at most)."), "description"
        )
    return {"url": url, "events": chosen, "description": description}


def create_subscription(
    url: str, events_wanted: Iterable[str], description: str | None = None
) -> WebhookSubscription:
    """A new active subscription with a fresh secret; :class:`WebhookError` on bad input."""
    values = _clean(url, events_wanted, description)
    subscription = WebhookSubscription(
        **values, secret=new_secret(), active=True, created_by_id=current_actor_id()
    )
    db.session.add(subscription)
    db.session.flush()
    audit.record(
        "webhook.created",
        subscription,
        summary={"url": values["url"], "events": values["events"]},
    )
    return subscription


def update_subscription(
    subscription: WebhookSubscription,
    url: str,
    events_wanted: Iterable[str],
    description: str | None,
    active: bool,
) -> WebhookSubscription:
    values = _clean(url, events_wanted, description)
    changes = {
        key: [getattr(subscription, key), value]
        for key, value in {**values, "active": bool(active)}.items()
        if getattr(subscription, key) != value
    }
    for key, (_old, new) in changes.items():
        setattr(subscription, key, new)
    db.session.flush()
    if changes:
        audit.record("webhook.updated", subscription, summary=changes)
    return subscription


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    if subscription.active != active:
        subscription.active = active
        db.session.flush()
        audit.record("webhook.activated" if active else "webhook.deactivated", subscription)


def delete_subscription(subscription: WebhookSubscription) -> None:
    """Remove the subscription and its log; deliveries still queued then send nothing."""
    db.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    )
    audit.record("webhook.deleted", subscription, summary={"url": subscription.url})
    db.session.delete(subscription)
    db.session.flush()


def rotate_secret(subscription: WebhookSubscription) -> str:
    """A new secret: deliveries from now on are signed with it (the old one stops at once)."""
    subscription.secret = new_secret()
    db.session.flush()
    audit.record("webhook.secret_rotated", subscription)
    return subscription.secret


def send_ping(subscription: WebhookSubscription) -> WebhookDelivery:
    """A ``ping`` delivery to check the receiving end (whatever events it follows)."""
    if not subscription.active:
        raise WebhookError(_("Activate the webhook before sending a test event."))
    body = envelope(PING, {"subscription_id": subscription.id, "message": "Distretto ping"})
    return _queue(subscription, body)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's payload again, as a new delivery (same event id: receivers can
    recognise the repeat)."""
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.active:
        raise WebhookError(_("Activate the webhook before sending again."))
    again = _queue(subscription, dict(delivery.payload))
    audit.record("webhook.redelivered", again, summary={"of": delivery.id, "event": delivery.event})
    return again


def get_subscription(subscription_id: int) -> WebhookSubscription | None:
    return db.session.get(WebhookSubscription, subscription_id)


def deliveries_query(subscription: WebhookSubscription) -> Any:
    return select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)


def subscriptions() -> Sequence[WebhookSubscription]:
    return (
        db.session.execute(select(WebhookSubscription).order_by(WebhookSubscription.id))
        .scalars()
        .all()
    )
