"""The audit trail: written with the change, chained per firm, and tamper-evident.

Tampering is done the way an attacker with database access would do it: as the
database owner (on PostgreSQL the app's role cannot UPDATE or DELETE entries).
"""

from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from distretto.platform import audit
from distretto.platform.audit import AuditEntry, AuditHead, compute_hash
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants.models import Tenant
from distretto.tenants.services import find_tenant, grant, set_status
from distretto.testing.plugin import csrf_token

ENTRIES = AuditEntry.__table__
HEADS = AuditHead.__table__


def trail(tenant: Tenant) -> list[AuditEntry]:
    with tenant_context(tenant):
        return list(
            db.session.execute(
                select(AuditEntry)
                .order_by(AuditEntry.seq)
                .execution_options(populate_existing=True)
            ).scalars()
        )


def verify(tenant: Tenant) -> audit.VerifyResult:
    with tenant_context(tenant), force_locale("en"):
        return audit.verify()


@pytest.fixture
def firm_with_trail(app, make_tenant):
    """A firm whose trail has five entries (onboarding plus four changes), committed."""
    tenant = make_tenant()
    with tenant_context(tenant):
        for n in range(2, 6):
            audit.record("test.change", summary={"n": n, "amount": "12.50"})
    db.session.commit()
    assert [e.seq for e in trail(tenant)] == [1, 2, 3, 4, 5]
    db.session.commit()
    return tenant


def owner_execute(distretto_database, *statements):
    """Tamper as the database owner, outside the application's session."""
    with distretto_database.owner_engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)
    db.session.commit()  # end the session's snapshot, so it reads the database afresh


def entry_row(distretto_database, tenant_id: int, seq: int):
    with distretto_database.owner_engine.connect() as conn:
        return conn.execute(
            select(ENTRIES).where(ENTRIES.c.tenant_id == tenant_id, ENTRIES.c.seq == seq)
        ).one()


# --- written with the change ---------------------------------------------------------------


def test_service_change_and_its_audit_entry_are_committed_together(app, make_tenant, make_user):
    tenant = make_tenant()
    user = make_user()
    grant(tenant, user, "admin")
    db.session.commit()

    last = trail(tenant)[-1]
    assert last.action == "member.granted"
    assert last.object_type == "Membership"
    assert last.summary["user"] == user.email
    assert last.summary["role"] == [None, "admin"]
    assert verify(tenant).ok


def test_rolled_back_change_leaves_no_audit_entry_and_no_gap(app, make_tenant):
    tenant = make_tenant()
    before = [(e.seq, e.action, e.hash) for e in trail(tenant)]
    db.session.commit()

    set_status(tenant, "suspended", "unpaid invoices")
    assert trail(tenant)[-1].action == "tenant.suspended"  # written, not yet committed
    db.session.rollback()

    assert [(e.seq, e.action, e.hash) for e in trail(tenant)] == before
    assert db.session.get(Tenant, tenant.id).status == "active"
    assert verify(tenant).ok

    set_status(db.session.get(Tenant, tenant.id), "suspended", "unpaid invoices")
    db.session.commit()
    entries = trail(tenant)
    assert [e.seq for e in entries] == list(range(1, len(before) + 2))
    assert entries[-1].prev_hash == before[-1][2]
    assert verify(tenant).ok


def test_failed_cli_command_leaves_neither_the_firm_nor_its_audit_entry(app, distretto_database):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "tenants",
            "create",
            "half-made",
            "--name",
            "Half Made S.r.l.",
            "--vat",
            "04528710165",
            "--module",
            "no-such-module",
        ]
    )
    assert result.exit_code == 1
    assert "no-such-module" in result.output
    with distretto_database.owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 0


def test_entry_made_in_a_request_records_who_and_the_request_id(tenant_client):
    client, tenant, user = tenant_client("owner")
    token = csrf_token(client, f"/{tenant.slug}/settings/members")
    response = client.post(
        f"/{tenant.slug}/settings/members/invite",
        data={"email": "new.colleague@example.com", "role": "staff", "csrf_token": token},
        headers={"X-Request-ID": "req-audit-0001"},
    )
    assert response.status_code in (302, 303)
    assert response.headers["X-Request-ID"] == "req-audit-0001"
    db.session.commit()  # the request ran in its own session; read after it

    invited = [e for e in trail(tenant) if e.action == "member.invited"]
    assert len(invited) == 1
    assert invited[0].request_id == "req-audit-0001"
    assert invited[0].actor_id == user.id
    assert invited[0].actor_label == user.email
    assert invited[0].summary["email"] == "new.colleague@example.com"
    assert verify(tenant).ok


# --- the chain -------------------------------------------------------------------------------


def test_each_firm_has_its_own_chain_starting_at_one(app, make_tenant):
    first, second = make_tenant(), make_tenant()
    with tenant_context(first):
        audit.record("test.change", summary={"firm": "first"})
    db.session.commit()
    first_trail, second_trail = trail(first), trail(second)
    assert [e.seq for e in first_trail] == [1, 2]
    assert [e.seq for e in second_trail] == [1]
    assert first_trail[0].prev_hash == second_trail[0].prev_hash == audit.GENESIS
    assert first_trail[1].prev_hash == first_trail[0].hash
    assert verify(first).ok
    assert verify(second).ok


