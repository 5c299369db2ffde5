"""The module loader: namespaces are enforced, and a broken module never stops the platform."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Blueprint
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from distretto.platform.app import create_app
from distretto.platform.db import db
from distretto.platform.documents import ActionContext, WorkflowAction
from distretto.platform.modules import MenuEntry, Module, registry
from distretto.platform.web import tenant_blueprint
from distretto.testing.plugin import TEST_PASSWORD, csrf_token


class _OtherBase(DeclarativeBase):
    """Models of the modules under test, kept out of the platform's metadata."""


class BadlyNamedTable(_OtherBase):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class WellNamedTable(_OtherBase):
    __tablename__ = "badmod_things"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def _noop(context: ActionContext) -> None:
    return None


def healthy_module() -> Module:
    """A module that follows every rule, with one page."""
    bp = tenant_blueprint("okmod", __name__, "/okmod")

    @bp.get("/")
    def index() -> str:
        return "okmod works"

    return Module(
        name="okmod",
        version="1.0.0",
        label="OK module",
        blueprint=bp,
        permissions={"okmod.view": ("owner",)},
        menu=(MenuEntry("OK", "okmod.index", "okmod.view"),),
    )


def bad(**fields: Any) -> Module:
    fields.setdefault("name", "badmod")
    return Module(version="1.0.0", label="Bad module", **fields)


@pytest.fixture
def build_app(app_config, app):
    """``build_app(extra, disabled=())`` -> a second app, built the way production builds it."""
    built = []

    def factory(extra: list[Any], disabled: tuple[str, ...] = ()) -> Any:
        config = dict(app_config)
        config["EXTRA_MODULES"] = [*app_config["EXTRA_MODULES"], *extra]
        config["DISABLED_MODULES"] = list(disabled)
        new_app = create_app(config)
        new_app.test_client_class = app.test_client_class
        built.append(new_app)
        return new_app

    yield factory
    for new_app in built:
        with new_app.app_context():
            db.session.remove()
            db.engine.dispose()


NAMESPACE_VIOLATIONS = [
    pytest.param(
        bad(blueprint=Blueprint("other", __name__, url_prefix="/<tenant>/badmod")),
        "blueprint 'other' must be named 'badmod'",
        id="blueprint-name",
    ),
    pytest.param(
        bad(blueprint=tenant_blueprint("badmod", __name__, "/elsewhere")),
        "must be '/<tenant>/badmod'",
        id="url-prefix",
    ),
    pytest.param(
        bad(blueprint=Blueprint("badmod", __name__, url_prefix="/badmod")),
        "must be '/<tenant>/badmod'",
        id="url-prefix-outside-the-firm",
    ),
    pytest.param(
        bad(api_blueprint=Blueprint("api", __name__, url_prefix="/api/v1/<tenant>/badmod")),
        "API blueprint 'api' must be named 'badmod_api'",
        id="api-blueprint-name",
    ),
    pytest.param(
        bad(api_blueprint=Blueprint("badmod_api", __name__, url_prefix="/api/badmod")),
        "must be '/api/v1/<tenant>/badmod'",
        id="api-url-prefix",
    ),
    pytest.param(
        bad(models=(WellNamedTable, BadlyNamedTable)),
        "table 'things' must start with 'badmod_'",
        id="table-prefix",
    ),
    pytest.param(
        bad(permissions={"badmod.view": ("owner",), "firm.view": ("owner",)}),
        "permission 'firm.view' must start with 'badmod.'",
        id="permission-prefix",
    ),
    pytest.param(
        bad(actions=(WorkflowAction("sample.stamp", "Steal an action", _noop),)),
        "action 'sample.stamp' must start with 'badmod.'",
        id="action-prefix",
    ),
    pytest.param(
        bad(menu=(MenuEntry("Home", "tenant.home"),)),
        "menu entry 'tenant.home' must point into 'badmod.'",
        id="menu-endpoint",
    ),
    pytest.param(
        bad(name="sample"),
        "a module named 'sample' is already loaded",
        id="duplicate-name",
    ),
    pytest.param(
        bad(platform_versions=">=2,<3"),
        "supports platform >=2,<3",
        id="unsupported-platform-version",
    ),
    pytest.param(
        bad(platform_versions="the latest"),
        "platform_versions 'the latest' is invalid",
        id="invalid-platform-version",
    ),
    pytest.param(
        bad(name="Bad-Module"),
        "must be lower-case letters, digits and _",
        id="module-name",
    ),
]


