"""In-process domain events: handlers run inside the emitting transaction.

A module's handlers run only for firms that enabled the module; kernel
subscribers run for every firm. Handlers are attached to the test module
"sample" for one test at a time (monkeypatch) and are real functions writing to
the real database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from distretto.platform import audit, events, outbox, workflow
from distretto.platform.context import current_tenant_id, tenant_context
from distretto.platform.db import db
from distretto.platform.documents import ActionError
from distretto.platform.modules import disable_module, enable_module, registry
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

DOC = "sample_request"


@pytest.fixture
def sample_handlers(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``sample_handlers(event, *handlers)``: the sample module handles ``event`` (this test)."""
    declared = registry.modules["sample"].event_handlers

    def attach(event: str, *handlers: Any) -> None:
        monkeypatch.setitem(declared, event, list(handlers))

    return attach


@pytest.fixture(autouse=True)
def _test_outbox_handlers_are_removed_afterwards() -> Iterator[None]:
    before = dict(outbox._handlers)
    yield
    outbox._handlers.clear()
    outbox._handlers.update(before)


def committed_count(database: Any, model: Any, **where: Any) -> int:
    """Rows as committed, read as the owner on a connection of its own."""
    db.session.commit()
    table = model.__table__
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with database.owner_engine.connect() as connection:
        return connection.execute(query).scalar_one()


def test_module_handlers_writes_roll_back_with_the_emitting_transaction(
    make_tenant, sample_handlers, distretto_database
):
    def react(document: Any, **payload: Any) -> None:
        # the emitter's row is not committed yet: only its own transaction can see it
        found = db.session.execute(
            select(SampleRequest).where(SampleRequest.id == document.id)
        ).scalar_one()
        found.note = "seen by the handler"
        audit.record("test.reacted", found)

    sample_handlers("test.request_created", react)
    firm = make_tenant(modules=["sample"])

    with tenant_context(firm):
        abandoned = create_request("Abandoned", "10")
        db.session.flush()
        events.emit("test.request_created", document=abandoned)
        assert abandoned.note == "seen by the handler"
    db.session.rollback()
    assert committed_count(distretto_database, SampleRequest) == 0
    assert committed_count(distretto_database, audit.AuditEntry, action="test.reacted") == 0

    with tenant_context(firm):
        kept = create_request("Kept", "10")
        db.session.flush()
        events.emit("test.request_created", document=kept)
    db.session.commit()
    assert committed_count(distretto_database, SampleRequest, note="seen by the handler") == 1
    assert committed_count(distretto_database, audit.AuditEntry, action="test.reacted") == 1


def test_failing_module_handler_refuses_the_transition_and_undoes_its_own_writes(
    make_tenant, sample_handlers, distretto_database
):
    def refuse(document: Any, **payload: Any) -> None:
        audit.record("test.refusal_noted", document)
        db.session.flush()
        raise ActionError("the customer's credit is exhausted")

    sample_handlers("sample_request.approve", refuse)
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        request = create_request("Bolts", "10")
        workflow.apply(request, DOC, "submit", role="owner")
        with pytest.raises(workflow.TransitionRefused, match="credit is exhausted"):
            workflow.apply(request, DOC, "approve", role="owner")
        assert request.state == "submitted"
        assert [step.transition for step in workflow.history(request, DOC)] == ["create", "submit"]
    db.session.commit()
    assert committed_count(distretto_database, audit.AuditEntry, action="test.refusal_noted") == 0
    assert committed_count(distretto_database, SampleRequest, state="submitted") == 1


def test_module_handlers_run_only_for_firms_that_enabled_the_module(make_tenant, sample_handlers):
    calls: list[int | None] = []

    def remember(**payload: Any) -> None:
        calls.append(current_tenant_id())

    sample_handlers("test.ping", remember)
    with_module, without = make_tenant(modules=["sample"]), make_tenant()
    with tenant_context(with_module):
        events.emit("test.ping")
    with tenant_context(without):
        events.emit("test.ping")
    events.emit("test.ping")  # outside any firm: no firm has it enabled
    assert calls == [with_module.id]

    with tenant_context(with_module):
        disable_module("sample")
        events.emit("test.ping")
        assert calls == [with_module.id]
        enable_module("sample")
        events.emit("test.ping")
    assert calls == [with_module.id, with_module.id]


def test_kernel_subscribers_run_for_every_firm_after_the_modules_handlers(
    make_tenant, sample_handlers
):
    order: list[tuple[str, int | None, Any]] = []

    def module_handler(**payload: Any) -> None:
        order.append(("module", current_tenant_id(), payload["n"]))

    def kernel_subscriber(**payload: Any) -> None:
        order.append(("kernel", current_tenant_id(), payload["n"]))

    def every_event(event: str, payload: dict[str, Any]) -> None:
        order.append((f"* {event}", current_tenant_id(), payload["n"]))

    sample_handlers("test.ping", module_handler)
    with_module, without = make_tenant(modules=["sample"]), make_tenant()
    a, b = with_module.id, without.id
    with (
        events.subscribed("test.ping", kernel_subscriber),
        events.subscribed("*", every_event),
    ):
        with tenant_context(with_module):
            events.emit("test.ping", n=1)
        with tenant_context(without):
            events.emit("test.ping", n=2)
        events.emit("test.other", n=3)

    assert order == [
        ("module", a, 1),
        ("kernel", a, 1),
        ("* test.ping", a, 1),
        ("kernel", b, 2),
        ("* test.ping", b, 2),
        ("* test.other", None, 3),
    ]
    with tenant_context(without):
        events.emit("test.ping", n=4)  # unsubscribed when the block ended
    assert len(order) == 6


def test_subscriber_sending_through_the_outbox_sends_only_what_the_emitter_committed(make_tenant):
    sent: list[tuple[int | None, int]] = []

    @outbox.handler("test.notify_customer")
    def notify_customer(payload: dict[str, Any]) -> None:
        sent.append((current_tenant_id(), payload["order"]))

    def forward(**payload: Any) -> None:
        outbox.enqueue("test.notify_customer", {"order": payload["order"]})

    firm = make_tenant()
    firm_id = firm.id
    with events.subscribed("test.order_confirmed", forward):
        with tenant_context(firm):
            events.emit("test.order_confirmed", order=1)
        db.session.rollback()  # the confirmation failed later on
        with tenant_context(firm):
            events.emit("test.order_confirmed", order=2)
        db.session.commit()

    assert sent == []  # nothing leaves the process inside the transaction
    assert outbox.drain() == 1
    assert sent == [(firm_id, 2)]
