"""The module contract and registry.

A module is a package exposing one :class:`Module` object through the
entry-point group ``distretto.modules``. The registry loads them at start-up,
checks their namespaces, and keeps going when one is broken: the broken
module is reported by name and the platform and the other modules run on.
Each firm enables modules one by one (:class:`TenantModule`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from flask import Blueprint, Flask, abort, g, has_app_context, request
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from sqlalchemy import Boolean, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from distretto import __version__
from distretto.platform.context import current_tenant_id
from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.platform.documents import DocumentType, WorkflowAction

logger = logging.getLogger("distretto.modules")

ENTRY_POINT_GROUP = "distretto.modules"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")


@dataclass(frozen=True)
class MenuEntry:
    label: str  # a lazy_gettext string, so it follows the user's language
    endpoint: str
    permission: str | None = None
    icon: str | None = None
    order: int = 100


@dataclass
class Module:
    """What a module declares. Only ``name``, ``version`` and ``label`` are required.

    The loader refuses a module whose names stray outside its namespace: the
    blueprint is named ``name`` (API blueprint ``name_api``) and mounted under
    ``/<tenant>/name`` (API: ``/api/v1/<tenant>/name``), tables start with
    ``name_``, permissions and actions with ``name.``.
    """

    name: str
    version: str
    label: Any
    description: Any = ""
    platform_versions: str = ">=0.1,<1"
    requires: tuple[str, ...] = ()
    models: tuple[type, ...] = ()
    blueprint: Blueprint | None = None
    api_blueprint: Blueprint | None = None
    permissions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    menu: tuple[MenuEntry, ...] = ()
    document_types: tuple[DocumentType, ...] = ()
    actions: tuple[WorkflowAction, ...] = ()
    event_handlers: dict[str, Iterable[Callable[..., Any]]] = field(default_factory=dict)
    on_enable: Callable[[Any], None] | None = None
    migrations: str | None = None  # folder of this module's Alembic branch
    demo: Callable[[Any], None] | None = None  # seeds demo data for a firm
    # Public events firms may subscribe webhooks to (distretto.platform.webhooks.WebhookEvent)
    webhook_events: tuple[Any, ...] = ()
    # The firm's home page: () -> list[Widget] (distretto.platform.dashboard)
    dashboard: Callable[[], list[Any]] | None = None
    # Global search: (query, limit) -> list[SearchGroup] (distretto.platform.search)
    search: Callable[[str, int], list[Any]] | None = None

    @property
    def workflows(self) -> dict[str, Any]:
        return {d.name: d.default_workflow for d in self.document_types if d.default_workflow}


class ModuleError(Exception):
    pass


class TenantModule(TenantOwned, db.Model):
    """A module switched on (or off again) for one firm."""

    __tablename__ = "tenant_modules"
    __table_args__ = (UniqueConstraint("tenant_id", "module"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    module: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModuleRegistry:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.errors: dict[str, str] = {}
        self.document_types: dict[str, DocumentType] = {}
        self.actions: dict[str, WorkflowAction] = {}

    def init_app(self, app: Flask) -> None:
        self.modules = {}
        self.errors = {}
        self.document_types = {}
        self.actions = {}
        disabled = set(app.config.get("DISABLED_MODULES", ()))
        for name, loader in self._discover(app.config.get("EXTRA_MODULES", ())):
            if name in disabled:
                continue
            try:
                module = loader()
                self._check(name, module)
            except Exception as exc:  # noqa: BLE001 - a broken module must not stop the platform
                self.errors[name] = f"{type(exc).__name__}: {exc}"
                logger.error("module %s not loaded: %s", name, self.errors[name])
                continue
            self.modules[module.name] = module
        changed = True
        while changed:  # drop modules whose dependencies are missing or dropped
            changed = False
            for name in list(self.modules):
                missing = [dep for dep in self.modules[name].requires if dep not in self.modules]
                if missing:
                    self.errors[name] = f"missing dependencies: {', '.join(missing)}"
                    logger.error("module %s not loaded: %s", name, self.errors[name])
                    del self.modules[name]
                    changed = True
        from distretto.platform.permissions import register_permissions

        for module in self.modules.values():
            register_permissions(module.permissions)
            for doc_type in module.document_types:
                doc_type.module = module.name
                self.document_types[doc_type.name] = doc_type
            for action in module.actions:
                self.actions[action.name] = action
            if module.blueprint is not None:
                app.register_blueprint(module.blueprint)
            if module.api_blueprint is not None:
                app.register_blueprint(module.api_blueprint)
        app.extensions["distretto.modules"] = self
        app.before_request(_refuse_disabled_module)

    def _discover(self, extra: Iterable[Any]) -> list[tuple[str, Callable[[], Module]]]:
        found: list[tuple[str, Callable[[], Module]]] = [
            (ep.name, ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)
        ]
        for item in extra:
            if isinstance(item, str):  # "package.module:object"
                found.append((item, lambda spec=item: _load_object(spec)))
            else:
                found.append((getattr(item, "name", repr(item)), lambda m=item: m))
        return found

    def _check(self, entry_name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise ModuleError(f"entry point {entry_name!r} did not give a Module object")
        name = module.name
        if not NAME_RE.match(name or ""):
            raise ModuleError(f"module name {name!r} must be lower-case letters, digits and _")
        if name in self.modules:
            raise ModuleError(f"a module named {name!r} is already loaded")
        try:
            supported = SpecifierSet(module.platform_versions)
        except InvalidSpecifier as exc:
            raise ModuleError(f"platform_versions {module.platform_versions!r} is invalid") from exc
        if Version(__version__) not in supported:
            raise ModuleError(
                f"supports platform {module.platform_versions}, this is {__version__}"
            )
        if module.blueprint is not None:
            bp = module.blueprint
            if bp.name != name:
                raise ModuleError(f"blueprint {bp.name!r} must be named {name!r}")
            if (bp.url_prefix or "") != f"/<tenant>/{name}":
                raise ModuleError(
                    f"blueprint URL prefix {bp.url_prefix!r} must be '/<tenant>/{name}' "
                    "(use tenant_blueprint)"
                )
        if module.api_blueprint is not None:
            bp = module.api_blueprint
            if bp.name != f"{name}_api":
                raise ModuleError(f"API blueprint {bp.name!r} must be named '{name}_api'")
            if (bp.url_prefix or "") != f"/api/v1/<tenant>/{name}":
                raise ModuleError(
                    f"API URL prefix {bp.url_prefix!r} must be '/api/v1/<tenant>/{name}'"
                )
        for perm in module.permissions:
            if not perm.startswith(f"{name}."):
                raise ModuleError(f"permission {perm!r} must start with '{name}.'")
        for action in module.actions:
            if not action.name.startswith(f"{name}."):
                raise ModuleError(f"action {action.name!r} must start with '{name}.'")
            if action.name in self.actions:
                raise ModuleError(f"action {action.name!r} is already offered by another module")
        for model in module.models:
            table = getattr(model, "__tablename__", "")
            if not table.startswith(f"{name}_"):
                raise ModuleError(f"table {table!r} must start with '{name}_'")
        for doc_type in module.document_types:
            if doc_type.name in self.document_types or any(
                doc_type.name in {d.name for d in other.document_types}
                for other in self.modules.values()
            ):
                raise ModuleError(f"document type {doc_type.name!r} is already declared")
        for entry in module.menu:
            if not entry.endpoint.startswith(f"{name}."):
                raise ModuleError(f"menu entry {entry.endpoint!r} must point into '{name}.'")

    def enabled_for(self, tenant_id: int) -> list[Module]:
        names = set(
            db.session.execute(
                select(TenantModule.module).where(TenantModule.enabled.is_(True))
            ).scalars()
        )
        return [m for n, m in self.modules.items() if n in names]

    def module_of_endpoint(self, endpoint: str | None) -> Module | None:
        if not endpoint or "." not in endpoint:
            return None
        blueprint = endpoint.split(".", 1)[0]
        name = blueprint.removesuffix("_api")
        return self.modules.get(name)

    def migration_locations(self) -> list[str]:
        return [m.migrations for m in self.modules.values() if m.migrations]


def _load_object(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    obj: Any = import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


registry = ModuleRegistry()


def _refuse_disabled_module() -> None:
    module = registry.module_of_endpoint(request.endpoint)
    if module is None or g.get("tenant") is None:
        return
    if module.name not in {m.name for m in enabled_modules()}:
        abort(404)


def enabled_modules() -> list[Module]:
    """The current firm's enabled modules, cached per firm for the app context."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return []
    cache = g.setdefault("_enabled_modules", {})
    if tenant_id not in cache:
        cache[tenant_id] = registry.enabled_for(tenant_id)
    return cache[tenant_id]


