"""What the benchmarks share: a fresh migrated database, the app, timers and sizes.

Every benchmark builds its own database (a temporary SQLite file, or a fresh
PostgreSQL database when ``DISTRETTO_BENCH_DATABASE_URL`` names a server), the
same way the test suite does, runs the app as a server would and prints
numbers. Machines here are shared and noisy, so each benchmark also measures a
baseline in the same run and prints the ratio: compare ratios between runs,
not absolute times.
"""

from __future__ import annotations

import contextvars
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway account in a throwaway database


@contextmanager
def bench_app(name: str, **config: Any) -> Iterator[tuple[Any, Any]]:
    """``(app, database)`` on a new migrated database, inside an app context."""
    from distretto.platform.app import create_app
    from distretto.platform.db import db
    from distretto.testing.plugin import TestDatabase

    url = os.environ.get("DISTRETTO_BENCH_DATABASE_URL", "").strip()
    saved = os.environ.get("DISTRETTO_TEST_DATABASE_URL")
    os.environ["DISTRETTO_TEST_DATABASE_URL"] = url
    try:
        with tempfile.TemporaryDirectory(prefix=f"distretto-bench-{name}-") as tmp:
            database = TestDatabase(Path(tmp), f"bench_{name}")
            settings = {**database.config(), "TESTING": False, "ENV_NAME": "testing"}
            settings.update(config)
            database.migrate(create_app(settings))
            app = create_app(settings)
            try:
                with app.app_context():
                    yield app, database
                    db.session.remove()
                    db.engine.dispose()
            finally:
                database.drop()
    finally:
        if saved is None:
            os.environ.pop("DISTRETTO_TEST_DATABASE_URL", None)
        else:
            os.environ["DISTRETTO_TEST_DATABASE_URL"] = saved


def database_label(database: Any) -> str:
    return "PostgreSQL" if database.is_postgres else "SQLite"


def database_bytes(database: Any) -> int:
    """The database's size on disk, after folding SQLite's write-ahead log into it."""
    with database.owner_engine.connect() as conn:
        if database.is_postgres:
            conn.execute(text("CHECKPOINT"))
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = conn.execute(text("PRAGMA page_count")).scalar()
        size = conn.execute(text("PRAGMA page_size")).scalar()
        return int(pages) * int(size)


def timed(func: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds taken by each of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def p95_ms(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


class QueryCounter:
    """Counts the statements the app's engine runs (to show a page's query bound)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.engine = engine

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1


def client_for(app: Any, email: str) -> Any:
    """A test client signed in through the real login form; requests run as a server runs them."""
    from flask.testing import FlaskClient

    from distretto.testing.plugin import csrf_token

    class ServerLikeClient(FlaskClient):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            from distretto.platform.db import db

            if db.session().in_transaction():
                db.session.commit()
            return contextvars.Context().run(super().open, *args, **kwargs)

    app.test_client_class = ServerLikeClient
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.status_code
    return client


def table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
