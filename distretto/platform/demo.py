"""The demo district: three firms of different sectors, their people, an operator.

Idempotent: running it again leaves an existing demo untouched (no row, no
audit entry); a firm or person that is missing is added back. As modules
arrive, each contributes its demo data through ``Module.on_enable``.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from distretto.platform.auth.models import User
from distretto.platform.auth.services import find_user
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import registry
from distretto.tenants.models import Membership, Role, Tenant
from distretto.tenants.services import TenantError, create_tenant, create_user, find_tenant, grant

DEMO_PASSWORD = "distretto-demo"  # noqa: S105 - published demo credentials

FIRMS = [
    {
        "slug": "meccanica-valseriana",
        "name": "Meccanica Valseriana S.r.l.",
        "vat": "04528710165",
        "sector": "mechanical subcontracting",
        "owner": ("titolare@meccanica-valseriana.example", "Giulia Bonetti"),
        "staff": ("magazzino@meccanica-valseriana.example", "Marco Rota"),
        "locale": "it",
    },
    {
        "slug": "tessitura-lariana",
        "name": "Tessitura Lariana S.p.A.",
        "vat": "01987650163",
        "sector": "textiles",
        "owner": ("titolare@tessitura-lariana.example", "Paolo Cattaneo"),
        "staff": ("ufficio@tessitura-lariana.example", "Elena Sala"),
        "locale": "it",
    },
    {
        "slug": "calzaturificio-brenta",
        "name": "Calzaturificio del Brenta S.r.l.",
        "vat": "03777120167",
        "sector": "footwear",
        "owner": ("owner@calzaturificio-brenta.example", "Anna Zanin"),
        "staff": ("orders@calzaturificio-brenta.example", "Luca Favaro"),
        "locale": "en",
    },
]

ACCOUNTANT = ("studio@commercialista-bergamo.example", "Studio Rossi (commercialista)")
OPERATOR = ("it@distretto.example", "District IT")


def seed_demo() -> Iterator[str]:
    modules = list(registry.modules)
    accountant = find_user(ACCOUNTANT[0]) or create_user(
        ACCOUNTANT[0], DEMO_PASSWORD, ACCOUNTANT[1]
    )
    for firm in FIRMS:
        try:
            tenant = find_tenant(firm["slug"])
            yield f"{firm['name']} already present"
        except TenantError:
            tenant = create_tenant(
                firm["slug"],
                firm["name"],
                firm["vat"],
                default_locale=firm["locale"],
                modules=modules,
            )
            yield f"created {firm['name']} ({firm['sector']}) at /{tenant.slug}/"
            yield from _business_data(tenant, set(modules))
        for (email, name), role in ((firm["owner"], Role.OWNER), (firm["staff"], Role.STAFF)):
            user = find_user(email) or create_user(email, DEMO_PASSWORD, name)
            _ensure_member(tenant, user, role)
        _ensure_member(tenant, accountant, Role.VIEWER)
    if find_user(OPERATOR[0]) is None:
        create_user(OPERATOR[0], DEMO_PASSWORD, OPERATOR[1], operator=True)
    base = current_app.config["BASE_URL"].rstrip("/")
    yield ""
    yield f"Open {base}/login and sign in with any of these (password: {DEMO_PASSWORD}):"
    for firm in FIRMS:
        yield f"  {firm['owner'][0]:<44} owner of {firm['name']}"
        yield f"  {firm['staff'][0]:<44} staff of {firm['name']}"
    yield f"  {ACCOUNTANT[0]:<44} viewer of all three firms (switch between them)"
    yield f"  {OPERATOR[0]:<44} district operator (firms, not their books)"


def _business_data(tenant: Tenant, enabled: set[str]) -> Iterator[str]:
    """Customers, products, stock, orders and invoices, when the built-in modules are there."""
    try:
        from distretto.modules.demo_data import seed_firm
    except ImportError:  # a platform installed without its business modules
        return
    yield from seed_firm(tenant, enabled)


def _ensure_member(tenant: Tenant, user: User, role: str) -> None:
    """Grant ``role`` unless the person already has a role there (theirs to keep).

    ``grant`` always writes an audit entry; a second demo run must write nothing.
    """
    with tenant_context(tenant):
        member = db.session.execute(
            select(Membership.id).where(Membership.user_id == user.id)
        ).first()
    if member is None:
        grant(tenant, user, role)