def invalidate_enabled_cache() -> None:
    if has_app_context():
        g.pop("_enabled_modules", None)


def available_actions(doc_type_name: str) -> list[WorkflowAction]:
    """Actions the current firm's enabled modules offer for this document type."""
    return [
        action
        for module in enabled_modules()
        for action in module.actions
        if not action.document_types or doc_type_name in action.document_types
    ]


def enable_module(name: str) -> TenantModule:
    """Switch a module on for the current firm, its dependencies first."""
    from distretto.platform import audit

    module = registry.modules.get(name)
    if module is None:
        problem = registry.errors.get(name)
        raise ModuleError(
            f"module {name!r} is not available" + (f" ({problem})" if problem else "")
        )
    for dependency in module.requires:
        enable_module(dependency)
    row = db.session.execute(
        select(TenantModule).where(TenantModule.module == name)
    ).scalar_one_or_none()
    if row is not None and row.enabled:
        return row
    if row is None:
        row = TenantModule(module=name, enabled=True)
        db.session.add(row)
    else:
        row.enabled = True
        row.changed_at = utcnow()
    db.session.flush()
    invalidate_enabled_cache()
    audit.record("module.enabled", row, summary={"module": name})
    if module.on_enable is not None:
        module.on_enable(row)
    return row


def disable_module(name: str) -> None:
    """Switch a module off for the current firm; its data stays for re-enabling."""
    from distretto.platform import audit

    enabled = {
        r.module
        for r in db.session.execute(
            select(TenantModule).where(TenantModule.enabled.is_(True))
        ).scalars()
    }
    if name not in enabled:
        raise ModuleError(f"module {name!r} is not enabled")
    dependants = [
        m.name for m in registry.modules.values() if name in m.requires and m.name in enabled
    ]
    if dependants:
        raise ModuleError(f"disable {', '.join(dependants)} first: it needs {name!r}")
    row = db.session.execute(select(TenantModule).where(TenantModule.module == name)).scalar_one()
    row.enabled = False
    row.changed_at = utcnow()
    db.session.flush()
    invalidate_enabled_cache()
    audit.record("module.disabled", row, summary={"module": name})


