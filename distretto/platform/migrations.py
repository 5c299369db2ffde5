"""Migration support: where the history lives, row-level security, grants.

One Alembic history for the platform with a branch per module. Migration
scripts of tenant-owned tables call :func:`enable_tenant_rls` right after
``op.create_table`` so PostgreSQL enforces isolation even for raw SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def directory() -> str:
    return str(Path(__file__).resolve().parent.parent / "migrations")


def enable_tenant_rls(table: str, *, extra_using: str | None = None) -> None:
    """Enable and force row-level security on ``table`` (PostgreSQL only).

    ``extra_using`` widens what may be *read* (for example a person's own
    memberships across firms); writes are always held to the current firm.
    """
    from alembic import op

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    if extra_using:
        op.execute(
            f"CREATE POLICY tenant_isolation_read ON {table} FOR SELECT USING ({extra_using})"
        )


def disable_tenant_rls(table: str) -> None:
    from alembic import op

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation_read ON {table}")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


#: Tables the application may only append to (PostgreSQL enforces it by grants).
APPEND_ONLY_TABLES = ("audit_entries",)


def grant_app_role(config: dict[str, Any] | None = None) -> str | None:
    """Give the application's database role the rights it needs, and no more.

    The app connects with ``DATABASE_URL``; migrations run with
    ``MIGRATION_DATABASE_URL`` (the owner). When the two users differ, the app's
    role gets row access to every table, sequences, and no UPDATE/DELETE on the
    append-only audit trail. Returns the role granted, or None.
    """
    config = config or current_app.config
    app_url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    owner_url = make_url(config["MIGRATION_DATABASE_URL"])
    if app_url.get_backend_name() != "postgresql" or app_url.username == owner_url.username:
        return None
    role = app_url.username
    engine = create_engine(owner_url)
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote(role)
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
            conn.execute(
                text(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                    f"TO {quoted}"
                )
            )
            conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
            conn.execute(text(f"REVOKE ALL ON alembic_version FROM {quoted}"))
            conn.execute(text(f"GRANT SELECT ON alembic_version TO {quoted}"))
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}"))
    finally:
        engine.dispose()
    return role


def heads() -> set[str]:
    """The head revision of every branch (the kernel's and each module's)."""
    return set(_script_directory().get_heads())


def _script_directory() -> Any:
    """The migration scripts, read once per app: they only change with a deploy."""
    from alembic.script import ScriptDirectory

    from distretto.platform.extensions import migrate

    script = current_app.extensions.get("distretto.migration_scripts")
    if script is None:
        script = ScriptDirectory.from_config(migrate.get_config())
        current_app.extensions["distretto.migration_scripts"] = script
    return script


def current_revisions() -> set[str]:
    """The revisions recorded in ``alembic_version``; empty when never migrated."""
    from sqlalchemy.exc import DBAPIError

    from distretto.platform.extensions import db

    try:
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return set(rows)
    except DBAPIError as exc:
        db.session.rollback()
        if _is_missing_table(exc):
            return set()
        raise


def _is_missing_table(exc: Exception) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in message or "does not exist" in message


def applied_revisions(current: set[str]) -> set[str] | None:
    """Every revision the database has, given what ``alembic_version`` records.

    Alembic records only the tips: a revision that another one ``depends_on``
    (a module's branch on the kernel's) or that lies below a tip is implied.
    None when a recorded revision is not among this code's scripts.
    """
    from alembic.util import CommandError

    script = _script_directory()
    applied: set[str] = set()
    pending = list(current)
    while pending:
        identifier = pending.pop()
        try:
            revisions = script.get_revisions(identifier)
        except CommandError:
            return None
        for revision in revisions:
            if revision is None or revision.revision in applied:
                continue
            applied.add(revision.revision)
            pending.extend(_as_tuple(revision.down_revision))
            pending.extend(_as_tuple(revision.dependencies))
    return applied


def _as_tuple(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def schema_status() -> str:
    """``at head``, ``not migrated``, ``behind head`` or ``ahead of this code``.

    Only ``at head`` is fit to serve: behind, the code expects tables that are
    not there yet; ahead, the database was migrated by a newer release.
    """
    current = current_revisions()
    if not current:
        return "not migrated"
    applied = applied_revisions(current)
    if applied is None:
        return "ahead of this code"
    return "at head" if heads() <= applied else "behind head"
