"""District templates: named, versioned customisation bundles published by operators.

A template is copied into a firm when applied (at onboarding or later); from
then on the firm's customisation is its own to change. Which firm applied
which version is kept, so operators see who uses what.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform.context import tenant_context
from distretto.platform.customisation import FORMAT, BundleError, apply_bundle
from distretto.platform.db import BigId, TenantOwned, db, utcnow

BUILTIN_TEMPLATES = ("meccanica-contoterzi", "tessile")


class TemplateError(ValueError):
    pass


class DistrictTemplate(db.Model):
    """Global: district-wide, holds no firm's data."""

    __tablename__ = "district_templates"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    bundle: Mapped[dict] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class AppliedTemplate(TenantOwned, db.Model):
    __tablename__ = "applied_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_name: Mapped[str] = mapped_column(String(60))
    template_version: Mapped[int] = mapped_column()
    skipped: Mapped[list] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class TemplateAdoption(db.Model):
    """Which version of a template a firm last applied.

    Global, unlike ``applied_templates`` (the firm's own record, walled by
    row-level security): operators see which firms use which version without
    entering any firm. Written when a template is applied; ``distretto usage
    collect`` rebuilds it from ``applied_templates``.
    """

    __tablename__ = "template_adoptions"
    __table_args__ = (Index("ix_template_adoptions_template", "template_name", "template_version"),)

    firm_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    template_name: Mapped[str] = mapped_column(String(60), primary_key=True)
    template_version: Mapped[int] = mapped_column()
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


def publish(document: Any, *, published_by_id: int | None = None) -> DistrictTemplate:
    """Publish a template file's content as the next version of its name.

    The file holds ``{"name", "label", "description", "customisation": <bundle>}``.
    """
    if not isinstance(document, dict):
        raise TemplateError("a template must be a JSON object")
    name = str(document.get("name") or "").strip()
    label = str(document.get("label") or "").strip()
    bundle = document.get("customisation")
    if not name or not label:
        raise TemplateError("a template needs a 'name' and a 'label'")
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise TemplateError(f"'customisation' must be a bundle with format {FORMAT!r}")
    for section in ("workflows", "custom_fields", "numbering"):
        if not isinstance(bundle.get(section, {}), dict):
            raise TemplateError(f"customisation.{section} must be an object")
    last = db.session.execute(
        select(func.max(DistrictTemplate.version)).where(DistrictTemplate.name == name)
    ).scalar_one()
    template = DistrictTemplate(
        name=name,
        version=(last or 0) + 1,
        label=label,
        description=document.get("description"),
        bundle=bundle,
        published_by_id=published_by_id,
    )
    db.session.add(template)
    db.session.flush()
    return template


