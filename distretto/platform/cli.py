"""The ``distretto`` command (a Flask CLI group; ``flask --app wsgi`` works too).

Every command commits once at the end or changes nothing: bad input exits
non-zero with a one-line message.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import click
from flask import Flask, current_app, g, has_request_context
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from distretto.platform.db import db


class CommandFailed(click.ClickException):
    """Printed as ``Error: <message>`` and exit status 1."""


def transactional(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command in one transaction; turn rule violations into one-line errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from distretto.platform.auth.tokens import InvalidLink
        from distretto.platform.modules import ModuleError
        from distretto.tenants.services import TenantError

        try:
            with _command_context():
                result = func(*args, **kwargs)
                db.session.commit()
            return result
        except (TenantError, ModuleError, InvalidLink, LookupError, ValueError) as exc:
            db.session.rollback()
            raise CommandFailed(str(exc)) from exc
        except BaseException:
            db.session.rollback()
            raise

    return with_appcontext(wrapper)


@contextlib.contextmanager
def _command_context() -> Iterator[None]:
    """A request context for services that build links (``url_for``) and log.

    Links are made relative to ``/`` and prefixed with ``BASE_URL`` by the
    services; the command gets its own request id, so its audit entries and
    log lines can be found together.
    """
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/"):
        g.request_id = f"cli-{uuid.uuid4().hex[:16]}"
        yield


def _tenant(slug: str) -> Any:
    from distretto.tenants.services import find_tenant

    return find_tenant(slug)


def _user(email: str) -> Any:
    from distretto.platform.auth.services import find_user

    user = find_user(email)
    if user is None:
        raise CommandFailed(f"no user with e-mail {email}")
    return user


# --- db -----------------------------------------------------------------------

db_group = click.Group("db", help="Database schema: migrations and grants.")


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Target revision.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations (every module's branch), then grant the app role its rights."""
    import flask_migrate

    from distretto.platform.migrations import directory, grant_app_role

    flask_migrate.upgrade(directory=directory(), revision=revision)
    role = grant_app_role()
    click.echo("database at " + revision + (f"; rights granted to role {role}" if role else ""))


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the database)."""
    import flask_migrate

    from distretto.platform.migrations import directory

    flask_migrate.downgrade(directory=directory(), revision=revision)
    click.echo(f"database at {revision}")


@db_group.command("status")
@with_appcontext
def db_status() -> None:
    """Say whether the schema is at the migrations' head."""
    from distretto.platform.migrations import current_revisions, heads, schema_status

    status = schema_status()
    current = ", ".join(sorted(current_revisions())) or "none"
    click.echo(f"{status} (database: {current}; head: {', '.join(sorted(heads()))})")
    if status != "at head":
        sys.exit(1)


# --- tenants --------------------------------------------------------------------

tenants_group = click.Group("tenants", help="Firms hosted on this installation.")


@tenants_group.command("create")
@click.argument("slug")
@click.option("--name", "legal_name", required=True, help="Legal name (ragione sociale).")
@click.option("--vat", "vat_number", required=True, help="Italian VAT number (partita IVA).")
@click.option("--locale", default="it", show_default=True, help="Default language: it or en.")
@click.option("--module", "modules", multiple=True, help="Enable a module (repeatable).")
@transactional
def tenants_create(
    slug: str, legal_name: str, vat_number: str, locale: str, modules: tuple[str, ...]
) -> None:
    """Onboard a firm addressed as /SLUG/."""
    from distretto.tenants.services import create_tenant

    tenant = create_tenant(
        slug, legal_name, vat_number, default_locale=locale, modules=list(modules)
    )
    click.echo(f"created {tenant.slug} ({tenant.legal_name})")


@tenants_group.command("list")
@with_appcontext
def tenants_list() -> None:
    """One line per firm: slug, status, VAT number, legal name."""
    from distretto.tenants.models import Tenant

    for tenant in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars():
        click.echo(f"{tenant.slug}\t{tenant.status}\tIT{tenant.vat_number}\t{tenant.legal_name}")


@tenants_group.command("suspend")
@click.argument("slug")
@click.option("--reason", required=True, help="Shown to the firm's users.")
@transactional
def tenants_suspend(slug: str, reason: str) -> None:
    """Suspend a firm: its users can no longer work in it."""
    from distretto.tenants.services import set_status

    set_status(_tenant(slug), "suspended", reason)
    click.echo(f"suspended {slug}")


@tenants_group.command("resume")
@click.argument("slug")
@transactional
def tenants_resume(slug: str) -> None:
    """Lift a suspension."""
    from distretto.tenants.services import set_status

    set_status(_tenant(slug), "active")
    click.echo(f"resumed {slug}")


# --- users ------------------------------------------------------------------------

users_group = click.Group("users", help="People and their roles in firms.")


@users_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="Full name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--tenant", "slug", default=None, help="Also make the user a member of this firm.")
@click.option("--role", default="staff", show_default=True, help="Role in --tenant.")
@transactional
def users_create(email: str, name: str, password: str, slug: str | None, role: str) -> None:
    """Create an account (and optionally a membership)."""
    from distretto.tenants.services import check_role, create_user, grant

    tenant = _tenant(slug) if slug else None
    if tenant:
        check_role(role)
    user = create_user(email, password, name)
    if tenant:
        grant(tenant, user, role)
    click.echo(f"created {user.email}" + (f" as {role} of {tenant.slug}" if tenant else ""))


