"""Log lines carry the request id and the firm; JSON when LOG_FORMAT=json."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from distretto.platform.context import tenant_context


@pytest.fixture
def app_config(distretto_database):
    config = distretto_database.config()
    config["LOG_LEVEL"] = "INFO"
    return config


@pytest.fixture
def log_output(app):
    """What the app's own log handler writes, from here on."""
    handlers = [
        h for h in logging.getLogger("distretto").handlers if getattr(h, "_distretto", False)
    ]
    assert len(handlers) == 1, "the distretto logger has exactly one handler of ours"
    stream = io.StringIO()
    previous = handlers[0].setStream(stream)
    yield stream
    handlers[0].setStream(previous)


def lines_about(output: io.StringIO, path: str) -> list[str]:
    return [line for line in output.getvalue().splitlines() if f" {path} " in line]


def test_request_id_is_echoed_and_logged_with_the_firm(tenant_client, log_output):
    client, tenant, _user = tenant_client("owner")
    response = client.get(f"/{tenant.slug}/", headers={"X-Request-ID": "trace-0123-abcd"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-0123-abcd"

    lines = lines_about(log_output, f"/{tenant.slug}/")
    assert len(lines) == 1, log_output.getvalue()
    assert f"[req=trace-0123-abcd tenant={tenant.slug}]" in lines[0]
    assert f"GET /{tenant.slug}/ 200 " in lines[0]
    assert "distretto.request" in lines[0]


def test_request_id_is_generated_when_absent_or_unusable(app, log_output):
    client = app.test_client()
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    replaced = client.get("/healthz", headers={"X-Request-ID": "short"}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert replaced != generated

    lines = lines_about(log_output, "/healthz")
    assert len(lines) == 2
    assert f"[req={generated} tenant=-]" in lines[0]
    assert f"[req={replaced} tenant=-]" in lines[1]


def test_two_requests_get_different_ids(app):
    client = app.test_client()
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_work_outside_a_request_logs_the_firm_in_scope(app, make_tenant, log_output):
    tenant = make_tenant()
    with tenant_context(tenant):
        logging.getLogger("distretto.test").info("closing the month")
    logging.getLogger("distretto.test").info("between firms")
    lines = log_output.getvalue().splitlines()
    assert any(f"[req=- tenant={tenant.slug}] closing the month" in line for line in lines)
    assert any("[req=- tenant=-] between firms" in line for line in lines)


def test_single_use_link_tokens_stay_out_of_the_log(app, log_output):
    app.test_client().get("/invitations/secret-token-value-1234")
    output = log_output.getvalue()
    assert "secret-token-value-1234" not in output
    assert "/invitations/[token]" in output


class TestJsonFormat:
    @pytest.fixture
    def app_config(self, distretto_database):
        config = distretto_database.config()
        config.update(LOG_LEVEL="INFO", LOG_FORMAT="json")
        return config

    def test_each_line_is_a_json_object_with_request_id_and_firm(self, tenant_client, log_output):
        client, tenant, _user = tenant_client("owner")
        client.get(f"/{tenant.slug}/", headers={"X-Request-ID": "json-trace-0001"})
        records = [json.loads(line) for line in log_output.getvalue().splitlines()]
        assert records, "nothing was logged"
        ours = [r for r in records if r.get("path") == f"/{tenant.slug}/"]
        assert len(ours) == 1
        record = ours[0]
        assert record["request_id"] == "json-trace-0001"
        assert record["tenant"] == tenant.slug
        assert record["logger"] == "distretto.request"
        assert record["level"] == "INFO"
        assert record["method"] == "GET"
        assert record["status"] == 200
        assert isinstance(record["duration_ms"], int | float)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", record["ts"])

    def test_exceptions_are_one_json_line_with_the_traceback(self, app, log_output):
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("distretto.test").exception("it failed")
        (line,) = [line for line in log_output.getvalue().splitlines() if "it failed" in line]
        record = json.loads(line)
        assert record["level"] == "ERROR"
        assert "ValueError: boom" in record["exc"]


def test_a_bad_log_format_is_refused_at_start_up(distretto_database):
    from distretto.platform.app import create_app
    from distretto.platform.config import ConfigError

    config = distretto_database.config()
    config["LOG_FORMAT"] = "xml"
    with pytest.raises(ConfigError, match="DISTRETTO_LOG_FORMAT"):
        create_app(config)
