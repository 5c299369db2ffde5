"""pytest fixtures for Distretto and third-party modules (entry point ``pytest11``).

A module's tests get a migrated database, an app, firms, people and signed-in
clients without writing any of it:

* ``DISTRETTO_TEST_DATABASE_URL`` unset: a SQLite file per test session.
* set to a PostgreSQL URL of a superuser (``postgresql://postgres@127.0.0.1/postgres``):
  a fresh database per session (and per xdist worker), migrated as the owner,
  with the app connecting as the unprivileged role ``distretto_app`` so that
  row-level security is in force exactly as in production.

Tables are emptied after every test, so each test starts from a clean,
migrated database.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_PASSWORD = "correct-horse-battery"  # noqa: S105
APP_ROLE = "distretto_app"
_counter = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "distretto_extra_modules",
        type="linelist",
        default=[],
        help="Modules ('package.module:object') loaded into every test app, besides entry points.",
    )


_extra_modules: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    _extra_modules[:] = config.getini("distretto_extra_modules")
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL; skipped on SQLite")
    config.addinivalue_line("markers", "sqlite_only: meaningful on SQLite only")


def _vat(seed: int) -> str:
    from stdnum import luhn

    base = f"{(seed * 7919) % 10_000_000:07d}001"
    return base + luhn.calc_check_digit(base)


_CSRF_RE = re.compile(
    r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"'
    r'|<meta name="csrf-token" content="([^"]+)"'
)


def csrf_token(client: Any, path: str = "/login") -> str:
    """A valid CSRF token for ``client``'s session, read from a real page."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    if not match:
        raise AssertionError(f"no CSRF token on {path}")
    return match.group(1) or match.group(2)


class TestDatabase:
    """One migrated database for the session; knows how to empty itself."""

    def __init__(self, tmp: Path, worker: str) -> None:
        url = os.environ.get("DISTRETTO_TEST_DATABASE_URL", "").strip()
        self.is_postgres = url.startswith("postgres")
        if self.is_postgres:
            admin = make_url(url.replace("postgres://", "postgresql://", 1)).set(
                drivername="postgresql+psycopg"
            )
            name = f"distretto_test_{re.sub(r'[^a-z0-9_]', '_', worker.lower())}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                conn.execute(text(f"CREATE DATABASE {name}"))
                exists = conn.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}
                ).first()
                if not exists:
                    conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
            engine.dispose()
            self.admin_url = admin
            self.owner_url = admin.set(database=name)
            self.app_url = self.owner_url.set(username=APP_ROLE, password=None)
            self.name = name
        else:
            path = tmp / f"distretto-test-{worker}.sqlite3"
            self.owner_url = self.app_url = make_url(f"sqlite:///{path}")
        self.instance = tmp / f"instance-{worker}"
        self.instance.mkdir(exist_ok=True)
        self.owner_engine = create_engine(self.owner_url)

    def config(self) -> dict[str, Any]:
        return {
            "TESTING": True,
            "ENV_NAME": "testing",
            "DATABASE_URL": self.app_url.render_as_string(hide_password=False),
            "MIGRATION_DATABASE_URL": self.owner_url.render_as_string(hide_password=False),
            "INSTANCE_PATH": str(self.instance),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "BASE_URL": "http://localhost",
            "SERVER_NAME": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_LEVEL": "WARNING",
            "EXTRA_MODULES": list(_extra_modules),
        }

    def migrate(self, app: Any) -> None:
        import flask_migrate

        from distretto.platform.migrations import directory, grant_app_role

        with app.app_context():
            flask_migrate.upgrade(directory=directory(), revision="heads")
            grant_app_role()

    def empty(self) -> None:
        from distretto.platform.db import db

        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with self.owner_engine.begin() as conn:
            if self.is_postgres:
                existing = set(
                    conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    ).scalars()
                )
                names = ", ".join(t for t in tables if t in existing)
                if names:
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                existing = set(
                    conn.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'table'")
                    ).scalars()
                )  # a broken module's models may be imported without their tables
                for name in tables:
                    if name in existing:
                        conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our own names

    def drop(self) -> None:
        self.owner_engine.dispose()
        if self.is_postgres:
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
            engine.dispose()


@pytest.fixture(scope="session")
def distretto_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    from distretto.platform.app import create_app

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    database = TestDatabase(tmp_path_factory.mktemp("distretto"), worker)
    database.migrate(create_app(database.config()))
    yield database
    database.drop()


@pytest.fixture
def app_config(distretto_database: TestDatabase) -> dict[str, Any]:
    """Override in a test module to change settings; the database stays the session's."""
    return distretto_database.config()


def _settle_test_session() -> None:
    """End the test's own transaction around each request.

    The test's session and the request's are two connections, as with two
    server processes: the test's work must be committed for the request to see
    it, and an open read transaction kept across a request's write would pin
    an old SQLite snapshot (its next write then fails with "database is
    locked"). Committing also expires the test's objects, so after a request
    they show what the request did.
    """
    from distretto.platform.db import db

    session = db.session()
    if session.in_transaction():
        session.commit()


