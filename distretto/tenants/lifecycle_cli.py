"""``distretto firms ...``: export, import, deletion and purge of whole firms (operators)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from distretto.platform.cli import CommandFailed, transactional
from distretto.platform.db import db

firms_group = click.Group("firms", help="Whole firms: export, import, deletion and purge.")


@firms_group.command("export")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@transactional
def firms_export(slug: str, file: str) -> None:
    """Write every record and file of the firm SLUG to the zip FILE."""
    from distretto.tenants.portability import export_firm
    from distretto.tenants.services import find_tenant

    tenant = find_tenant(slug)
    with open(file, "wb") as out:
        result = export_firm(tenant, out)
    rows = sum(t["rows"] for t in result.manifest["tables"].values())
    click.echo(
        f"exported {slug}: {rows} rows in {len(result.manifest['tables'])} tables, "
        f"{len(result.manifest['files'])} files; checksum {result.checksum}"
    )


@firms_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--slug", required=True, help="Address name of the new firm.")
@click.option("--name", "legal_name", default=None, help="Legal name (default: the exported one).")
@click.option("--invite-missing", is_flag=True, help="Invite members who have no account here yet.")
@transactional
def firms_import(file: str, slug: str, legal_name: str | None, invite_missing: bool) -> None:
    """Create the new firm --slug from the export FILE (checked in full before writing)."""
    from distretto.tenants.portability import ImportRefused, import_firm

    try:
        report = import_firm(file, slug, legal_name=legal_name, invite_missing=invite_missing)
    except ImportRefused as exc:
        raise CommandFailed(f"import refused, nothing written: {exc}") from exc
    click.echo(f"imported {report.tenant.slug}: {sum(report.rows.values())} rows")
    for table, reasons in sorted(report.skipped.items()):
        click.echo(f"  {table}: {len(reasons)} rows left out ({reasons[0]})")
    for email, role in report.missing_users:
        state = "invited" if email in report.invited else "no account here, not a member"
        click.echo(f"  {email} ({role}): {state}")


@firms_group.command("delete")
@click.argument("slug")
@click.option("--cancel", is_flag=True, help="Cancel a scheduled deletion instead.")
@transactional
def firms_delete(slug: str, cancel: bool) -> None:
    """Schedule the deletion of SLUG after the grace period (or --cancel it)."""
    from distretto.tenants import lifecycle
    from distretto.tenants.services import find_tenant

    tenant = find_tenant(slug)
    if cancel:
        lifecycle.cancel_deletion(tenant, by_operator=True)
        click.echo(f"deletion of {slug} cancelled")
        return
    lifecycle.request_deletion(tenant, slug, by_operator=True)
    click.echo(f"{slug} will be deleted after {tenant.delete_after:%Y-%m-%d %H:%M} UTC")


@firms_group.command("purge")
@with_appcontext
def firms_purge() -> None:
    """Delete every firm whose grace period is over (run it daily from cron)."""
    from distretto.tenants import lifecycle

    results = lifecycle.purge_due()
    db.session.remove()
    for result in results:
        click.echo(f"purged {result.slug}: {result.total} rows")
    if not results:
        click.echo("no firm to purge")
