"""District templates in the operator console: versions, publishing, who uses what."""

from __future__ import annotations

import html
import io
import json

import pytest
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from distretto.platform.db import db
from distretto.tenants import district_templates
from distretto.tenants.district_templates import DistrictTemplate, TemplateAdoption
from distretto.testing.plugin import csrf_token
from tests.test_migrations import cli, fresh_app, fresh_database  # noqa: F401 - fixtures


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def console(make_user, login):
    return english(login(make_user(operator=True)))


@pytest.fixture
def published(app):
    district_templates.publish_builtins()
    db.session.commit()


def upload(client, content: bytes, filename="template.json"):
    # encoded in memory: the test client would spool a large body to an unclosed temporary file
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/operator/templates"),
            "file": FileStorage(io.BytesIO(content), filename, content_type="application/json"),
        }
    )
    return client.post(
        "/operator/templates",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def versions(name):
    db.session.rollback()
    return list(
        db.session.execute(
            select(DistrictTemplate.version)
            .where(DistrictTemplate.name == name)
            .order_by(DistrictTemplate.version)
        ).scalars()
    )


def test_operator_publishes_a_new_version_by_uploading_its_file(console, published):
    page = console.get("/operator/templates").get_data(as_text=True)
    assert 'data-template="tessile" data-version="1"' in page

    document = district_templates.builtin_document("tessile")
    document["label"] = "Tessile (stagione 2027)"
    response = upload(console, json.dumps(document).encode())
    assert response.status_code == 302
    assert versions("tessile") == [1, 2]
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "tessile version 2 published." in page
    assert "Tessile (stagione 2027)" in page
    latest = page[page.index('data-template="tessile" data-version="2"') :]
    assert "latest" in latest[: latest.index("</tr>")]
    [template] = [t for t in district_templates.all_latest() if t.name == "tessile"]
    assert template.published_by_id is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b"\xff\xfe\x00", "The file is not valid JSON"),
        (b"[1, 2]", "a template must be a JSON object"),
        (json.dumps({"label": "No name"}).encode(), "a template needs a 'name'"),
        (
            json.dumps({"name": "x", "label": "X", "customisation": {"format": "other"}}).encode(),
            "'customisation' must be a bundle with format",
        ),
        (b"{}" + b" " * (1024 * 1024), "The file is too large"),
    ],
)
def test_a_bad_template_file_is_refused_with_the_reason_and_publishes_nothing(
    console, published, content, problem
):
    response = upload(console, content)
    assert response.status_code == 400
    assert problem in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.execute(select(DistrictTemplate.name)).scalars().all() == [
        "meccanica-contoterzi",
        "tessile",
    ]


def test_uploading_without_a_file_says_what_is_missing(console, published):
    data = {"csrf_token": csrf_token(console, "/operator/templates")}
    response = console.post("/operator/templates", data=data)
    assert response.status_code == 400
    assert "Choose the template's JSON file." in html.unescape(response.get_data(as_text=True))


def test_the_console_shows_which_firms_use_which_version(app, console, published, make_tenant):
    first = make_tenant(modules=["catalog", "orders"], legal_name="Prima Tessitura S.r.l.")
    district_templates.apply(first, "tessile")
    db.session.commit()
    document = district_templates.builtin_document("tessile")
    district_templates.publish(document)
    db.session.commit()
    second = make_tenant(modules=["catalog", "orders"], legal_name="Seconda Filatura S.r.l.")
    district_templates.apply(second, "tessile")
    untouched = make_tenant(legal_name="Senza Modello S.r.l.")
    db.session.commit()

    assert sorted(district_templates.usage()) == [("tessile", 1, 1), ("tessile", 2, 1)]
    page = console.get("/operator/templates").get_data(as_text=True)
    for version in (1, 2):
        row = page[page.index(f'data-template="tessile" data-version="{version}"') :]
        assert '">1</a>' in row[: row.index("</tr>")]

    old = console.get("/operator/templates/tessile/1").get_data(as_text=True)
    assert "Prima Tessitura S.r.l." in old
    assert "Seconda Filatura S.r.l." not in old
    assert "Senza Modello S.r.l." not in old
    assert "Version 2 is the latest" in old
    new = console.get("/operator/templates/tessile/2").get_data(as_text=True)
    assert "Seconda Filatura S.r.l." in new
    assert "Prima Tessitura S.r.l." not in new
    assert console.get("/operator/templates/tessile/9").status_code == 404

    usage_page = console.get(f"/operator/firms/{first.slug}/usage").get_data(as_text=True)
    assert "tessile v1" in usage_page
    del untouched


def test_usage_collect_rebuilds_who_adopted_what_from_the_firms_own_records(
    app, published, make_tenant
):
    firm = make_tenant(modules=["catalog", "orders"])
    district_templates.apply(firm, "tessile")
    db.session.commit()
    db.session.execute(delete(TemplateAdoption))
    db.session.commit()
    assert district_templates.usage() == []

    result = app.test_cli_runner().invoke(args=["usage", "collect", firm.slug])
    assert result.exit_code == 0, result.output
    assert district_templates.usage() == [("tessile", 1, 1)]


def test_template_pages_are_for_operators_only(tenant_client, published):
    client, firm, _owner = tenant_client("owner")
    assert client.get("/operator/templates").status_code == 404
    assert client.get("/operator/templates/tessile/1").status_code == 404
    token = csrf_token(client, f"/{firm.slug}/")
    document = json.dumps(district_templates.builtin_document("tessile")).encode()
    response = client.post(
        "/operator/templates",
        data={"csrf_token": token, "file": (io.BytesIO(document), "t.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert versions("tessile") == [1]
    anonymous = english(client.application.test_client())
    assert anonymous.get("/operator/templates").status_code == 302


def test_upgrading_to_0007_records_the_versions_firms_had_already_applied(fresh_app):  # noqa: F811
    """The migration backfills the global adoptions from each firm's own records."""
    from sqlalchemy import create_engine, text

    assert cli(fresh_app, "db", "upgrade", "--revision", "0006_support_access").exit_code == 0
    engine = create_engine(fresh_app.config["MIGRATION_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            for tenant_id, slug in ((1, "prima"), (2, "seconda"), (3, "terza")):
                conn.execute(
                    text(
                        "INSERT INTO tenants (id, slug, legal_name, vat_number, status, "
                        "default_locale, settings, created_at) VALUES (:id, :slug, :slug, "
                        "'01234567897', 'active', 'it', '{}', CURRENT_TIMESTAMP)"
                    ),
                    {"id": tenant_id, "slug": slug},
                )
            for tenant_id, name, version, day in (
                (1, "tessile", 1, 1),
                (1, "tessile", 2, 2),  # applied again later: the newer version counts
                (2, "tessile", 1, 1),
                (2, "meccanica-contoterzi", 3, 2),
            ):
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
                    )
                conn.execute(
                    text(
                        "INSERT INTO applied_templates (tenant_id, template_name, "
                        "template_version, skipped, applied_at) VALUES (:t, :n, :v, '[]', :at)"
                    ),
                    {"t": tenant_id, "n": name, "v": version, "at": f"2026-01-0{day} 10:00:00"},
                )
        assert cli(fresh_app, "db", "upgrade").exit_code == 0
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT firm_id, template_name, template_version FROM template_adoptions "
                    "ORDER BY firm_id, template_name"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "tessile", 2),
        (2, "meccanica-contoterzi", 3),
        (2, "tessile", 1),
    ]
