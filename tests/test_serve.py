"""Starting up and serving: settings checked at start, gunicorn, the outbox worker."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from distretto.platform.app import create_app
from distretto.platform.config import ConfigError, _instance_secret
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.outbox import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith("DISTRETTO_"):
            monkeypatch.delenv(key)
    return monkeypatch


def minimal_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "a-secret-key-long-enough",
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ENV_NAME", "staging"),
        ("DATABASE_URL", "mysql://user:hunter2-password@db.example/distretto"),
        ("DEFAULT_LOCALE", "de"),
        ("SECRET_KEY", "too-short"),
        ("LOG_FORMAT", "yaml"),
        ("SMTP_PORT", "twenty-five"),
    ],
)
def test_bad_environment_setting_stops_start_up_naming_the_variable(
    clean_environment, tmp_path, variable, value
):
    clean_environment.setenv(f"DISTRETTO_{variable}", value)
    config = minimal_config(tmp_path)
    config.pop(variable, None)
    with pytest.raises(ConfigError) as failure:
        create_app(config)
    message = str(failure.value)
    assert f"DISTRETTO_{variable}" in message
    assert "\n" not in message
    assert "hunter2" not in message  # a database password never reaches the log


def test_good_environment_settings_are_taken(clean_environment, tmp_path):
    clean_environment.setenv("DISTRETTO_DEFAULT_LOCALE", "en")
    clean_environment.setenv("DISTRETTO_BASE_URL", "https://erp.district.example")
    app = create_app(minimal_config(tmp_path))
    assert app.config["DEFAULT_LOCALE"] == "en"
    assert app.config["BASE_URL"] == "https://erp.district.example"


def test_secret_key_is_generated_once_private_and_reused(clean_environment, tmp_path):
    config = minimal_config(tmp_path, SECRET_KEY=None)
    first = create_app(config)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key

    second = create_app(config)
    assert second.secret_key == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    elsewhere = create_app(minimal_config(tmp_path / "other", SECRET_KEY=None))
    assert elsewhere.secret_key != first.secret_key


def test_processes_starting_together_share_one_generated_secret(tmp_path):
    """gunicorn starts its workers at once; each must read the same, complete key."""
    instance = tmp_path / "instance"
    instance.mkdir()
    starters = 16
    barrier = threading.Barrier(starters)
    keys: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait(timeout=10)
        try:
            keys.append(_instance_secret(instance))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(keys) == starters
    assert len(set(keys)) == 1
    assert len(keys[0]) >= 32
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]


# --- gunicorn -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distretto_script() -> str:
    script = Path(sys.executable).with_name("distretto")
    return str(script) if script.exists() else shutil.which("distretto") or "distretto"


@pytest.fixture(scope="module")
def served_env(tmp_path_factory) -> dict[str, str]:
    """Environment for the console script, on a SQLite file it has upgraded to head."""
    folder = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTRETTO_")}
    env.update(
        DISTRETTO_DATABASE_URL=f"sqlite:///{folder / 'served.sqlite3'}",
        DISTRETTO_SECRET_KEY="serve-test-secret-key-0123456789",
        DISTRETTO_LOG_LEVEL="INFO",
    )
    upgrade = subprocess.run(
        [distretto_script(), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    return env


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - local test server
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_distretto_serve_runs_gunicorn_that_answers_and_stops_on_sigterm(served_env, tmp_path):
    env = served_env
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [distretto_script(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches every child
        )
    try:
        deadline = time.monotonic() + 60  # generous: CI machines run several suites at once
        status = None
        while time.monotonic() < deadline:
            assert server.poll() is None, "serve exited early:\n" + log_path.read_text()
            try:
                status, _headers, body = get(f"{base}/healthz")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
                continue
            if status == 200:
                break
        assert status == 200, "no answer on /healthz:\n" + log_path.read_text()
        assert body == {"status": "ok"}

        status, headers, body = get(f"{base}/readyz", {"X-Request-ID": "served-trace-0001"})
        assert status == 200, body
        assert body["checks"]["migrations"] == "at head"
        assert headers["X-Request-ID"] == "served-trace-0001"

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=45) == 0, log_path.read_text()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    log_text = log_path.read_text()
    assert "Booting worker" in log_text  # gunicorn served it
    assert "Control socket" not in log_text  # no per-user socket shared across installations
    assert "[req=served-trace-0001 tenant=-]" in log_text
    assert "GET /readyz 200" in log_text


def test_root_gunicorn_conf_is_the_packaged_one():
    from distretto import gunicorn_conf

    root = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    names = ("bind", "workers", "threads", "worker_class", "timeout", "accesslog")
    for name in (*names, "control_socket_disable"):
        assert root[name] == getattr(gunicorn_conf, name)


def test_worker_once_exits_when_nothing_is_due(served_env):
    worker = subprocess.run(
        [distretto_script(), "worker", "--once"],
        env=served_env,
        capture_output=True,
        text=True,
        timeout=180,  # a worker that kept polling would be killed here and fail the test
        check=False,
    )
    assert worker.returncode == 0, worker.stderr


# --- the outbox worker delivers -------------------------------------------------------------------


class _SmtpStub(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message (no TLS, no auth)."""

    def handle(self) -> None:
        self.wfile.write(b"220 stub ESMTP\r\n")
        body: list[bytes] = []
        in_data = False
        while line := self.rfile.readline():
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    in_data = False
                    self.server.messages.append(b"".join(body).decode())  # type: ignore[attr-defined]
                    body = []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
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
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpStub)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_worker_once_delivers_the_queued_invitation_mail(app, make_tenant, smtp_server):
    tenant = make_tenant(slug="mailing-firm")
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.server_address[1],
        SMTP_STARTTLS=False,
        MAIL_FROM="distretto@district.example",
    )
    runner = app.test_cli_runner()
    invited = runner.invoke(args=["users", "invite", "mailing-firm", "new.hire@example.com"])
    assert invited.exit_code == 0, invited.output
    link = invited.output.strip()
    assert smtp_server.messages == []  # nothing leaves inside the command

    delivered = runner.invoke(args=["worker", "--once"])
    assert delivered.exit_code == 0, delivered.output
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0].replace("=\r\n", "").replace("=\n", "")
    assert "To: new.hire@example.com" in message
    assert link.split("/invitations/")[1][:20] in message

    db.session.rollback()
    with tenant_context(tenant):
        (row,) = db.session.execute(select(OutboxMessage)).scalars()
    assert row.delivered_at is not None
    assert row.attempts == 1

    again = runner.invoke(args=["worker", "--once"])
    assert again.exit_code == 0
    assert len(smtp_server.messages) == 1  # delivered once, not again