@users_group.command("invite")
@click.argument("slug")
@click.argument("email")
@click.option("--role", default="staff", show_default=True)
@transactional
def users_invite(slug: str, email: str, role: str) -> None:
    """Invite EMAIL to the firm SLUG; prints the single-use link."""
    from distretto.tenants.services import invite

    sent = invite(_tenant(slug), email, role)
    click.echo(sent.link)


@users_group.command("grant")
@click.argument("slug")
@click.argument("email")
@click.argument("role")
@transactional
def users_grant(slug: str, email: str, role: str) -> None:
    """Give an existing user ROLE in the firm SLUG."""
    from distretto.tenants.services import grant

    grant(_tenant(slug), _user(email), role)
    click.echo(f"{email} is {role} of {slug}")


operators_group = click.Group(
    "operators", help="District IT staff (manage firms, not their books)."
)


@operators_group.command("create")
@click.argument("email")
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@transactional
def operators_create(email: str, name: str, password: str) -> None:
    """Create a platform operator account."""
    from distretto.tenants.services import create_user

    user = create_user(email, password, name, operator=True)
    click.echo(f"created operator {user.email}")


# --- audit ----------------------------------------------------------------------------

audit_group = click.Group("audit", help="The firms' audit trails.")


@audit_group.command("verify")
@click.argument("slug")
@with_appcontext
def audit_verify(slug: str) -> None:
    """Recompute the hash chain of SLUG's trail; exit 1 if anything was altered or removed."""
    from distretto.platform.audit import verify
    from distretto.platform.context import tenant_context
    from distretto.tenants.services import TenantError

    try:
        tenant = _tenant(slug)
    except TenantError as exc:
        raise CommandFailed(str(exc)) from exc
    from flask_babel import force_locale

    with tenant_context(tenant), force_locale("en"):  # the CLI speaks English throughout
        result = verify()
    if result.ok:
        click.echo(
            f"ok: {result.entries} entries, chain intact "
            f"(last entry {result.head_seq}, hash {result.head_hash})"
        )
        return
    for problem in result.problems:
        click.echo(problem, err=True)
    raise CommandFailed(f"audit trail of {slug} is NOT intact ({len(result.problems)} problems)")


# --- running --------------------------------------------------------------------------


@click.command("demo")
@transactional
def demo_command() -> None:
    """Seed a demo district: three firms, their people, and an operator."""
    from distretto.platform.demo import seed_demo

    for line in seed_demo():
        click.echo(line)


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain what is due, then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between polls when idle.")
@with_appcontext
def worker_command(once: bool, poll: float) -> None:
    """Deliver outbox messages (e-mails, webhooks) with retries and backoff.

    SIGTERM or Ctrl-C stops it: the message being delivered stays due (its
    transaction rolls back) and is delivered on the next run.
    """
    from distretto.platform.outbox import run_worker

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if not once:
        signal.signal(signal.SIGTERM, interrupt)
    try:
        run_worker(poll_seconds=poll, once=once)
    except KeyboardInterrupt:
        db.session.rollback()
        click.echo("worker stopped", err=True)


@click.command("serve")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
@click.option("--bind", default=None, help="host:port (default 127.0.0.1:8000).")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes.")
@click.option(
    "--no-worker", is_flag=True, help="Do not start the outbox worker beside the web server."
)
def serve_command(dev: bool, bind: str | None, workers: int | None, no_worker: bool) -> None:
    """Serve the platform with gunicorn (and the outbox worker)."""
    env = dict(os.environ)
    if bind:
        env["DISTRETTO_BIND"] = bind
    if workers:
        env["DISTRETTO_WORKERS"] = str(workers)
    address = env.get("DISTRETTO_BIND", "127.0.0.1:8000")
    if dev:
        host, _, port = address.rpartition(":")
        env["DISTRETTO_ENV_NAME"] = env.get("DISTRETTO_ENV_NAME", "development")
        cmd = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "distretto.wsgi",
            "run",
            "--debug",
            "--host",
            host or "127.0.0.1",
            "--port",
            port,
        ]
    else:
        conf = os.path.join(os.path.dirname(os.path.dirname(__file__)), "gunicorn_conf.py")
        cmd = [sys.executable, "-m", "gunicorn", "-c", conf, "distretto.wsgi:app"]
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.terminate()

    # Handlers first: a SIGTERM between two spawns must not orphan a child.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children.append(subprocess.Popen(cmd, env=env))  # noqa: S603 - our own interpreter
    if not no_worker and not stopping:
        worker = [sys.executable, "-c", "from distretto.platform.cli import main; main()", "worker"]
        children.append(subprocess.Popen(worker, env=env))  # noqa: S603
    if stopping:
        stop(signal.SIGTERM, None)
    click.echo(f"Distretto is serving on http://{address}/", err=True)
    code = children[0].wait()
    stop(signal.SIGTERM, None)
    for child in children[1:]:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    sys.exit(code)


def register_cli(app: Flask) -> None:
    for command in (
        db_group,
        tenants_group,
        users_group,
        operators_group,
        audit_group,
        demo_command,
        worker_command,
        serve_command,
    ):
        app.cli.add_command(command)
    from distretto.platform.modules import register_module_cli
    from distretto.tenants.lifecycle_cli import firms_group

    app.cli.add_command(firms_group)
    register_module_cli(app)


def _create_app() -> Flask:
    from distretto.platform.app import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=True,
    add_version_option=False,
    help="Distretto: the district's shared light-ERP.",
)


def main() -> None:
    """The ``distretto`` console script; a bad setting ends it with one line naming it."""
    from distretto.platform.config import ConfigError

    try:
        cli.main(prog_name="distretto")
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
