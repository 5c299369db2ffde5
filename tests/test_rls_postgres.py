"""PostgreSQL's row-level security: the second wall, which holds without the ORM guard.

Every test here goes around the guard on purpose (``text()`` SQL through the
application's own connection, role ``distretto_app``) and shows the database
itself keeping the firms apart. The catalogue check walks whatever tables exist,
so a module's tables are covered the day its migration lands.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from distretto.platform import audit
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import TenantModule

pytestmark = pytest.mark.postgres_only

RLS_REFUSAL = "row-level security"
NO_PRIVILEGE = "permission denied"


def _seed_firm(tenant: Any, *users: Any) -> SimpleNamespace:
    from distretto.tenants.services import grant

    for user in users:
        grant(tenant, user, "staff")
    with tenant_context(tenant):
        db.session.add(TenantModule(module="orders", enabled=True))
        db.session.flush()
    return SimpleNamespace(tenant=tenant, id=tenant.id)


@pytest.fixture
def firms(make_tenant: Any) -> SimpleNamespace:
    """Firms A and B with the same kinds of rows; an accountant belongs to both."""
    from distretto.tenants.services import create_user

    accountant = create_user("accountant@example.com", None)
    clerk_a = create_user("clerk.a@example.com", None)
    clerk_b = create_user("clerk.b@example.com", None)
    a = _seed_firm(make_tenant(slug="firm-a"), accountant, clerk_a)
    b = _seed_firm(make_tenant(slug="firm-b"), accountant, clerk_b)
    db.session.commit()
    return SimpleNamespace(a=a, b=b, clerk_a_id=clerk_a.id)


def owner_count(database: Any, sql: str, **params: Any) -> int:
    with database.owner_engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def tenant_tables(database: Any) -> list[str]:
    """Every table of schema public whose tenant_id is NOT NULL (a firm's own rows)."""
    with database.owner_engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
                    "  AND a.attnum > 0 AND NOT a.attisdropped "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnotnull "
                    "ORDER BY c.relname"
                )
            ).scalars()
        )


def raw(sql: str, **params: Any) -> list[Any]:
    return list(db.session.execute(text(sql), params))


def test_app_connection_runs_as_the_unprivileged_role(app):
    assert raw("SELECT current_user")[0][0] == "distretto_app"


def test_raw_sql_in_firm_a_sees_only_firm_as_rows(firms, distretto_database):
    with tenant_context(firms.a.tenant):
        members = raw("SELECT tenant_id, user_id FROM memberships")
        modules = raw("SELECT tenant_id FROM tenant_modules")
        trail = raw("SELECT DISTINCT tenant_id FROM audit_entries")
        joined = raw(
            "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.email"
        )
    assert {tenant for tenant, _user in members} == {firms.a.id}
    assert len(members) == 2
    assert [row[0] for row in modules] == [firms.a.id]
    assert [row[0] for row in trail] == [firms.a.id]
    assert [row[0] for row in joined] == ["accountant@example.com", "clerk.a@example.com"]
    # the rows of B are there: the database hid them
    assert owner_count(distretto_database, "SELECT count(*) FROM memberships") == 4


def test_every_tenant_table_hides_other_firms_rows_and_all_rows_without_a_firm(
    firms, distretto_database
):
    tables = tenant_tables(distretto_database)
    assert {"memberships", "audit_entries", "audit_heads", "tenant_modules"} <= set(tables)
    with tenant_context(firms.a.tenant):
        pid_in_a = raw("SELECT pg_backend_pid()")[0][0]
        foreign = {
            table: raw(f"SELECT count(*) FROM {table} WHERE tenant_id <> :a", a=firms.a.id)[0][0]  # noqa: S608
            for table in tables
        }
    db.session.commit()
    # the next transaction on the same pooled connection, with no firm: the
    # transaction-local setting did not outlive the transaction that set it
    assert raw("SELECT pg_backend_pid()")[0][0] == pid_in_a
    unscoped = {table: raw(f"SELECT count(*) FROM {table}")[0][0] for table in tables}  # noqa: S608
    db.session.rollback()
    assert foreign == dict.fromkeys(tables, 0)
    assert unscoped == dict.fromkeys(tables, 0)
    for table in ("memberships", "audit_entries", "audit_heads", "tenant_modules"):
        assert owner_count(distretto_database, f"SELECT count(*) FROM {table}") >= 2  # noqa: S608


def test_raw_insert_carrying_another_firms_tenant_id_is_refused(firms, distretto_database):
    insert = (
        "INSERT INTO tenant_modules (tenant_id, module, enabled, changed_at) "
        "VALUES (:t, 'inventory', true, now())"
    )
    with pytest.raises(ProgrammingError, match=RLS_REFUSAL), tenant_context(firms.a.tenant):
        db.session.execute(text(insert), {"t": firms.b.id})
    db.session.rollback()
    # with no firm at all, not even a row of a real firm gets in
    with pytest.raises(ProgrammingError, match=RLS_REFUSAL):
        db.session.execute(text(insert), {"t": firms.a.id})
    db.session.rollback()
    # the same statement for the firm in context is accepted
    with tenant_context(firms.a.tenant):
        db.session.execute(text(insert), {"t": firms.a.id})
    db.session.commit()
    sql = "SELECT count(*) FROM tenant_modules WHERE tenant_id = :t AND module = 'inventory'"
    assert owner_count(distretto_database, sql, t=firms.b.id) == 0
    assert owner_count(distretto_database, sql, t=firms.a.id) == 1


