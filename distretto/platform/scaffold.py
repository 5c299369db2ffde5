"""``distretto modules new NAME``: a working module package to start from.

The generated package installs with pip, is found through its entry point,
migrates its own Alembic branch, serves a list page and a create form under
``/<tenant>/NAME/`` and passes its own tests (run with the Distretto pytest
plugin) unchanged. docs/modules.md walks through what each file does.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from string import Template

from distretto import __version__

#: Stricter than the loader's rule: words of lower-case letters and digits
#: joined by single underscores, so that the distribution name reads well.
SCAFFOLD_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

#: Names the platform itself uses for blueprints, URLs or table prefixes.
RESERVED_NAMES = frozenset(
    {
        "admin",
        "alembic",
        "api",
        "audit",
        "auth",
        "custom",
        "distretto",
        "health",
        "healthz",
        "home",
        "invitations",
        "login",
        "logout",
        "mail",
        "modules",
        "numbering",
        "operator",
        "outbox",
        "password",
        "platform",
        "readyz",
        "sdk",
        "settings",
        "static",
        "tenant",
        "tenants",
        "testing",
        "users",
        "workflow",
        "workflows",
    }
)


class ScaffoldError(ValueError):
    """A name or destination the scaffold refuses; the message is one line."""


def check_name(
    name: str,
    *,
    taken_modules: Iterable[str] = (),
    taken_tables: Iterable[str] = (),
    taken_url_segments: Iterable[str] = (),
) -> str:
    """``name`` if a module may be called so, else :class:`ScaffoldError`.

    The ``taken_*`` arguments come from a running app: installed modules,
    existing tables and the first URL segments under ``/<tenant>/``.
    """
    if not isinstance(name, str) or not (2 <= len(name) <= 30):
        raise ScaffoldError(f"module name {name!r} must be 2 to 30 characters long")
    if not SCAFFOLD_NAME_RE.match(name):
        raise ScaffoldError(
            f"module name {name!r} must be lower-case letters and digits, words joined by "
            "single underscores, starting with a letter (for example: conto_lavoro)"
        )
    if keyword.iskeyword(name) or name in RESERVED_NAMES or name.endswith("_api"):
        raise ScaffoldError(f"module name {name!r} is reserved by the platform")
    if name in set(taken_modules):
        raise ScaffoldError(f"a module named {name!r} is already installed")
    clash = sorted(t for t in taken_tables if t.startswith(f"{name}_"))
    if clash:
        raise ScaffoldError(f"module name {name!r} would share the table prefix of {clash[0]!r}")
    if name in set(taken_url_segments):
        raise ScaffoldError(f"module name {name!r} clashes with the platform URL /<tenant>/{name}")
    return name


def kernel_head() -> str:
    """The head revision of the kernel's own migrations (a new branch depends on it)."""
    from alembic.script import ScriptDirectory

    from distretto.platform.migrations import directory

    script = ScriptDirectory(directory(), version_locations=[os.path.join(directory(), "versions")])
    heads = script.get_heads()
    if len(heads) != 1:  # pragma: no cover - the kernel's history is linear
        raise ScaffoldError(f"the kernel migrations have {len(heads)} heads, expected one")
    return heads[0]


def package_directory_name(name: str) -> str:
    return "distretto-" + name.replace("_", "-")


def scaffold(name: str, destination: str | os.PathLike[str], **taken: Iterable[str]) -> Path:
    """Write the package ``distretto-NAME`` into ``destination``; returns its folder.

    Refuses (``ScaffoldError``) a bad name or a folder that already exists:
    nothing is ever overwritten.
    """
    check_name(name, **taken)
    destination = Path(destination)
    if destination.exists() and not destination.is_dir():
        raise ScaffoldError(f"{destination} is not a folder")
    root = destination / package_directory_name(name)
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another --path")
    words = name.split("_")
    values = {
        "name": name,
        "dist": package_directory_name(name),
        "label": " ".join(w.capitalize() for w in words),
        "model": "".join(w.capitalize() for w in words) + "Item",
        "kernel_head": kernel_head(),
        "platform_min": ".".join(__version__.split(".")[:2]),
        "today": date.today().isoformat(),
    }
    files = {
        path.replace("NAME", name): Template(body).substitute(values)
        for path, body in _FILES.items()
    }
    for relative, body in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    return root


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "${dist}"
version = "0.1.0"
description = "${label}: a module for the Distretto light-ERP"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["distretto>=${platform_min},<1"]

[project.optional-dependencies]
test = ["pytest>=8"]

# How Distretto finds the module: the entry point names the Module object.
[project.entry-points."distretto.modules"]
${name} = "distretto_${name}:module"

[tool.setuptools.packages.find]
include = ["distretto_${name}*"]

[tool.setuptools.package-data]
"distretto_${name}" = ["templates/**/*", "migrations/**/*"]

