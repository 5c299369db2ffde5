"""The firm's self-service pages (firm data and logo, audit trail, support access, roles)
and the operator's support list, as the cross-firm sweep sees them (see :mod:`.routes`).

Imported by :mod:`distretto.testing.kernel_routes`.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from distretto.testing.routes import RouteRequest, SweepFirm, route_case, tenant_free

tenant_free(
    "operator.support_grants",
    "operator console: lists only the firms whose live grant names the signed-in operator",
)


def tiny_png(width: int = 2, height: int = 1) -> bytes:
    """A valid PNG of ``width`` x ``height`` grey pixels, made without any imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- firm data and logo --------------------------------------------------------------------


@route_case("firm.settings", "GET")
@route_case("firm.audit_trail", "GET")
@route_case("firm.audit_verify", "GET")
@route_case("firm.support_access", "GET")
def _firm_page(firm: SweepFirm) -> None:
    return None


def _renamed(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.models import Tenant

    tenant = db.session.get(Tenant, firm.tenant_id)
    db.session.refresh(tenant)
    assert request.data is not None
    assert tenant.legal_name == request.data["legal_name"]
    assert tenant.settings["fiscal"]["city"] == "Gorle"


@route_case("firm.settings", "POST", expect_ok={303}, verify=_renamed)
def _save_firm(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(
        data={
            "legal_name": f"{firm.legal_name} renamed",
            "vat_number": firm.tenant.vat_number,
            "street": "Via Roma 1",
            "postcode": "24020",
            "city": "Gorle",
            "province": "BG",
            "country": "IT",
            "default_locale": "en",
        }
    )


def _logo_saved(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.files import latest_file

    stored = latest_file("logo")
    assert stored is not None
    assert stored.content_type == "image/png"


@route_case("firm.upload_logo", "POST", expect_ok={303}, verify=_logo_saved)
def _upload_logo(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(data={"logo": (io.BytesIO(tiny_png()), "logo.png")})


def _save_logo(firm: SweepFirm) -> None:
    from distretto.tenants.firm import save_logo

    save_logo(firm.tenant, "logo.png", tiny_png(3, 2))


def _logo_gone(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.files import latest_file

    assert latest_file("logo") is None


@route_case("firm.remove_logo", "POST", expect_ok={303}, verify=_logo_gone)
def _remove_logo(firm: SweepFirm) -> None:
    _save_logo(firm)


@route_case("firm.logo", "GET")
def _logo(firm: SweepFirm) -> None:
    _save_logo(firm)


# --- audit trail ---------------------------------------------------------------------------


@route_case("firm.audit_entry", "GET")
def _audit_entry(firm: SweepFirm) -> dict[str, int]:
    from distretto.platform import audit

    entry = audit.record("sweep.checked", None, summary={"mark": firm.unique("audit")})
    return {"entry_id": entry.id}


# --- support access ------------------------------------------------------------------------


def _operator(firm: SweepFirm) -> Any:
    from distretto.tenants.services import create_user

    return create_user(f"{firm.unique('operator')}@example.com", None, operator=True)


def _granted(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from sqlalchemy import select

    from distretto.platform.db import db
    from distretto.tenants.support import SupportGrant

    assert request.data is not None
    grants = db.session.execute(select(SupportGrant)).scalars().all()
    assert [g.operator.email for g in grants] == [request.data["operator_email"]]


@route_case("firm.grant_support", "POST", expect_ok={303}, verify=_granted)
def _grant_support(firm: SweepFirm) -> RouteRequest:
    operator = _operator(firm)
    return RouteRequest(
        data={"operator_email": operator.email, "hours": "4", "reason": "Sweep check"}
    )


def _revoked(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.support import SupportGrant

    grant = db.session.get(SupportGrant, request.url["grant_id"])
    db.session.refresh(grant)
    assert grant.revoked_at is not None


@route_case("firm.revoke_support", "POST", expect_ok={303}, verify=_revoked)
def _revoke_support(firm: SweepFirm) -> RouteRequest:
    from distretto.tenants.support import grant_access

    grant = grant_access(_operator(firm).email, 2, "Sweep check", granted_by=firm.owner)
    return RouteRequest(url={"grant_id": grant.id})


# --- members: change of role ---------------------------------------------------------------


def _role_changed(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.models import Membership

    membership = db.session.get(Membership, request.url["membership_id"])
    db.session.refresh(membership)
    assert membership.role == "admin"


@route_case("tenant.change_role", "POST", expect_ok={302}, verify=_role_changed)
def _change_role(firm: SweepFirm) -> RouteRequest:
    from distretto.tenants.services import create_user, grant

    person = create_user(f"{firm.unique('member')}@example.com", None, "Member to promote")
    membership = grant(firm.tenant, person, "staff")
    return RouteRequest(url={"membership_id": membership.id}, data={"role": "admin"})
