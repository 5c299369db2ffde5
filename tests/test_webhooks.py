"""Webhooks: firms' URLs hear about their events, signed, retried, logged, sent again.

A real HTTP server on 127.0.0.1 (in a thread) receives the deliveries; the outbox is
drained as the worker drains it. Retry times are moved into the past in the database
(as tests/test_outbox.py does) instead of waiting for the backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party
from distretto.modules.inventory import services as inventory
from distretto.modules.orders import services as orders
from distretto.modules.orders.models import Order
from distretto.platform import outbox, webhooks, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.outbox import OutboxMessage
from distretto.platform.webhooks import WebhookDelivery, WebhookSubscription
from distretto.testing.plugin import csrf_token

MODULES = ["catalog", "orders"]
_codes = itertools.count(1)


# --- a real receiving end --------------------------------------------------------------------


class Receiver:
    """An HTTP server that records what it receives and answers the statuses it is told."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in turn; then ``default``
        self.default = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver is down for maintenance")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/distretto"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def drain(app: Any):
    """``drain()``: commit the test's work and let the worker deliver what is due."""

    def run() -> int:
        db.session.commit()
        return outbox.drain()

    return run


@pytest.fixture
def make_due(app: Any, distretto_database: Any):
    """``make_due()``: every retry time has come (moved back in the database, as the owner)."""

    def move_back() -> None:
        db.session.commit()
        table = OutboxMessage.__table__
        with distretto_database.owner_engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.delivered_at.is_(None), table.c.failed_at.is_(None))
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )

    return move_back


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, written out (not calling our own code)."""
    fields = dict(part.split("=", 1) for part in headers["Distretto-Signature"].split(","))
    signed = f"{fields['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def subscribe(tenant: Any, url: str, events: list[str]) -> SimpleNamespace:
    with tenant_context(tenant):
        subscription = webhooks.create_subscription(url, events, "Shop")
        db.session.commit()
        return SimpleNamespace(id=subscription.id, secret=subscription.secret)


def deliveries(tenant: Any) -> list[WebhookDelivery]:
    db.session.commit()
    with tenant_context(tenant):
        return list(
            db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()
        )


def sales_order(tenant: Any, quantity: str = "4", product_id: int | None = None) -> Any:
    """A sales order of ``quantity`` (of product TOM-1 unless ``product_id``), committed."""
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = db.session.execute(
            select(Party).where(Party.vat_number == "03777120167")
        ).scalar_one_or_none() or catalog.create_party(
            {
                "legal_name": "Calzaturificio Rossi S.r.l.",
                "is_customer": True,
                "vat_number": "03777120167",
            }
        )
        if product_id is None:
            product_id = catalog.create_product(
                {
                    "code": f"TOM-{next(_codes)}",
                    "description": "Tomaia",
                    "sale_price": "10",
                    "vat_rate_id": rate.id,
                }
            ).id
        order = orders.create_order(
            "sale",
            {"party_id": customer.id, "lines": [{"product_id": product_id, "quantity": quantity}]},
        )
        db.session.commit()
        return SimpleNamespace(id=order.id, number=order.number)


def confirm(tenant: Any, order: Any) -> None:
    with tenant_context(tenant):
        order = db.session.get(Order, order.id)
        workflow.apply(order, "sales_order", "confirm", role="staff")
        db.session.commit()


# --- signatures and payloads -----------------------------------------------------------------


def test_confirming_an_order_delivers_a_signed_order_confirmed(tenant_client, receiver, drain):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.confirmed"])
    order = sales_order(tenant)
    drain()
    assert receiver.requests == []  # order.created was not subscribed

    confirm(tenant, order)
    assert drain() == 1
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/distretto"
    assert headers["Content-Type"] == "application/json"
    assert headers["Distretto-Event"] == "order.confirmed"

    # the secret as the firm admin sees it, revealed on the webhook's page
    path = f"/{tenant.slug}/settings/webhooks/{subscription.id}"
    page = text_of(client.post(f"{path}/secret", data={"csrf_token": csrf_token(client, path)}))
    secret = re.search(r'id="webhook-secret"[^>]*>(whsec_[^<]+)<', page).group(1)
    assert secret == subscription.secret
    assert len(secret) > 40
    assert signature_ok(secret, headers, body)
    assert not signature_ok(secret, headers, body.replace(b"confirmed", b"cancelled"))
    assert webhooks.verify(secret, headers["Distretto-Signature"], body)

    payload = json.loads(body)
    assert payload["event"] == "order.confirmed"
    assert payload["firm"] == tenant.slug
    data = payload["data"]
    assert data["number"] == order.number
    assert data["id"] == order.id
    assert data["state"] == "confirmed"
    assert data["type"] == "sales_order"
    assert data["total"] == "48.80"  # 4 x 10.00 + 22% VAT, an exact decimal string
    assert data["counterpart"]["name"] == "Calzaturificio Rossi S.r.l."
    assert data["lines"][0]["quantity"] == "4.000"

    [delivery] = deliveries(tenant)
    assert headers["Distretto-Delivery"] == str(delivery.id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    log = text_of(client.get(path))
    assert "order.confirmed" in log
    assert "Delivered" in log
    assert "HTTP 200" in log


def test_rotated_secret_signs_what_follows(tenant_client, receiver, drain):
    client, tenant, _user = tenant_client("owner", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.created"])
    old = subscription.secret
    path = f"/{tenant.slug}/settings/webhooks/{subscription.id}"
    page = text_of(
        client.post(f"{path}/secret/rotate", data={"csrf_token": csrf_token(client, path)})
    )
    new = re.search(r'id="webhook-secret"[^>]*>(whsec_[^<]+)<', page).group(1)
    assert new != old
    sales_order(tenant)
    drain()
    [request] = receiver.requests
    assert signature_ok(new, request["headers"], request["body"])
    assert not signature_ok(old, request["headers"], request["body"])


# --- retries, giving up, sending again --------------------------------------------------------


def test_failing_endpoint_is_retried_with_backoff_until_it_answers(
    tenant_client, receiver, drain, make_due
):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.created"])
    receiver.statuses = [500, 503]
    sales_order(tenant)

    before = utcnow()
    drain()
    [delivery] = deliveries(tenant)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert "maintenance" in delivery.last_error
    # the outbox's backoff: 5 s after the first failure
    assert before + outbox.backoff(1) <= delivery.next_attempt_at
    drain()
    assert len(receiver.requests) == 1  # not before its time

    path = f"/{tenant.slug}/settings/webhooks/{subscription.id}"
    log = text_of(client.get(path))
    assert "Pending" in log
    assert "HTTP 500" in log

    make_due()
    drain()
    [delivery] = deliveries(tenant)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 2, 503)

    make_due()
    drain()
    assert len(receiver.requests) == 3
    [delivery] = deliveries(tenant)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    assert delivery.delivered_at is not None
    assert delivery.last_error is None
    # the same body each time, each attempt signed afresh
    bodies = {r["body"] for r in receiver.requests}
    assert len(bodies) == 1
    ids = {r["headers"]["Distretto-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.id)}

    page = text_of(client.get(f"{path}/deliveries/{delivery.id}"))
    assert "Delivered" in page
    assert "HTTP 200" in page
    assert json.loads(next(iter(bodies)))["id"] in page  # the event id


def test_endpoint_down_for_good_fails_after_max_attempts_then_redeliver_sends_again(
    tenant_client, receiver, drain, make_due
):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.created"])
    receiver.default = 500
    order = sales_order(tenant)
    drain()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        make_due()
        drain()
    assert len(receiver.requests) == outbox.MAX_ATTEMPTS
    make_due()
    drain()
    assert len(receiver.requests) == outbox.MAX_ATTEMPTS  # given up

    [delivery] = deliveries(tenant)
    assert (delivery.status, delivery.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    path = f"/{tenant.slug}/settings/webhooks/{subscription.id}"
    page = text_of(client.get(f"{path}/deliveries/{delivery.id}"))
    assert "Failed" in page
    assert "HTTP 500" in page
    assert order.number in page

    receiver.default = 200
    response = client.post(
        f"{path}/deliveries/{delivery.id}/redeliver",
        data={"csrf_token": csrf_token(client, path)},
    )
    assert response.status_code == 303
    drain()
    first, again = deliveries(tenant)
    assert (first.status, again.status) == ("failed", "delivered")
    assert again.event_id == first.event_id
    assert again.payload == first.payload
    last = receiver.requests[-1]
    assert json.loads(last["body"])["data"]["number"] == order.number
    assert last["headers"]["Distretto-Delivery"] == str(again.id)
    log = text_of(client.get(path))
    assert "Failed" in log
    assert "Delivered" in log


def test_test_event_from_the_page_is_a_signed_ping(tenant_client, receiver, drain):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.confirmed"])
    path = f"/{tenant.slug}/settings/webhooks/{subscription.id}"
    response = client.post(f"{path}/ping", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 303
    drain()
    [request] = receiver.requests
    assert request["headers"]["Distretto-Event"] == "ping"
    assert signature_ok(subscription.secret, request["headers"], request["body"])


# --- who hears what -------------------------------------------------------------------------


def test_unsubscribed_inactive_and_other_firms_events_are_not_delivered(
    make_tenant, receiver, drain
):
    firm_a = make_tenant(modules=MODULES)
    firm_b = make_tenant(modules=MODULES)
    other = Receiver()
    try:
        subscribe(firm_b, other.url, ["order.created", "order.confirmed"])
        subscribe(firm_a, receiver.url, ["order.confirmed"])
        paused = subscribe(firm_a, receiver.url + "/paused", ["order.created"])
        with tenant_context(firm_a):
            webhooks.set_active(db.session.get(WebhookSubscription, paused.id), False)
            db.session.commit()
        order = sales_order(firm_a)
        confirm(firm_a, order)
        drain()
        assert other.requests == []  # firm B hears nothing of firm A
        assert [r["headers"]["Distretto-Event"] for r in receiver.requests] == ["order.confirmed"]
        assert [d.event for d in deliveries(firm_b)] == []
    finally:
        other.close()


def test_stock_falling_to_the_reorder_point_publishes_stock_low(make_tenant, receiver, drain):
    tenant = make_tenant(modules=["catalog", "orders", "inventory"])
    subscribe(tenant, receiver.url, ["stock.low"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        product = catalog.create_product(
            {
                "code": "SUO-2",
                "description": "Suola",
                "sale_price": "5",
                "vat_rate_id": rate.id,
                "reorder_point": "5",
            }
        )
        inventory.receive(lines=[(product.id, Decimal("10"), Decimal("1"), None)])
        db.session.commit()
        product_id = product.id
    confirm(tenant, sales_order(tenant, "4", product_id))  # 6 left: not yet low
    drain()
    assert receiver.requests == []
    confirm(tenant, sales_order(tenant, "2", product_id))  # 4 left: low
    confirm(tenant, sales_order(tenant, "1", product_id))  # still low: no second alarm
    drain()
    [request] = receiver.requests
    data = json.loads(request["body"])["data"]
    assert data["product"]["code"] == "SUO-2"
    assert (data["available"], data["reorder_point"]) == ("4.000", "5.000")


# --- addresses and the form -----------------------------------------------------------------


def test_private_addresses_are_refused_unless_allowed(app, tenant_client, receiver, drain):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscription = subscribe(tenant, receiver.url, ["order.created"])  # allowed in testing
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    path = f"/{tenant.slug}/settings/webhooks/new"
    for url in (
        f"http://localhost:{receiver.server.server_address[1]}/x",
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/",
    ):
        response = client.post(
            path,
            data={"url": url, "events": ["order.created"], "csrf_token": csrf_token(client, path)},
        )
        assert response.status_code == 400, url
        assert "private or local address" in text_of(response)

    # checked again when sending: the earlier subscription now reaches nothing
    sales_order(tenant)
    drain()
    assert receiver.requests == []
    [delivery] = deliveries(tenant)
    assert delivery.status == "pending"
    assert "private or local address" in delivery.last_error
    with tenant_context(tenant):
        assert [s.id for s in webhooks.subscriptions()] == [subscription.id]


def test_form_names_what_is_wrong_and_saves_nothing(tenant_client):
    client, tenant, _user = tenant_client("admin", modules=MODULES)
    path = f"/{tenant.slug}/settings/webhooks/new"
    page = text_of(client.get(path))
    assert "order.confirmed" in page
    assert "order.created" in page
    cases = [
        ({"url": "ftp://example.com/x", "events": ["order.created"]}, "must start with https://"),
        ({"url": "", "events": ["order.created"]}, "Enter the URL"),
        ({"url": "https://user:pw@example.com/", "events": ["order.created"]}, "passwords"),
        ({"url": "https://example.com/x", "events": []}, "Choose at least one event"),
        ({"url": "https://example.com/x", "events": ["invoice.nonsense"]}, "Unknown events"),
    ]
    for data, message in cases:
        response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
        assert response.status_code == 400, data
        assert message in text_of(response), data
    with tenant_context(tenant):
        assert webhooks.subscriptions() == []

    response = client.post(
        path,
        data={
            "url": "https://example.com/hooks",
            "events": ["order.created", "order.confirmed"],
            "description": "E-commerce",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 303
    with tenant_context(tenant):
        [saved] = webhooks.subscriptions()
        assert saved.events == ["order.confirmed", "order.created"]
        assert saved.secret.startswith("whsec_")
    listing = text_of(client.get(f"/{tenant.slug}/settings/webhooks/"))
    assert "https://example.com/hooks" in listing
    assert "E-commerce" in listing


def test_staff_cannot_reach_the_webhook_pages(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=MODULES)
    assert client.get(f"/{tenant.slug}/settings/webhooks/").status_code == 403


# --- the other modules' events --------------------------------------------------------------


def test_issuing_and_paying_an_invoice_publish_invoice_issued_and_payment_received(
    make_tenant, receiver, drain
):
    from tests.modules.test_invoicing_xml import draft, fiscal_firm, issue, line

    firm = fiscal_firm(make_tenant)
    subscription = subscribe(firm, receiver.url, ["invoice.issued", "payment.received"])
    with tenant_context(firm):
        from distretto.modules.invoicing import services as invoicing

        invoice = issue(draft([line("100")]))
        invoicing.register_payment(invoice, "22,00", None, "Bonifico")
        number = invoice.number
        db.session.commit()
    drain()
    issued, paid = (json.loads(r["body"]) for r in receiver.requests)
    assert [r["headers"]["Distretto-Event"] for r in receiver.requests] == [
        "invoice.issued",
        "payment.received",
    ]
    assert all(
        signature_ok(subscription.secret, r["headers"], r["body"]) for r in receiver.requests
    )
    assert issued["data"]["number"] == number
    assert issued["data"]["state"] == "issued"
    assert issued["data"]["total"] == "122.00"
    assert paid["data"]["payment"]["amount"] == "22.00"
    assert paid["data"]["invoice"]["number"] == number
    assert paid["data"]["invoice"]["outstanding"] == "100.00"


def test_shipping_an_order_publishes_shipment_shipped(make_tenant, receiver, drain):
    tenant = make_tenant(modules=["catalog", "orders", "inventory"])
    subscribe(tenant, receiver.url, ["shipment.shipped", "order.state_changed"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        product = catalog.create_product(
            {"code": "FOR-9", "description": "Forma", "sale_price": "3", "vat_rate_id": rate.id}
        )
        inventory.receive(lines=[(product.id, Decimal("10"), Decimal("1"), None)])
        db.session.commit()
        product_id = product.id
    order = sales_order(tenant, "3", product_id)
    confirm(tenant, order)
    with tenant_context(tenant):
        workflow.apply(db.session.get(Order, order.id), "sales_order", "ship", role="staff")
        db.session.commit()
    drain()
    events = [r["headers"]["Distretto-Event"] for r in receiver.requests]
    assert events.count("shipment.shipped") == 1
    shipped = next(
        json.loads(r["body"])["data"]
        for r in receiver.requests
        if r["headers"]["Distretto-Event"] == "shipment.shipped"
    )
    assert shipped["number"].startswith("DDT-")
    assert shipped["source"] == {"type": "sales_order", "id": order.id, "number": order.number}
    assert shipped["lines"][0]["quantity"] == "3.000"
    changes = [
        (d["data"]["from_state"], d["data"]["to_state"])
        for d in (json.loads(r["body"]) for r in receiver.requests)
        if d["event"] == "order.state_changed"
    ]
    assert changes == [("draft", "confirmed"), ("confirmed", "shipped")]


def test_a_redirect_is_an_answer_not_followed_and_retried(tenant_client, receiver, drain):
    _client, tenant, _user = tenant_client("admin", modules=MODULES)
    subscribe(tenant, receiver.url, ["order.created"])
    receiver.statuses = [302]
    sales_order(tenant)
    drain()
    assert [r["path"] for r in receiver.requests] == ["/hooks/distretto"]
    [delivery] = deliveries(tenant)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 302)
