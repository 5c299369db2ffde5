"""Probes: /healthz says the process is alive, /readyz that it can serve (always JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from distretto.platform.app import create_app
from distretto.platform.db import db


@pytest.fixture
def app_on(distretto_database, tmp_path):
    """``app_on(url)``: an app like the tests' one but on another database."""
    made: list[Any] = []

    def factory(url: str) -> Any:
        config = distretto_database.config()
        config.update(
            DATABASE_URL=url, MIGRATION_DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "inst")
        )
        application = create_app(config)
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_healthz_answers_200_json(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_200_json_when_migrated(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "at head"},
    }


def test_readyz_is_json_even_when_a_browser_asks(app):
    response = app.test_client().get("/readyz", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.is_json


def test_readyz_answers_503_json_on_an_empty_database(app_on, tmp_path):
    empty = app_on(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    response = empty.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "migrations": "not migrated"}


def test_readyz_answers_503_json_when_the_database_is_behind_head(app_on, tmp_path):
    behind = app_on(f"sqlite:///{tmp_path / 'behind.sqlite3'}")
    upgraded = behind.test_cli_runner().invoke(args=["db", "upgrade", "--revision", "0001_kernel"])
    assert upgraded.exit_code == 0, upgraded.output
    response = behind.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == "behind head"

    assert behind.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    assert behind.test_client().get("/readyz").status_code == 200


def test_readyz_answers_503_json_when_the_database_is_unreachable(app_on, tmp_path):
    unreachable = app_on(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    client = unreachable.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unreachable")
    assert "migrations" not in body["checks"]
    # liveness does not depend on the database
    assert client.get("/healthz").status_code == 200


def test_probes_are_not_rate_limited(app):
    client = app.test_client()
    statuses = {client.get("/healthz").status_code for _ in range(50)}
    statuses |= {client.get("/readyz").status_code for _ in range(50)}
    assert statuses == {200}