def register_module_cli(app: Flask) -> None:
    import click
    from flask.cli import with_appcontext

    from distretto.platform.cli import CommandFailed, transactional

    group = click.Group("modules", help="Modules installed, and which firms use them.")

    @group.command("list")
    @click.argument("slug", required=False)
    @with_appcontext
    def list_modules(slug: str | None) -> None:
        """Installed modules (and, with SLUG, whether that firm enabled each)."""
        enabled: set[str] = set()
        if slug:
            from distretto.platform.context import tenant_context
            from distretto.tenants.services import TenantError, find_tenant

            try:
                tenant = find_tenant(slug)
            except TenantError as exc:
                raise CommandFailed(str(exc)) from exc
            with tenant_context(tenant):
                enabled = {m.name for m in registry.enabled_for(tenant.id)}
        for module in registry.modules.values():
            mark = ("on " if module.name in enabled else "off ") if slug else ""
            click.echo(f"{mark}{module.name}\t{module.version}\t{module.label}")
        for name, problem in registry.errors.items():
            click.echo(f"BROKEN {name}\t{problem}")

    @group.command("enable")
    @click.argument("slug")
    @click.argument("module")
    @transactional
    def enable(slug: str, module: str) -> None:
        """Enable MODULE (and what it needs) for the firm SLUG."""
        from distretto.platform.context import tenant_context
        from distretto.tenants.services import find_tenant

        tenant = find_tenant(slug)
        with tenant_context(tenant):
            enable_module(module)
        click.echo(f"{module} enabled for {slug}")

    @group.command("disable")
    @click.argument("slug")
    @click.argument("module")
    @transactional
    def disable(slug: str, module: str) -> None:
        """Disable MODULE for SLUG; its data is kept for re-enabling."""
        from distretto.platform.context import tenant_context
        from distretto.tenants.services import find_tenant

        tenant = find_tenant(slug)
        with tenant_context(tenant):
            disable_module(module)
        click.echo(f"{module} disabled for {slug}")

    @group.command("new")
    @click.argument("name")
    @click.option("--path", "path", default=".", show_default=True, help="Where to write it.")
    @with_appcontext
    def new(name: str, path: str) -> None:
        """Generate the package distretto-NAME: a working module to start from."""
        from flask import current_app

        from distretto.platform.scaffold import ScaffoldError, scaffold

        try:
            root = scaffold(
                name,
                path,
                taken_modules=[*registry.modules, *registry.errors],
                taken_tables=db.metadata.tables,
                taken_url_segments=[
                    rule.rule.split("/")[2]
                    for rule in current_app.url_map.iter_rules()
                    if rule.rule.startswith("/<tenant>/") and rule.rule.count("/") > 1
                ],
            )
        except ScaffoldError as exc:
            raise CommandFailed(str(exc)) from exc
        click.echo(f"created {root}")
        click.echo(f"next: pip install -e {root} && distretto db upgrade")

    app.cli.add_command(group)
