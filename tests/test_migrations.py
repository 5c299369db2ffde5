"""Migrations: from an empty database to head and back, matching the models.

Each test migrates a database of its own (a temporary SQLite file, or a
throwaway PostgreSQL database made through the admin connection), never the
session's shared one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from distretto.platform.app import create_app
from distretto.platform.db import db, tenant_tables
from distretto.testing.plugin import APP_ROLE

EXPRESSION_INDEX_WARNINGS = (
    "ignore:Skipped unsupported reflection of expression-based index",
    "ignore:autogenerate skipping metadata-specified expression-based index",
)


@pytest.fixture
def fresh_database(distretto_database, tmp_path) -> Iterator[tuple[URL, URL]]:
    """``(app_url, owner_url)`` of an empty database of the session's kind."""
    if not distretto_database.is_postgres:
        url = make_url(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
        yield url, url
        return
    name = f"distretto_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(distretto_database.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    owner = distretto_database.admin_url.set(database=name)
    try:
        yield owner.set(username=APP_ROLE, password=None), owner
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def fresh_app(distretto_database, fresh_database, tmp_path) -> Iterator[Any]:
    app_url, owner_url = fresh_database
    config = distretto_database.config()
    config.update(
        DATABASE_URL=app_url.render_as_string(hide_password=False),
        MIGRATION_DATABASE_URL=owner_url.render_as_string(hide_password=False),
        INSTANCE_PATH=str(tmp_path / "instance"),
    )
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def owner_engine(app: Any) -> Any:
    return create_engine(app.config["MIGRATION_DATABASE_URL"])


def schema_diffs(app: Any) -> list[Any]:
    engine = owner_engine(app)
    try:
        with app.app_context(), engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def tables_in(app: Any) -> set[str]:
    engine = owner_engine(app)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.filterwarnings(*EXPRESSION_INDEX_WARNINGS)
def test_empty_database_upgrades_to_head_matching_the_models_and_downgrades_to_base(fresh_app):
    assert tables_in(fresh_app) == set()
    before = cli(fresh_app, "db", "status")
    assert before.exit_code == 1
    assert before.output.startswith("not migrated")

    upgraded = cli(fresh_app, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    status = cli(fresh_app, "db", "status")
    assert status.exit_code == 0, status.output
    assert status.output.startswith("at head")

    model_tables = {table.name for table in db.metadata.sorted_tables}
    assert tables_in(fresh_app) == model_tables | {"alembic_version"}
    assert schema_diffs(fresh_app) == []

    downgraded = cli(fresh_app, "db", "downgrade", "base")
    assert downgraded.exit_code == 0, downgraded.output
    assert tables_in(fresh_app) <= {"alembic_version"}
    after = cli(fresh_app, "db", "status")
    assert after.exit_code == 1
    assert after.output.startswith("not migrated")

    # and back up again: the downgrade left nothing behind that trips the upgrade
    again = cli(fresh_app, "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert schema_diffs(fresh_app) == []
    assert cli(fresh_app, "db", "status").exit_code == 0


@pytest.mark.postgres_only
def test_postgres_upgrade_creates_row_level_security_and_downgrade_removes_every_policy(fresh_app):
    assert cli(fresh_app, "db", "upgrade").exit_code == 0
    engine = owner_engine(fresh_app)
    try:
        with engine.connect() as conn:
            forced = dict(
                conn.execute(
                    text(
                        "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
                        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                    )
                ).all()
            )
            for table in tenant_tables():
                assert forced[table.name], f"{table.name} lacks forced row-level security"
        assert cli(fresh_app, "db", "downgrade", "base").exit_code == 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_policies")).scalar_one() == 0
    finally:
        engine.dispose()


def test_status_says_behind_head_after_a_partial_upgrade(fresh_app):
    with fresh_app.app_context():
        from distretto.platform.migrations import heads

        first_heads = heads()
    partial = cli(fresh_app, "db", "upgrade", "--revision", "0001_kernel")
    assert partial.exit_code == 0, partial.output
    status = cli(fresh_app, "db", "status")
    assert status.exit_code == 1
    assert status.output.startswith("behind head")
    for head in first_heads:
        assert head in status.output

    assert cli(fresh_app, "db", "upgrade").exit_code == 0
    assert cli(fresh_app, "db", "status").output.startswith("at head")


def test_status_says_ahead_when_the_database_was_migrated_by_a_newer_release(fresh_app):
    assert cli(fresh_app, "db", "upgrade").exit_code == 0
    engine = owner_engine(fresh_app)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('from_the_future')"))
    finally:
        engine.dispose()
    status = cli(fresh_app, "db", "status")
    assert status.exit_code == 1
    assert status.output.startswith("ahead of this code")
