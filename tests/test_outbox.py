"""The transactional outbox: what a change sends is sent once it has happened, and only then.

Handlers here are real functions registered under ``test.*`` topics (removed
again after each test); the database is the real one. Timestamps are moved
into the past in the database instead of sleeping, so retries are tested at
full speed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import ProgrammingError

from distretto.platform import audit, mail, outbox
from distretto.platform.context import current_tenant_id, tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.modules import TenantModule
from distretto.platform.outbox import OutboxMessage

MESSAGES = OutboxMessage.__table__
WORKER_APP_NAME = "distretto-outbox-test-worker"  # PostgreSQL application_name of worker processes


@pytest.fixture(autouse=True)
def _test_handlers_are_removed_afterwards() -> Iterator[None]:
    before = dict(outbox._handlers)
    yield
    outbox._handlers.clear()
    outbox._handlers.update(before)


@pytest.fixture
def stored(app: Any, distretto_database: Any):
    """``stored()`` -> every outbox row as the database has it (read as the owner, past RLS)."""

    def read() -> list[Any]:
        db.session.commit()  # end the test's own transaction: show what is committed
        with distretto_database.owner_engine.connect() as connection:
            return list(connection.execute(select(MESSAGES).order_by(MESSAGES.c.id)))

    return read


@pytest.fixture
def make_due(app: Any, distretto_database: Any):
    """``make_due(message_id)``: the retry time has come (moved back instead of waiting)."""

    def move_back(message_id: int) -> None:
        db.session.commit()
        with distretto_database.owner_engine.begin() as connection:
            connection.execute(
                update(MESSAGES)
                .where(MESSAGES.c.id == message_id)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )

    return move_back


def owner_count(database: Any, model: Any, **where: Any) -> int:
    table = model.__table__
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with database.owner_engine.connect() as connection:
        return connection.execute(query).scalar_one()


def enqueue_for(firm: Any, topic: str, payload: dict[str, Any]) -> int:
    with tenant_context(firm):
        message = outbox.enqueue(topic, payload)
        db.session.flush()
        return message.id


# --- only what committed is sent -------------------------------------------------------------


def test_message_of_a_rolled_back_transaction_is_never_delivered(make_tenant, stored):
    delivered = []

    @outbox.handler("test.record")
    def record(payload: dict[str, Any]) -> None:
        delivered.append(payload["n"])

    firm = make_tenant()
    with tenant_context(firm):
        outbox.enqueue("test.record", {"n": 1})
        db.session.flush()  # the row reached the database; then the change is abandoned
    db.session.rollback()

    assert outbox.drain() == 0
    assert delivered == []
    assert stored() == []


def test_committed_message_is_delivered_once_in_its_firms_context(make_tenant, stored):
    seen = []

    @outbox.handler("test.record")
    def record(payload: dict[str, Any]) -> None:
        seen.append((payload["n"], current_tenant_id()))

    first, second = make_tenant(), make_tenant()
    first_id, second_id = first.id, second.id
    enqueue_for(first, "test.record", {"n": 1})
    enqueue_for(second, "test.record", {"n": 2})
    with tenant_context(first):  # e.g. a password-reset mail asked for inside a firm's page
        outbox.enqueue("test.record", {"n": 3}, platform=True)
    db.session.commit()

    assert outbox.drain() == 3
    assert seen == [(1, first_id), (2, second_id), (3, None)]
    rows = stored()
    assert [row.tenant_id for row in rows] == [first_id, second_id, None]
    assert all(row.delivered_at is not None and row.attempts == 1 for row in rows)
    assert all(row.last_error is None and row.failed_at is None for row in rows)

    assert outbox.drain() == 0
    assert len(seen) == 3  # delivered once, not again


def test_enqueue_refuses_a_topic_nobody_delivers(make_tenant):
    with tenant_context(make_tenant()), pytest.raises(KeyError, match="test.nobody"):
        outbox.enqueue("test.nobody", {})


def test_handlers_writes_are_kept_with_the_delivery(make_tenant, distretto_database):
    @outbox.handler("test.acknowledge")
    def acknowledge(payload: dict[str, Any]) -> None:
        audit.record("test.acknowledged", summary={"order": payload["order"]})

    firm = make_tenant()
    firm_id = firm.id
    enqueue_for(firm, "test.acknowledge", {"order": "SO-7"})
    db.session.commit()

    assert outbox.drain() == 1
    assert (
        owner_count(
            distretto_database, audit.AuditEntry, tenant_id=firm_id, action="test.acknowledged"
        )
        == 1
    )


def test_failing_handlers_own_writes_are_undone_and_the_failure_recorded(
    make_tenant, stored, distretto_database
):
    @outbox.handler("test.half_done")
    def half_done(payload: dict[str, Any]) -> None:
        audit.record("test.half_done")
        db.session.flush()
        raise RuntimeError("the remote side hung up")

    firm = make_tenant()
    enqueue_for(firm, "test.half_done", {})
    db.session.commit()

    assert outbox.drain() == 1
    (row,) = stored()
    assert (row.attempts, row.delivered_at) == (1, None)
    assert row.last_error == "RuntimeError: the remote side hung up"
    assert owner_count(distretto_database, audit.AuditEntry, action="test.half_done") == 0


def test_handler_failing_in_the_database_does_not_stop_the_drain(
    make_tenant, stored, distretto_database
):
    delivered = []

    @outbox.handler("test.duplicate")
    def duplicate(payload: dict[str, Any]) -> None:
        db.session.add(TenantModule(module="already-there", enabled=True))
        db.session.flush()  # violates the firm's unique (tenant_id, module)

    @outbox.handler("test.record")
    def record(payload: dict[str, Any]) -> None:
        delivered.append(payload["n"])

    firm = make_tenant()
    with tenant_context(firm):
        db.session.add(TenantModule(module="already-there", enabled=True))
    enqueue_for(firm, "test.duplicate", {})
    enqueue_for(firm, "test.record", {"n": 1})
    db.session.commit()

    assert outbox.drain() == 2
    assert delivered == [1]
    failed, done = stored()
    assert (failed.attempts, failed.delivered_at) == (1, None)
    assert failed.last_error.startswith("IntegrityError")
    assert done.delivered_at is not None
    assert owner_count(distretto_database, TenantModule, module="already-there") == 1


# --- retries ----------------------------------------------------------------------------------


def test_failing_handler_is_retried_with_growing_backoff_then_given_up(stored, make_due):
    calls = []

    @outbox.handler("test.flaky")
    def flaky(payload: dict[str, Any]) -> None:
        calls.append(utcnow())
        raise ConnectionError("mail server unreachable")

    outbox.enqueue("test.flaky", {}, platform=True)
    db.session.commit()
    waits = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]  # seconds, capped at an hour
    assert outbox.MAX_ATTEMPTS == len(waits) + 1

    for attempt, seconds in enumerate(waits, start=1):
        before = utcnow()
        assert outbox.drain() == 1
        after = utcnow()
        (row,) = stored()
        assert row.attempts == attempt
        assert row.last_error == "ConnectionError: mail server unreachable"
        assert (row.delivered_at, row.failed_at) == (None, None)
        wait = timedelta(seconds=seconds)
        assert before + wait <= row.next_attempt_at <= after + wait

        assert outbox.drain() == 0  # not before its time
        assert len(calls) == attempt
        make_due(row.id)

    assert outbox.drain() == 1
    (row,) = stored()
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert row.failed_at is not None
    assert row.delivered_at is None

    make_due(row.id)
    assert outbox.drain() == 0  # failed for good: never tried again
    assert len(calls) == outbox.MAX_ATTEMPTS


def test_retried_message_is_delivered_when_the_handler_recovers(stored, make_due):
    outcomes = iter([ConnectionError("busy"), None])
    delivered = []

    @outbox.handler("test.recovers")
    def recovers(payload: dict[str, Any]) -> None:
        failure = next(outcomes)
        if failure:
            raise failure
        delivered.append(payload["n"])

    outbox.enqueue("test.recovers", {"n": 1}, platform=True)
    db.session.commit()
    assert outbox.drain() == 1
    (row,) = stored()
    make_due(row.id)

    assert outbox.drain() == 1
    assert delivered == [1]
    (row,) = stored()
    assert row.attempts == 2
    assert row.delivered_at is not None
    assert row.last_error == "ConnectionError: busy"  # the history of the last failure stays


def test_message_whose_handler_is_missing_in_the_worker_is_kept_for_later(stored):
    @outbox.handler("test.gone")
    def gone(payload: dict[str, Any]) -> None:
        raise AssertionError("not reached")

    outbox.enqueue("test.gone", {}, platform=True)
    db.session.commit()
    del outbox._handlers["test.gone"]  # a worker started without the module that queued it

    assert outbox.drain() == 1
    (row,) = stored()
    assert (row.attempts, row.delivered_at, row.failed_at) == (1, None, None)
    assert "test.gone" in row.last_error


# --- a worker that dies loses nothing ---------------------------------------------------------


class WorkerDied(Exception):
    pass


def test_message_claimed_by_a_worker_that_dies_before_commit_is_delivered_next(
    app, make_tenant, stored, is_postgres
):
    delivered = []

    @outbox.handler("test.record")
    def record(payload: dict[str, Any]) -> None:
        delivered.append(payload["n"])

    firm = make_tenant()
    enqueue_for(firm, "test.record", {"n": 1})
    db.session.commit()

    def claim_then_die() -> None:
        with app.app_context():  # a worker of its own (its own session)
            claimed = outbox._claim_next()
            assert claimed is not None
            assert claimed.payload == {"n": 1}
            if is_postgres:  # another worker passes over the message being delivered
                assert outbox.drain() == 0
            raise WorkerDied  # between the claim and the commit

    with pytest.raises(WorkerDied):
        claim_then_die()

    (row,) = stored()
    assert (row.attempts, row.delivered_at, row.failed_at) == (0, None, None)
    assert outbox.drain() == 1
    assert delivered == [1]


class _GatedSmtp(socketserver.StreamRequestHandler):
    """Minimal SMTP that holds every client before its greeting until ``release`` is set."""

    def handle(self) -> None:
        self.server.connected.set()  # type: ignore[attr-defined]
        self.server.release.wait(120)  # type: ignore[attr-defined]
        try:
            self._converse()
        except OSError:  # the client was killed while held
            return

    def _converse(self) -> None:
        self.wfile.write(b"220 stub ESMTP\r\n")
        lines: list[bytes] = []
        in_data = False
        while line := self.rfile.readline():
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    in_data = False
                    self.server.messages.append(b"".join(lines).decode())  # type: ignore[attr-defined]
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 end with .\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def gated_smtp() -> Iterator[Any]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _GatedSmtp)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    server.connected = threading.Event()  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def distretto_script() -> str:
    script = Path(sys.executable).with_name("distretto")
    return str(script) if script.exists() else shutil.which("distretto") or "distretto"


def worker_environment(database: Any, settings: dict[str, str]) -> dict[str, str]:
    """Environment for a ``distretto worker`` process on the test database."""
    config = database.config()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTRETTO_")}
    env.update({f"DISTRETTO_{key}": value for key, value in settings.items()})
    env.update(
        DISTRETTO_DATABASE_URL=config["DATABASE_URL"],
        DISTRETTO_SECRET_KEY=config["SECRET_KEY"],
        DISTRETTO_ENV_NAME="testing",
        PGAPPNAME=WORKER_APP_NAME,  # its connections can be told apart from the test's
    )
    return env


def smtp_settings(app: Any, server: Any) -> dict[str, str]:
    """Point this app and the worker's environment at ``server``."""
    port = server.server_address[1]
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, MAIL_FROM="d@district.example"
    )
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "MAIL_FROM": "d@district.example",
    }