[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "B", "I", "UP", "S", "PT", "N"]
ignore = ["S101"]

[tool.ruff.lint.per-file-ignores]
"*/migrations/**" = ["E501"]

# The fixtures (app, make_tenant, make_user, login, tenant_client...) come from
# the pytest plugin that ships with distretto: nothing to configure.
[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra --strict-markers"
filterwarnings = ["error"]
"""

_README = """\
# ${dist}

A module for the Distretto light-ERP, generated by `distretto modules new ${name}`.

    pip install -e .                               # registers the entry point
    distretto db upgrade                           # applies this module's migration branch
    distretto modules enable <firm> ${name}        # switch it on for a firm
    python -m pytest                               # its tests, on SQLite

Set `DISTRETTO_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres` to run the
same tests on PostgreSQL with row-level security in force.

Pages live under `/<firm>/${name}/`. See the platform's `docs/modules.md` for the module
contract and the namespace rules.
"""

_INIT = '''\
"""${label}: the Module object Distretto finds through the entry point."""

from __future__ import annotations

from pathlib import Path

from distretto.sdk import MenuEntry, Module
from flask_babel import lazy_gettext as _l

from distretto_${name}.models import ${model}
from distretto_${name}.views import bp

module = Module(
    name="${name}",
    version="0.1.0",
    label=_l("${label}"),
    description=_l("Generated by distretto modules new."),
    platform_versions=">=${platform_min},<1",
    models=(${model},),
    blueprint=bp,
    permissions={
        "${name}.view": ("owner", "admin", "staff", "viewer"),
        "${name}.edit": ("owner", "admin", "staff"),
    },
    menu=(MenuEntry(_l("${label}"), "${name}.index", "${name}.view"),),
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
'''

_MODELS = '''\
"""Tables of the ${name} module: every one starts with ``${name}_``."""

from __future__ import annotations

from datetime import datetime

from distretto.sdk import BigId, TenantOwned, db, utcnow
from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ${model}(TenantOwned, db.Model):
    """One item of a firm; TenantOwned scopes every query to the current firm."""

    __tablename__ = "${name}_items"
    __table_args__ = (Index("ix_${name}_items_tenant_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
'''

_SERVICES = '''\
"""Business rules of the ${name} module. Services flush; the request commits."""

from __future__ import annotations

from distretto.sdk import audit, db

from distretto_${name}.models import ${model}


def create_item(name: str, notes: str | None = None) -> ${model}:
    item = ${model}(name=name.strip(), notes=(notes or "").strip() or None)
    db.session.add(item)
    db.session.flush()
    audit.record("${name}.item_created", item, summary={"name": item.name})
    return item
'''

_VIEWS = '''\
"""Pages of the ${name} module, all under ``/<tenant>/${name}/``."""

from __future__ import annotations

from typing import Any

from distretto.sdk import db, permission_required, tenant_blueprint
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from distretto_${name}.models import ${model}
from distretto_${name}.services import create_item

bp = tenant_blueprint("${name}", __name__, "/${name}", template_folder="templates")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ItemForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


@bp.get("/")
@permission_required("${name}.view")
def index() -> Any:
    newest_first = select(${model}).order_by(${model}.id.desc())
    items = db.session.execute(newest_first).scalars().all()
    return render_template("${name}/index.html", items=items)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("${name}.edit")
def new() -> Any:
    form = ItemForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("${name}/form.html", form=form), status
    item = create_item(form.name.data, form.notes.data)
    flash(_("Saved."), "success")
    return redirect(url_for("${name}.detail", item_id=item.id))


@bp.get("/<int:item_id>")
@permission_required("${name}.view")
def detail(item_id: int) -> Any:
    item = db.session.get(${model}, item_id) or abort(404)
    return render_template("${name}/detail.html", item=item)
'''

_INDEX_HTML = """\
{% extends "platform/base.html" %}
{% block title %}{{ _('${label}') }}{% endblock %}
{% block content %}
<div class="page-header d-flex justify-content-between align-items-center">
  <h1 class="h3 mb-0">{{ _('${label}') }}</h1>
  {% if can('${name}.edit') %}
  <a class="btn btn-primary" href="{{ url_for('${name}.new') }}">{{ _('New item') }}</a>
  {% endif %}
</div>
{% if items %}
<table class="table bg-white">
  <thead>
    <tr><th scope="col">{{ _('Name') }}</th><th scope="col">{{ _('Created') }}</th></tr>
  </thead>
  <tbody>
  {% for item in items %}
    <tr>
      <td><a href="{{ url_for('${name}.detail', item_id=item.id) }}">{{ item.name }}</a></td>
      <td>{{ item.created_at|datetime }}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="text-muted">{{ _('Nothing here yet.') }}</p>
{% endif %}
{% endblock %}
"""

_FORM_HTML = """\
{% extends "platform/base.html" %}
{% from "platform/macros.html" import field, form_errors %}
{% block title %}{{ _('New item') }}{% endblock %}
{% block content %}
<h1 class="h3">{{ _('New item') }}</h1>
{{ form_errors(form) }}
<form method="post" action="{{ url_for('${name}.new') }}" novalidate class="col-lg-6">
  {{ form.csrf_token }}
  {{ field(form.name) }}
  {{ field(form.notes) }}
  <button class="btn btn-primary" type="submit">{{ _('Save') }}</button>
  <a class="btn btn-link" href="{{ url_for('${name}.index') }}">{{ _('Cancel') }}</a>
</form>
{% endblock %}
"""

_DETAIL_HTML = """\
{% extends "platform/base.html" %}
{% block title %}{{ item.name }}{% endblock %}
{% block content %}
<h1 class="h3">{{ item.name }}</h1>
<p>{{ item.notes or '' }}</p>
<p class="text-muted small">{{ _('Created') }} {{ item.created_at|datetime }}</p>
<a href="{{ url_for('${name}.index') }}">{{ _('Back to the list') }}</a>
{% endblock %}
"""

_MIGRATION = '''\
"""${name}: items

Revision ID: ${name}_0001
Revises:
Create Date: ${today}

The first revision of the ${name} branch. ``depends_on`` the kernel revision
that was head when the module was generated, so the firms table exists first.
"""

import sqlalchemy as sa
from alembic import op
from distretto.sdk import disable_tenant_rls, enable_tenant_rls

revision = "${name}_0001"
down_revision = None
branch_labels = ("${name}",)
depends_on = "${kernel_head}"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "${name}_items",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_${name}_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_${name}_items")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_${name}_items_tenant_id_id")),
    )
    op.create_index("ix_${name}_items_tenant_id", "${name}_items", ["tenant_id"])
    enable_tenant_rls("${name}_items")


def downgrade():
    disable_tenant_rls("${name}_items")
    op.drop_index("ix_${name}_items_tenant_id", table_name="${name}_items")
    op.drop_table("${name}_items")
'''

_TEST = '''\
"""Tests of the ${name} module; fixtures come from the distretto pytest plugin."""

from distretto.testing.plugin import csrf_token

MODULE = "${name}"


def _create_item(client, slug, name):
    form = f"/{slug}/{MODULE}/new"
    return client.post(form, data={"name": name, "csrf_token": csrf_token(client, form)})


def test_item_created_on_the_form_is_listed(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=[MODULE])
    response = _create_item(client, tenant.slug, "First batch")
    assert response.status_code == 302
    listing = client.get(f"/{tenant.slug}/{MODULE}/")
    assert listing.status_code == 200
    assert "First batch" in listing.get_data(as_text=True)


def test_form_without_a_name_shows_the_error_and_saves_nothing(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=[MODULE])
    response = _create_item(client, tenant.slug, "   ")
    assert response.status_code == 400
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert "<table" not in client.get(f"/{tenant.slug}/{MODULE}/").get_data(as_text=True)


def test_another_firm_gets_404_on_the_items_of_the_first(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=[MODULE])
    item_url = _create_item(client, tenant.slug, "Private batch").headers["Location"]
    item_id = item_url.rstrip("/").rsplit("/", 1)[-1]
    other_client, other, _other_user = tenant_client("owner", modules=[MODULE])
    assert other_client.get(f"/{tenant.slug}/{MODULE}/").status_code == 404
    assert other_client.get(f"/{tenant.slug}/{MODULE}/{item_id}").status_code == 404
    assert other_client.get(f"/{other.slug}/{MODULE}/{item_id}").status_code == 404
    assert "Private batch" not in other_client.get(f"/{other.slug}/{MODULE}/").get_data(
        as_text=True
    )


def test_firm_that_did_not_enable_the_module_gets_404(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert client.get(f"/{tenant.slug}/{MODULE}/").status_code == 404


def test_viewer_sees_the_list_but_cannot_create(tenant_client):
    client, tenant, _user = tenant_client("viewer", modules=[MODULE])
    assert client.get(f"/{tenant.slug}/{MODULE}/").status_code == 200
    assert client.get(f"/{tenant.slug}/{MODULE}/new").status_code == 403
'''

_FILES = {
    "pyproject.toml": _PYPROJECT,
    "README.md": _README,
    "distretto_NAME/__init__.py": _INIT,
    "distretto_NAME/models.py": _MODELS,
    "distretto_NAME/services.py": _SERVICES,
    "distretto_NAME/views.py": _VIEWS,
    "distretto_NAME/templates/NAME/index.html": _INDEX_HTML,
    "distretto_NAME/templates/NAME/form.html": _FORM_HTML,
    "distretto_NAME/templates/NAME/detail.html": _DETAIL_HTML,
    "distretto_NAME/migrations/versions/NAME_0001_initial.py": _MIGRATION,
    "tests/test_NAME.py": _TEST,
}