def latest(name: str) -> DistrictTemplate:
    template = db.session.execute(
        select(DistrictTemplate)
        .where(DistrictTemplate.name == name)
        .order_by(DistrictTemplate.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if template is None:
        raise TemplateError(f"no district template named {name!r}")
    return template


def all_latest() -> list[DistrictTemplate]:
    rows = db.session.execute(
        select(DistrictTemplate).order_by(DistrictTemplate.name, DistrictTemplate.version.desc())
    ).scalars()
    seen: dict[str, DistrictTemplate] = {}
    for row in rows:
        seen.setdefault(row.name, row)
    return list(seen.values())


def apply(tenant: Any, name: str) -> AppliedTemplate:
    """Copy the latest version of template ``name`` into the firm's customisation.

    Document types of modules the firm has not enabled are skipped (and listed).
    """
    template = latest(name)
    with tenant_context(tenant):
        try:
            skipped = apply_bundle(
                template.bundle,
                source=f"template:{template.name}@{template.version}",
                skip_unavailable=True,
            )
        except BundleError as exc:
            raise TemplateError(f"template {name!r} does not fit {tenant.slug}: {exc}") from exc
        applied = AppliedTemplate(
            template_name=template.name, template_version=template.version, skipped=skipped
        )
        db.session.add(applied)
        db.session.flush()
    record_adoptions(tenant.id, {template.name: (template.version, applied.applied_at)})
    return applied


def adopted_by_current_firm() -> dict[str, tuple[int, datetime]]:
    """Template name -> (version, when) last applied by the current firm."""
    adopted: dict[str, tuple[int, datetime]] = {}
    rows = db.session.execute(
        select(
            AppliedTemplate.template_name,
            AppliedTemplate.template_version,
            AppliedTemplate.applied_at,
        ).order_by(AppliedTemplate.applied_at, AppliedTemplate.id)
    ).all()
    for name, version, applied_at in rows:
        adopted[name] = (version, applied_at)
    return adopted


def record_adoptions(tenant_id: int, adopted: dict[str, tuple[int, datetime]]) -> None:
    """Write the firm's adopted versions to the global ``template_adoptions``."""
    names = list(adopted)
    if names:
        db.session.execute(
            delete(TemplateAdoption).where(
                TemplateAdoption.firm_id == tenant_id, TemplateAdoption.template_name.in_(names)
            )
        )
    for name, (version, applied_at) in adopted.items():
        db.session.add(
            TemplateAdoption(
                firm_id=tenant_id,
                template_name=name,
                template_version=version,
                applied_at=applied_at or utcnow(),
            )
        )
    db.session.flush()


def builtin_document(name: str) -> dict[str, Any]:
    text = (
        resources.files("distretto.tenants")
        .joinpath(f"template_files/{name}.json")
        .read_text("utf-8")
    )
    return json.loads(text)


def publish_builtins() -> list[DistrictTemplate]:
    """Publish the shipped templates that are not yet published (idempotent)."""
    published = []
    for name in BUILTIN_TEMPLATES:
        exists = db.session.execute(
            select(DistrictTemplate.id).where(DistrictTemplate.name == name)
        ).first()
        if not exists:
            published.append(publish(builtin_document(name)))
    return published


def usage() -> list[tuple[str, int, int]]:
    """(template, version, firms that adopted it), read from the global adoptions."""
    rows = db.session.execute(
        select(
            TemplateAdoption.template_name,
            TemplateAdoption.template_version,
            func.count(TemplateAdoption.firm_id),
        )
        .group_by(TemplateAdoption.template_name, TemplateAdoption.template_version)
        .order_by(TemplateAdoption.template_name, TemplateAdoption.template_version)
    ).all()
    return [(name, version, count) for name, version, count in rows]


def register_cli(app: Any) -> None:
    import click
    from flask.cli import with_appcontext

    from distretto.platform.cli import CommandFailed, transactional
    from distretto.tenants.services import find_tenant

    group = click.Group("templates", help="District templates: shared customisation bundles.")

    @group.command("publish")
    @click.argument("path", type=click.Path(dir_okay=False))
    @transactional
    def publish_command(path: str) -> None:
        """Publish the template in the JSON file PATH as a new version."""
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandFailed(f"cannot read {path}: {exc}") from exc
        try:
            template = publish(document)
        except TemplateError as exc:
            raise CommandFailed(str(exc)) from exc
        click.echo(f"published {template.name} version {template.version}")

    @group.command("publish-builtins")
    @transactional
    def publish_builtins_command() -> None:
        """Publish the templates shipped with Distretto (once)."""
        for template in publish_builtins():
            click.echo(f"published {template.name} version {template.version}")

    @group.command("list")
    @with_appcontext
    def list_command() -> None:
        """Latest version of every template."""
        for template in all_latest():
            click.echo(f"{template.name}\t{template.version}\t{template.label}")

    @group.command("apply")
    @click.argument("slug")
    @click.argument("name")
    @transactional
    def apply_command(slug: str, name: str) -> None:
        """Copy template NAME into the firm SLUG's customisation."""
        try:
            applied = apply(find_tenant(slug), name)
        except TemplateError as exc:
            raise CommandFailed(str(exc)) from exc
        skipped = (
            f" (skipped, module not enabled: {', '.join(applied.skipped)})"
            if applied.skipped
            else ""
        )
        click.echo(f"{name} version {applied.template_version} applied to {slug}{skipped}")

    app.cli.add_command(group)
