"""The ``distretto`` command: what an operator types, and what it changes.

Most cases drive the commands through click's runner against the test app; one
runs the installed console script in a subprocess on a SQLite file of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from distretto.platform.audit import AuditEntry
from distretto.platform.auth.models import User
from distretto.platform.auth.passwords import MIN_LENGTH
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants.models import Invitation, Membership, Tenant

PASSWORD = "a-long-enough-password"
VALID_VAT = "04528710165"
OTHER_VALID_VAT = "01987650163"


def database_contents(distretto_database) -> dict[str, list[tuple]]:
    """Every row of every table, read as the owner (row-level security hides none)."""
    with distretto_database.owner_engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(str(value) for value in row) for row in conn.execute(table.select())),
            )
            for table in db.metadata.sorted_tables
        }


def row_counts(distretto_database) -> dict[str, int]:
    return {name: len(rows) for name, rows in database_contents(distretto_database).items()}


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=list(args))
        # every command leaves the session clean for the next one, like a new process
        db.session.rollback()
        return result

    return invoke


@pytest.fixture
def acme(make_tenant, make_user):
    tenant = make_tenant(slug="acme")
    owner = make_user(tenant, "owner", email="owner@acme.example")
    return tenant, owner


def tenant_row(slug: str) -> Tenant | None:
    return db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def roles_in(tenant: Tenant) -> dict[str, str]:
    with tenant_context(tenant):
        rows = db.session.execute(select(Membership.role, Membership.user_id)).all()
    emails = {u.id: u.email for u in db.session.execute(select(User)).scalars()}
    return {emails[user_id]: role for role, user_id in rows}


# --- db ------------------------------------------------------------------------------------------


def test_db_upgrade_on_a_migrated_database_changes_nothing_and_status_says_at_head(
    run, distretto_database
):
    before = row_counts(distretto_database)
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert row_counts(distretto_database) == before

    status = run("db", "status")
    assert status.exit_code == 0, status.output
    assert status.output.startswith("at head")


# --- tenants -------------------------------------------------------------------------------------


def test_tenants_create_list_suspend_resume(run):
    created = run(
        "tenants", "create", "officina-rossi", "--name", "Officina Rossi S.n.c.", "--vat",
        f"IT{VALID_VAT}", "--locale", "en",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    tenant = tenant_row("officina-rossi")
    assert tenant is not None
    assert (tenant.legal_name, tenant.vat_number, tenant.default_locale, tenant.status) == (
        "Officina Rossi S.n.c.",
        VALID_VAT,
        "en",
        "active",
    )

    listed = run("tenants", "list")
    assert listed.exit_code == 0
    assert f"officina-rossi\tactive\tIT{VALID_VAT}\tOfficina Rossi S.n.c." in listed.output

    suspended = run("tenants", "suspend", "officina-rossi", "--reason", "unpaid fees")
    assert suspended.exit_code == 0, suspended.output
    tenant = tenant_row("officina-rossi")
    assert (tenant.status, tenant.suspended_reason) == ("suspended", "unpaid fees")
    assert "officina-rossi\tsuspended" in run("tenants", "list").output

    resumed = run("tenants", "resume", "officina-rossi")
    assert resumed.exit_code == 0, resumed.output
    tenant = tenant_row("officina-rossi")
    assert (tenant.status, tenant.suspended_reason) == ("active", None)

    with tenant_context(tenant):
        actions = list(
            db.session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars()
        )
    assert actions[0] == "tenant.created"
    assert actions[-2:] == ["tenant.suspended", "tenant.resumed"]
    with tenant_context(tenant):
        request_ids = list(db.session.execute(select(AuditEntry.request_id)).scalars())
    assert all(rid and rid.startswith("cli-") for rid in request_ids)
    assert len(set(request_ids)) == 3  # one per command: create, suspend, resume
    assert run("audit", "verify", "officina-rossi").exit_code == 0


# --- users and operators -----------------------------------------------------------------------


def test_users_create_with_a_role_in_a_firm(run, acme):
    tenant, _owner = acme
    result = run(
        "users", "create", "Clerk@Acme.example", "--name", "Carla Clerk", "--password", PASSWORD,
        "--tenant", "acme", "--role", "admin",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "Clerk@Acme.example")).scalar_one()
    assert user.name == "Carla Clerk"
    assert not user.is_operator
    assert roles_in(tenant)[user.email] == "admin"


def test_users_create_asks_for_the_password_twice_when_not_given(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "prompted@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(User).where(User.email == "prompted@example.com")).scalar_one()


def test_users_grant_changes_the_role_of_an_existing_user(run, acme, make_user):
    tenant, _owner = acme
    user = make_user(email="accountant@studio.example")
    granted = run("users", "grant", "acme", "accountant@studio.example", "viewer")
    assert granted.exit_code == 0, granted.output
    assert roles_in(tenant)[user.email] == "viewer"
    regranted = run("users", "grant", "acme", "ACCOUNTANT@studio.example", "staff")
    assert regranted.exit_code == 0, regranted.output
    assert roles_in(tenant)[user.email] == "staff"


def test_users_invite_prints_a_working_single_use_link(run, acme, app):
    tenant, _owner = acme
    result = run("users", "invite", "acme", "newcomer@example.com", "--role", "staff")
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    base = app.config["BASE_URL"].rstrip("/")
    assert link.startswith(f"{base}/invitations/")
    with tenant_context(tenant):
        invitation = db.session.execute(select(Invitation)).scalar_one()
    assert (invitation.email, invitation.role, invitation.accepted_at) == (
        "newcomer@example.com",
        "staff",
        None,
    )
    page = app.test_client().get(link.removeprefix(base))
    assert page.status_code == 200


def test_operators_create_makes_a_platform_operator_without_firms(run, distretto_database):
    result = run("operators", "create", "it@district.example", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "it@district.example")).scalar_one()
    assert user.is_operator
    with distretto_database.owner_engine.connect() as conn:
        memberships = conn.execute(
            text("SELECT count(*) FROM memberships WHERE user_id = :id"), {"id": user.id}
        ).scalar_one()
    assert memberships == 0


# --- bad input -----------------------------------------------------------------------------------

BAD_INPUT = [
    pytest.param(
        ["tenants", "create", "acme-two", "--name", "Acme Two", "--vat", "12345678901"],
        "12345678901",
        id="tenant-bad-vat",
    ),
    pytest.param(
        ["tenants", "create", "api", "--name", "Api S.r.l.", "--vat", OTHER_VALID_VAT],
        "api",
        id="tenant-reserved-slug-api",
    ),
    pytest.param(
        ["tenants", "create", "login", "--name", "Login S.r.l.", "--vat", OTHER_VALID_VAT],
        "login",
        id="tenant-reserved-slug-login",
    ),
    pytest.param(
        ["tenants", "create", "acme", "--name", "Another Acme", "--vat", OTHER_VALID_VAT],
        "acme",
        id="tenant-duplicate-slug",
    ),
    pytest.param(
        ["tenants", "create", "Not A Slug!", "--name", "X S.r.l.", "--vat", OTHER_VALID_VAT],
        "",
        id="tenant-malformed-slug",
    ),
    pytest.param(
        [
            "tenants",
            "create",
            "acme-de",
            "--name",
            "Acme",
            "--vat",
            OTHER_VALID_VAT,
            "--locale",
            "de",
        ],
        "de",
        id="tenant-unsupported-locale",
    ),
    pytest.param(["tenants", "suspend", "ghost", "--reason", "x"], "ghost", id="suspend-unknown"),
    pytest.param(["tenants", "resume", "ghost"], "ghost", id="resume-unknown"),
    pytest.param(["tenants", "suspend", "acme", "--reason", "   "], "", id="suspend-blank-reason"),
    pytest.param(
        ["users", "create", "new@example.com", "--password", PASSWORD, "--tenant", "ghost"],
        "ghost",
        id="user-unknown-firm",
    ),
    pytest.param(
        [
            "users",
            "create",
            "new@example.com",
            "--password",
            PASSWORD,
            "--tenant",
            "acme",
            "--role",
            "boss",
        ],
        "boss",
        id="user-unknown-role",
    ),
    pytest.param(
        ["users", "create", "OWNER@acme.example", "--password", PASSWORD],
        "OWNER@acme.example",
        id="user-duplicate-email",
    ),
    pytest.param(
        ["users", "create", "new@example.com", "--password", "short"],
        str(MIN_LENGTH),
        id="user-short-password",
    ),
    pytest.param(
        ["users", "create", "not-an-address", "--password", PASSWORD],
        "not-an-address",
        id="user-bad-email",
    ),
    pytest.param(
        ["users", "grant", "ghost", "owner@acme.example", "staff"], "ghost", id="grant-unknown-firm"
    ),
    pytest.param(
        ["users", "grant", "acme", "owner@acme.example", "boss"], "boss", id="grant-unknown-role"
    ),
    pytest.param(
        ["users", "grant", "acme", "nobody@example.com", "staff"],
        "nobody@example.com",
        id="grant-unknown-user",
    ),
    pytest.param(
        ["users", "invite", "ghost", "new@example.com"], "ghost", id="invite-unknown-firm"
    ),
    pytest.param(
        ["users", "invite", "acme", "new@example.com", "--role", "boss"],
        "boss",
        id="invite-unknown-role",
    ),
    pytest.param(
        ["operators", "create", "owner@acme.example", "--password", PASSWORD],
        "owner@acme.example",
        id="operator-duplicate-email",
    ),
    pytest.param(
        ["operators", "create", "it@example.com", "--password", "short"],
        str(MIN_LENGTH),
        id="operator-short-password",
    ),
    pytest.param(["audit", "verify", "ghost"], "ghost", id="audit-unknown-firm"),
    pytest.param(["modules", "list", "ghost"], "ghost", id="modules-unknown-firm"),
    pytest.param(
        ["modules", "enable", "acme", "no-such-module"],
        "no-such-module",
        id="enable-unknown-module",
    ),
]


@pytest.mark.parametrize(("args", "named"), BAD_INPUT)
def test_bad_input_exits_non_zero_with_one_line_and_changes_nothing(
    run, acme, distretto_database, args, named
):
    before = database_contents(distretto_database)
    result = run(*args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert named in lines[0]
    assert "Traceback" not in result.output
    assert database_contents(distretto_database) == before


def test_missing_required_option_is_a_usage_error_that_changes_nothing(
    run, acme, distretto_database
):
    before = row_counts(distretto_database)
    result = run("tenants", "suspend", "acme")
    assert result.exit_code == 2
    assert "--reason" in result.output
    assert row_counts(distretto_database) == before


# --- demo and modules ----------------------------------------------------------------------------


def test_demo_seeds_three_firms_and_a_second_run_changes_nothing(run, distretto_database):
    from distretto.platform.demo import FIRMS

    first = run("demo")
    assert first.exit_code == 0, first.output
    slugs = [firm["slug"] for firm in FIRMS]
    tenants = [tenant_row(slug) for slug in slugs]
    assert all(tenants)
    assert len({t.vat_number for t in tenants}) == 3
    for firm, tenant in zip(FIRMS, tenants, strict=True):
        roles = roles_in(tenant)
        assert roles[firm["owner"][0]] == "owner"
        assert roles[firm["staff"][0]] == "staff"
    assert "/login" in first.output

    after_first = database_contents(distretto_database)
    second = run("demo")
    assert second.exit_code == 0, second.output
    assert database_contents(distretto_database) == after_first
    for slug in slugs:
        assert run("audit", "verify", slug).exit_code == 0


def test_modules_list_names_installed_modules_and_what_a_firm_enabled(run, acme, app):
    from distretto.platform.modules import registry

    listed = run("modules", "list")
    assert listed.exit_code == 0, listed.output
    for name in registry.modules:
        assert name in listed.output
    for_firm = run("modules", "list", "acme")
    assert for_firm.exit_code == 0, for_firm.output
    for name in registry.modules:
        assert f"off {name}" in for_firm.output or f"on {name}" in for_firm.output


# --- the installed console script ---------------------------------------------------------------


def _script_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTRETTO_")}
    env.update(
        DISTRETTO_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        DISTRETTO_SECRET_KEY="console-script-test-secret-key",
        DISTRETTO_BASE_URL="http://district.example",
        DISTRETTO_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def distretto_script() -> str:
    script = Path(sys.executable).with_name("distretto")
    return str(script) if script.exists() else shutil.which("distretto") or "distretto"


def error_line(stderr: str) -> str:
    """The one ``Error:`` line that ends the output (log lines may come before it)."""
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert stderr.strip().splitlines()[-1] == errors[0]
    return errors[0]


def test_console_script_migrates_onboards_and_refuses_bad_input(tmp_path):
    env = _script_env(tmp_path)

    def script(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [distretto_script(), *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )

    upgraded = script("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    status = script("db", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("at head")

    created = script("tenants", "create", "acme", "--name", "Acme S.r.l.", "--vat", VALID_VAT)
    assert created.returncode == 0, created.stderr
    reserved = script("tenants", "create", "api", "--name", "Api S.r.l.", "--vat", OTHER_VALID_VAT)
    assert reserved.returncode == 1
    assert "api" in error_line(reserved.stderr)
    with contextlib.closing(sqlite3.connect(tmp_path / "cli.sqlite3")) as conn:
        assert conn.execute("SELECT slug FROM tenants").fetchall() == [("acme",)]

    verified = script("audit", "verify", "acme")
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout

    broken = script("tenants", "list", DISTRETTO_DEFAULT_LOCALE="de")
    assert broken.returncode == 1
    assert "DISTRETTO_DEFAULT_LOCALE" in error_line(broken.stderr)