@pytest.mark.parametrize(("module", "message"), NAMESPACE_VIOLATIONS)
def test_loader_refuses_a_module_breaking_the_rules_and_names_it(
    build_app, module, message, caplog
):
    with caplog.at_level(logging.ERROR, logger="distretto.modules"):
        new_app = build_app([healthy_module(), module])

    assert message in registry.errors[module.name]
    assert f"module {module.name} not loaded" in caplog.text
    assert message in caplog.text
    assert "okmod" in registry.modules
    if module.name != "sample":  # the first "sample" stays loaded; the impostor is not
        assert module.name not in registry.modules
    else:
        assert registry.modules["sample"] is not module
    assert new_app.test_client().get("/healthz").status_code == 200


def test_modules_breaking_no_rule_are_all_loaded(build_app):
    build_app([healthy_module(), bad(models=(WellNamedTable,))])
    assert not {"okmod", "badmod", "sample"} & set(registry.errors)
    assert {"sample", "okmod", "badmod"} <= set(registry.modules)


def _write_package(tmp_path, monkeypatch, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_broken_modules_do_not_stop_the_platform_or_the_other_modules(
    build_app, make_tenant, make_user, tmp_path, monkeypatch
):
    _write_package(tmp_path, monkeypatch, "exploding_module", "raise RuntimeError('boom')\n")
    _write_package(tmp_path, monkeypatch, "not_a_module", "module = 'just a string'\n")
    extra = [
        "no_such_package.module:module",  # not installed
        "exploding_module:module",  # fails while importing
        "distretto.platform.modules:no_such_object",  # no such attribute
        "not_a_module:module",  # not a Module object
        bad(name="needy", requires=("not_installed",)),  # a missing dependency
        bad(name="needs_needy", requires=("needy",)),  # depends on a dropped module
        healthy_module(),
    ]
    new_app = build_app(extra)

    assert "ModuleNotFoundError" in registry.errors["no_such_package.module:module"]
    assert "RuntimeError: boom" in registry.errors["exploding_module:module"]
    assert "AttributeError" in registry.errors["distretto.platform.modules:no_such_object"]
    assert "did not give a Module object" in registry.errors["not_a_module:module"]
    assert registry.errors["needy"] == "missing dependencies: not_installed"
    assert registry.errors["needs_needy"] == "missing dependencies: needy"
    assert set(registry.modules) >= {"sample", "okmod"}
    assert not {"needy", "needs_needy"} & set(registry.modules)

    client = new_app.test_client()
    assert client.get("/healthz").status_code == 200
    tenant = make_tenant(modules=["okmod", "sample"])
    user = make_user(tenant, "owner")
    client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
    )
    page = client.get(f"/{tenant.slug}/okmod/")
    assert page.status_code == 200
    assert "okmod works" in page.get_data(as_text=True)
    assert client.get(f"/{tenant.slug}/sample/").status_code == 200


def test_modules_list_reports_broken_modules_by_name(build_app):
    new_app = build_app(["no_such_package.module:module", healthy_module()])
    result = new_app.test_cli_runner().invoke(args=["modules", "list"])
    assert result.exit_code == 0, result.output
    assert "okmod\t1.0.0" in result.output
    assert "BROKEN no_such_package.module:module\tModuleNotFoundError" in result.output


def test_enabling_a_broken_module_is_refused_with_its_problem(build_app, make_tenant):
    build_app([bad(name="needy", requires=("not_installed",))])
    from distretto.platform.modules import ModuleError

    with pytest.raises(ModuleError, match="missing dependencies: not_installed"):
        make_tenant(modules=["needy"])


def test_disabled_modules_are_not_loaded_and_not_reported(build_app):
    build_app([healthy_module(), "no_such_package.module:module"], disabled=("okmod",))
    assert "okmod" not in registry.modules
    assert "okmod" not in registry.errors
    build_app(
        [healthy_module(), "no_such_package.module:module"],
        disabled=("no_such_package.module:module",),
    )
    assert "no_such_package.module:module" not in registry.errors
    assert "okmod" in registry.modules