def test_raw_update_or_delete_cannot_reach_or_move_rows_across_firms(firms, distretto_database):
    with pytest.raises(ProgrammingError, match=RLS_REFUSAL), tenant_context(firms.a.tenant):
        db.session.execute(
            text("UPDATE memberships SET tenant_id = :b WHERE user_id = :clerk"),
            {"b": firms.b.id, "clerk": firms.clerk_a_id},
        )
    db.session.rollback()
    with tenant_context(firms.a.tenant):
        touched = db.session.execute(
            text("UPDATE tenant_modules SET enabled = false WHERE tenant_id = :b"),
            {"b": firms.b.id},
        ).rowcount
        removed = db.session.execute(
            text("DELETE FROM memberships WHERE tenant_id = :b"), {"b": firms.b.id}
        ).rowcount
    db.session.commit()
    assert (touched, removed) == (0, 0)
    assert (
        owner_count(
            distretto_database,
            "SELECT count(*) FROM memberships WHERE tenant_id = :b",
            b=firms.b.id,
        )
        == 2
    )
    assert (
        owner_count(
            distretto_database,
            "SELECT count(*) FROM tenant_modules WHERE tenant_id = :b AND enabled",
            b=firms.b.id,
        )
        == 1
    )


def test_audit_trail_is_append_only_for_the_app_role(firms, distretto_database):
    with tenant_context(firms.a.tenant):
        audit.record("test.appended", summary={"why": "appending is allowed"})
    db.session.commit()
    count = "SELECT count(*) FROM audit_entries WHERE tenant_id = :a"
    before = owner_count(distretto_database, count, a=firms.a.id)
    for statement in (
        "UPDATE audit_entries SET action = 'rewritten'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ):
        # inside A's own context: the refusal is the grant, not row visibility
        with pytest.raises(ProgrammingError, match=NO_PRIVILEGE), tenant_context(firms.a.tenant):
            db.session.execute(text(statement))
        db.session.rollback()
    assert owner_count(distretto_database, count, a=firms.a.id) == before
    assert (
        owner_count(
            distretto_database,
            "SELECT count(*) FROM audit_entries WHERE action = 'test.appended'",
        )
        == 1
    )


# --- the catalogue ---------------------------------------------------------------------------

TENANT_SETTING = "app.tenant_id"
POLICIES = """
SELECT p.polname, p.polcmd, p.polpermissive,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
FROM pg_policy p
WHERE p.polrelid = :oid
  AND (0 = ANY (p.polroles)
       OR (SELECT oid FROM pg_roles WHERE rolname = current_user) = ANY (p.polroles))
"""


def test_catalogue_every_table_with_tenant_id_is_forced_under_row_level_security(firms):
    """Walks every table of schema public that has a tenant_id column, as the app sees it."""
    tables = raw(
        "SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
        "  AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    names = {row.relname for row in tables}
    assert {"memberships", "invitations", "audit_entries", "audit_heads", "tenant_modules"} <= (
        names
    )
    problems = []
    for table in tables:
        if not table.relrowsecurity:
            problems.append(f"{table.relname}: row-level security not enabled")
        if not table.relforcerowsecurity:
            problems.append(f"{table.relname}: row-level security not forced (owner bypasses)")
        policies = raw(POLICIES, oid=table.oid)
        if not any(
            p.polcmd == "*"
            and p.polpermissive
            and TENANT_SETTING in (p.using_expr or "")
            and TENANT_SETTING in (p.check_expr or "")
            for p in policies
        ):
            problems.append(
                f"{table.relname}: no policy for all commands with USING and WITH CHECK "
                f"on {TENANT_SETTING}"
            )
        for p in policies:
            # permissive policies add up: a looser one that covers writes opens them
            if not p.polpermissive:
                continue
            if p.polcmd in ("*", "w", "d") and TENANT_SETTING not in (p.using_expr or ""):
                problems.append(f"{table.relname}: policy {p.polname} reaches rows of any firm")
            if p.polcmd in ("*", "a", "w") and TENANT_SETTING not in (p.check_expr or ""):
                problems.append(f"{table.relname}: policy {p.polname} writes rows of any firm")
    assert problems == []


def test_catalogue_the_app_role_cannot_bypass_row_level_security(firms):
    role = raw("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")[
        0
    ]
    assert role.rolname == "distretto_app"
    assert (role.rolsuper, role.rolbypassrls) == (False, False)
    assert raw("SELECT tablename FROM pg_tables WHERE tableowner = current_user") == []
    owned = raw(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relowner = "
        "  (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    )
    assert owned == []  # no table, sequence or view either
    # nor can it become an owner: it is no member of any role owning a relation here
    owners = raw(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
    )
    assert owners
    assert [
        o.owner
        for o in owners
        if raw("SELECT pg_has_role(current_user, :o, 'MEMBER')", o=o.owner)[0][0]
    ] == []


def test_catalogue_no_view_or_function_reads_tenant_rows_with_its_owners_rights(firms):
    """Views run as their owner unless security_invoker; SECURITY DEFINER functions too."""
    views = raw(
        "SELECT c.relname, c.relkind, coalesce(c.reloptions, '{}') AS options FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')"
    )
    unsafe_views = [
        v.relname
        for v in views
        if v.relkind == "m" or not {"security_invoker=true", "security_invoker=on"} & set(v.options)
    ]
    definers = raw(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.prosecdef"
    )
    assert unsafe_views == []
    assert [d.proname for d in definers] == []