def test_worker_killed_while_sending_a_mail_loses_nothing(
    app, make_tenant, gated_smtp, stored, distretto_database, tmp_path
):
    smtp = smtp_settings(app, gated_smtp)
    firm = make_tenant()
    with tenant_context(firm):
        mail.send_mail("buyer@example.com", "Order SO-7 confirmed", "See you.", platform=False)
    db.session.commit()

    env = worker_environment(distretto_database, smtp)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [distretto_script(), "worker", "--once"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # generous: the worker loads the whole application first
        assert gated_smtp.connected.wait(120), log_path.read_text()
        assert worker.poll() is None, log_path.read_text()
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # mid-delivery: no clean-up of any kind
        worker.wait()

    (row,) = stored()
    assert (row.attempts, row.delivered_at, row.failed_at) == (0, None, None)
    assert gated_smtp.messages == []

    gated_smtp.release.set()  # the mail server answers again
    deadline = time.monotonic() + 30
    # PostgreSQL frees the dead worker's lock once it sees the connection closed
    while outbox.drain() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(gated_smtp.messages) == 1
    assert "To: buyer@example.com" in gated_smtp.messages[0]
    (row,) = stored()
    assert row.delivered_at is not None
    assert row.attempts == 1
    assert outbox.drain() == 0
    assert len(gated_smtp.messages) == 1


# --- PostgreSQL: concurrent drains and row-level security -------------------------------------


@pytest.mark.postgres_only
def test_two_concurrent_drains_share_the_work_and_never_deliver_twice(app, make_tenant, stored):
    deliveries: list[tuple[int, str]] = []
    lock = threading.Lock()

    @outbox.handler("test.slow")
    def slow(payload: dict[str, Any]) -> None:
        time.sleep(0.02)  # long enough for the other drain to reach the next message
        with lock:
            deliveries.append((payload["n"], threading.current_thread().name))

    firm = make_tenant()
    with tenant_context(firm):
        for n in range(40):
            outbox.enqueue("test.slow", {"n": n})
    db.session.commit()

    start = threading.Barrier(2)
    handled: dict[str, int] = {}
    errors: list[BaseException] = []

    def drain_in_its_own_worker(name: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                handled[name] = outbox.drain()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=drain_in_its_own_worker, args=(name,), name=name)
        for name in ("drain-a", "drain-b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(n for n, _ in deliveries) == list(range(40))  # each one, once
    assert min(handled.values()) > 0  # both made progress
    assert handled["drain-a"] + handled["drain-b"] == 40
    assert {name for _, name in deliveries} == {"drain-a", "drain-b"}
    assert all(row.attempts == 1 and row.delivered_at is not None for row in stored())


@pytest.mark.postgres_only
def test_message_that_failed_in_one_drain_waits_its_backoff_in_the_other(app, stored):
    first_is_being_delivered, second_drain_done = threading.Event(), threading.Event()
    attempts_on_second: list[str] = []

    @outbox.handler("test.slow_first")
    def slow_first(payload: dict[str, Any]) -> None:
        first_is_being_delivered.set()
        assert second_drain_done.wait(30)

    @outbox.handler("test.failing_second")
    def failing_second(payload: dict[str, Any]) -> None:
        attempts_on_second.append(threading.current_thread().name)
        raise ConnectionError("refused")

    outbox.enqueue("test.slow_first", {}, platform=True)
    outbox.enqueue("test.failing_second", {}, platform=True)
    db.session.commit()
    errors: list[BaseException] = []

    def drain_a() -> None:
        try:
            with app.app_context():
                outbox.drain()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker_a = threading.Thread(target=drain_a, name="drain-a")
    worker_a.start()
    try:
        assert first_is_being_delivered.wait(30)
        assert outbox.drain() == 1  # drain B: passes over the first, tries the second, fails
    finally:
        second_drain_done.set()
        worker_a.join(timeout=60)
    assert not errors, errors
    assert attempts_on_second == ["MainThread"]  # drain A did not retry it at once
    first, second = stored()
    assert first.delivered_at is not None
    assert (second.attempts, second.delivered_at) == (1, None)
    assert second.next_attempt_at > utcnow()


@pytest.mark.postgres_only
def test_worker_keeps_delivering_after_its_database_connections_are_cut(
    app, make_tenant, gated_smtp, distretto_database, tmp_path
):
    gated_smtp.release.set()
    env = worker_environment(distretto_database, smtp_settings(app, gated_smtp))
    firm = make_tenant()

    def send_and_wait(subject: str, count: int) -> None:
        with tenant_context(firm):
            mail.send_mail("buyer@example.com", subject, "Body.", platform=False)
        db.session.commit()
        deadline = time.monotonic() + 120  # the worker loads the whole application first
        while len(gated_smtp.messages) < count and time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()
            time.sleep(0.1)
        assert len(gated_smtp.messages) == count, log_path.read_text()

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [distretto_script(), "worker", "--poll", "0.2"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        send_and_wait("First", 1)
        with distretto_database.owner_engine.connect() as connection:  # a database restart
            cut = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": WORKER_APP_NAME},
            ).scalar_one()
        assert cut >= 1
        send_and_wait("Second", 2)
        assert worker.poll() is None
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert "Subject: Second" in gated_smtp.messages[1]
    assert "database error" in log_path.read_text()


def visible_tenant_ids() -> set[int | None]:
    return set(db.session.execute(text("SELECT tenant_id FROM outbox_messages")).scalars())


@pytest.mark.postgres_only
def test_firm_cannot_reach_another_firms_outbox_rows_with_raw_sql(make_tenant):
    first, second = make_tenant(), make_tenant()
    first_id, second_id = first.id, second.id
    for firm in (first, second):
        enqueue_for(
            firm, "mail.send", {"to": f"{firm.slug}@example.com", "subject": "", "body": ""}
        )
    db.session.commit()

    with tenant_context(first):
        assert visible_tenant_ids() == {first_id}
        touched = db.session.execute(
            text("UPDATE outbox_messages SET attempts = 99 WHERE tenant_id = :other"),
            {"other": second_id},
        )
        assert touched.rowcount == 0
        with pytest.raises(ProgrammingError, match="row-level security"), db.session.begin_nested():
            db.session.execute(
                text(
                    "INSERT INTO outbox_messages (tenant_id, topic, payload, attempts,"
                    " next_attempt_at, created_at)"
                    " VALUES (:other, 'mail.send', '{}', 0, now(), now())"
                ),
                {"other": second_id},
            )
    with tenant_context(second):
        assert visible_tenant_ids() == {second_id}
    db.session.rollback()
    assert visible_tenant_ids() == set()  # no firm: only platform messages, and there are none


@pytest.mark.postgres_only
def test_drain_reads_every_firms_messages_but_each_handler_only_its_own(make_tenant, stored):
    seen = {}

    @outbox.handler("test.look_around")
    def look_around(payload: dict[str, Any]) -> None:
        seen[current_tenant_id()] = visible_tenant_ids()

    first, second = make_tenant(), make_tenant()
    first_id, second_id = first.id, second.id
    enqueue_for(first, "test.look_around", {})
    enqueue_for(second, "test.look_around", {})
    db.session.commit()

    assert outbox.drain() == 2
    assert seen == {first_id: {first_id}, second_id: {second_id}}
    assert all(row.delivered_at is not None for row in stored())


def test_a_message_given_up_tells_its_topic_in_its_firm(app, make_tenant, stored, make_due):
    firm = make_tenant()
    told = []

    def give_up(payload: dict[str, Any]) -> None:
        told.append((payload["n"], current_tenant_id()))

    @outbox.handler("test.hopeless", on_give_up=give_up)
    def hopeless(payload: dict[str, Any]) -> None:
        raise ConnectionError("never")

    with tenant_context(firm):
        outbox.enqueue("test.hopeless", {"n": 7})
        db.session.commit()
    for _attempt in range(outbox.MAX_ATTEMPTS - 1):
        assert outbox.drain() == 1
        assert told == []  # not while retries remain
        make_due(stored()[0].id)
    assert outbox.drain() == 1
    (row,) = stored()
    assert row.failed_at is not None
    assert told == [(7, firm.id)]