def _isolated_client_class() -> type:
    from flask.testing import FlaskClient

    class IsolatedClient(FlaskClient):
        """Runs every request in its own application context, as a server does.

        Without this a request reuses the test's app context, so ``g`` (the
        signed-in user Flask-Login caches there, the CSRF token, the firm) and
        the database session leak from one request, and one client, to the next.
        """

        def open(self, *args: Any, **kwargs: Any) -> Any:
            if self.preserve_context:
                return super().open(*args, **kwargs)
            _settle_test_session()
            try:
                return contextvars.Context().run(super().open, *args, **kwargs)
            finally:
                _settle_test_session()

    return IsolatedClient


@pytest.fixture
def app(app_config: dict[str, Any], distretto_database: TestDatabase) -> Iterator[Any]:
    from distretto.platform.app import create_app
    from distretto.platform.db import db

    application = create_app(app_config)
    application.test_client_class = _isolated_client_class()
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    distretto_database.empty()


@pytest.fixture
def is_postgres(distretto_database: TestDatabase) -> bool:
    return distretto_database.is_postgres


@pytest.fixture(autouse=True)
def _skip_by_database(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres_only") or request.node.get_closest_marker(
        "sqlite_only"
    ):
        database = request.getfixturevalue("distretto_database")
        if request.node.get_closest_marker("postgres_only") and not database.is_postgres:
            pytest.skip("needs PostgreSQL: set DISTRETTO_TEST_DATABASE_URL (CI runs it)")
        if request.node.get_closest_marker("sqlite_only") and database.is_postgres:
            pytest.skip("SQLite-specific")


def _end_stale_read(db: Any) -> None:
    """End the test's open transaction before a factory writes.

    On SQLite (WAL) a transaction that read before a request committed cannot
    then write ("database is locked"); starting afresh sees the request's work.
    """
    db.session.commit()


@pytest.fixture
def make_tenant(app: Any) -> Callable[..., Any]:
    """``make_tenant(slug=None, modules=None, **fields)`` -> a committed Tenant."""
    from distretto.platform.db import db
    from distretto.tenants.services import create_tenant

    def factory(slug: str | None = None, modules: list[str] | None = None, **fields: Any) -> Any:
        _end_stale_read(db)
        n = next(_counter)
        tenant = create_tenant(
            slug or f"firm-{n}",
            fields.pop("legal_name", f"Firm {n} S.r.l."),
            fields.pop("vat_number", _vat(n)),
            default_locale=fields.pop("default_locale", "en"),
            modules=modules,
        )
        for key, value in fields.items():
            setattr(tenant, key, value)
        db.session.commit()
        return tenant

    return factory


@pytest.fixture
def make_user(app: Any) -> Callable[..., Any]:
    """``make_user(tenant=None, role="staff", email=None, operator=False)`` -> a committed User."""
    from distretto.platform.db import db
    from distretto.tenants.services import create_user, grant

    def factory(
        tenant: Any = None,
        role: str = "staff",
        email: str | None = None,
        password: str = TEST_PASSWORD,
        operator: bool = False,
        name: str = "",
    ) -> Any:
        _end_stale_read(db)
        n = next(_counter)
        user = create_user(
            email or f"user{n}@example.com", password, name or f"User {n}", operator=operator
        )
        if tenant is not None:
            grant(tenant, user, role)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(app: Any) -> Callable[..., Any]:
    """``login(user)`` -> a test client signed in as ``user`` (through the real form)."""

    def factory(user: Any, password: str = TEST_PASSWORD) -> Any:
        client = app.test_client()
        response = client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": csrf_token(client)},
            follow_redirects=False,
        )
        assert response.status_code == 302, f"login of {user.email} failed: {response.status_code}"
        return client

    return factory


@pytest.fixture
def tenant_client(make_tenant: Any, make_user: Any, login: Any) -> Callable[..., Any]:
    """``tenant_client(role="owner", modules=None)`` -> (client, tenant, user)."""

    def factory(role: str = "owner", modules: list[str] | None = None, **tenant_fields: Any) -> Any:
        tenant = make_tenant(modules=modules, **tenant_fields)
        user = make_user(tenant, role)
        return login(user), tenant, user

    return factory


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for ``route_case`` runs once per declared route case (cross-firm sweep)."""
    if "route_case" in metafunc.fixturenames:
        from distretto.testing.routes import parametrize_route_cases

        parametrize_route_cases(metafunc)


@pytest.fixture
def route_sweep(
    app: Any, distretto_database: TestDatabase, make_tenant: Any, make_user: Any, login: Any
) -> Any:
    """``route_sweep(case)``: the cross-firm checks of one route (distretto.testing.routes)."""
    from distretto.testing.routes import RouteSweep

    return RouteSweep(app, distretto_database.owner_engine, make_tenant, make_user, login)