def test_intact_trail_verifies_and_the_cli_says_so(app, firm_with_trail):
    result = verify(firm_with_trail)
    assert result.ok, result.problems
    assert result.entries == 5
    assert result.head_seq == 5
    assert result.head_hash == trail(firm_with_trail)[-1].hash

    cli = app.test_cli_runner().invoke(args=["audit", "verify", firm_with_trail.slug])
    assert cli.exit_code == 0, cli.output
    assert "ok: 5 entries, chain intact" in cli.output


def _alter_summary(database, tenant):
    return [
        update(ENTRIES)
        .where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq == 3)
        .values(summary={"n": 3, "amount": "1250.00"})
    ]


def _alter_and_rehash(database, tenant):
    row = entry_row(database, tenant.id, 3)
    content = {
        "tenant_id": row.tenant_id,
        "seq": row.seq,
        "created_at": row.created_at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "actor_label": row.actor_label,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "summary": {"n": 3, "amount": "0.01"},
        "request_id": row.request_id,
        "prev_hash": row.prev_hash,
    }
    return [
        update(ENTRIES)
        .where(ENTRIES.c.id == row.id)
        .values(summary=content["summary"], hash=compute_hash(content))
    ]


def _delete_middle(database, tenant):
    return [delete(ENTRIES).where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq == 3)]


def _delete_last(database, tenant):
    return [delete(ENTRIES).where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq == 5)]


def _delete_last_two(database, tenant):
    return [delete(ENTRIES).where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq >= 4)]


def _delete_first(database, tenant):
    return [delete(ENTRIES).where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq == 1)]


def _swap_two(database, tenant):
    where = (ENTRIES.c.tenant_id == tenant.id,)
    return [
        update(ENTRIES).where(*where, ENTRIES.c.seq == 2).values(seq=-2),
        update(ENTRIES).where(*where, ENTRIES.c.seq == 3).values(seq=2),
        update(ENTRIES).where(*where, ENTRIES.c.seq == -2).values(seq=3),
    ]


def _rewrite_actor(database, tenant):
    return [
        update(ENTRIES)
        .where(ENTRIES.c.tenant_id == tenant.id, ENTRIES.c.seq == 4)
        .values(actor_label="somebody.else@example.com")
    ]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(_alter_summary, "entry 3: content altered", id="altered-summary"),
        pytest.param(_rewrite_actor, "entry 4: content altered", id="altered-actor"),
        pytest.param(_alter_and_rehash, "entry 4: does not follow entry 3", id="altered-rehashed"),
        pytest.param(_delete_middle, "entry 3: missing (deleted)", id="deleted-middle"),
        pytest.param(_delete_first, "entry 1: missing (deleted)", id="deleted-first"),
        pytest.param(_delete_last, "entry 5: missing (deleted from the end", id="deleted-last"),
        pytest.param(
            _delete_last_two, "entries 4 to 5: missing (deleted from the end", id="deleted-last-two"
        ),
        pytest.param(_swap_two, "entry 2: does not follow entry 1", id="reordered"),
    ],
)
def test_tampering_is_reported_by_verify_and_the_cli(
    app, firm_with_trail, distretto_database, tamper, expected
):
    tenant = firm_with_trail
    owner_execute(distretto_database, *tamper(distretto_database, tenant))

    result = verify(tenant)
    assert not result.ok
    assert any(expected in problem for problem in result.problems), result.problems
    db.session.commit()

    cli = app.test_cli_runner().invoke(args=["audit", "verify", tenant.slug])
    assert cli.exit_code == 1
    assert expected in cli.output
    assert f"audit trail of {tenant.slug} is NOT intact" in cli.output


def test_tampering_with_one_firm_does_not_taint_another(
    firm_with_trail, make_tenant, distretto_database
):
    other = make_tenant()
    owner_execute(distretto_database, *_delete_middle(distretto_database, firm_with_trail))
    assert not verify(firm_with_trail).ok
    assert verify(other).ok


def test_verify_of_an_unknown_firm_exits_non_zero_with_one_line(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify", "nobody-here"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "nobody-here" in result.output


# --- PostgreSQL: grants and concurrency ---------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET summary = '{}'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ],
)
def test_app_role_cannot_rewrite_or_delete_audit_entries(firm_with_trail, statement):
    with tenant_context(firm_with_trail):
        with pytest.raises(DBAPIError, match="permission denied"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert verify(firm_with_trail).ok


@pytest.mark.postgres_only
def test_concurrent_appends_on_postgres_make_one_gapless_unforked_chain(app, make_tenant):
    tenant = make_tenant()
    slug = tenant.slug
    writers = 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with app.app_context():
                own = find_tenant(slug)
                with tenant_context(own):
                    barrier.wait(timeout=30)
                    audit.record("test.concurrent", summary={"writer": n})
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    entries = trail(tenant)
    assert [e.seq for e in entries] == list(range(1, writers + 2))
    assert sorted(e.summary["writer"] for e in entries[1:]) == list(range(writers))
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash, f"fork at entry {entry.seq}"
    assert len({e.prev_hash for e in entries}) == len(entries)
    result = verify(tenant)
    assert result.ok, result.problems
    assert result.head_seq == writers + 1
