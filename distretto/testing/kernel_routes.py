"""The kernel's routes as the cross-firm sweep sees them (see :mod:`distretto.testing.routes`).

Every firm page has a case; every other page says here why it takes no firm.
A new kernel route fails the sweep until it is added to this file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from distretto.testing.routes import RouteRequest, SweepFirm, route_case, tenant_free

# --- pages that take no firm ---------------------------------------------------

tenant_free("static", "the platform's own CSS, JavaScript and images, the same for everyone")
tenant_free("health.healthz", "liveness probe: reads nothing")
tenant_free("health.readyz", "readiness probe: database reachable and schema at head, no rows")
tenant_free("auth.login", "signing in happens before any firm is chosen")
tenant_free("auth.logout", "ends the person's session, whatever firm they were in")
tenant_free("auth.forgot_password", "addressed by e-mail; answers the same for known and unknown")
tenant_free("auth.reset_password", "addressed by a signed single-use token for one person")
tenant_free("home.index", "the firm chooser lists only the signed-in person's own memberships")
tenant_free(
    "home.accept_invitation",
    "addressed by a signed single-use token that itself names the firm being joined",
)
tenant_free("operator.index", "operator console: the firm registry, no business data")
tenant_free("operator.create_firm", "operator console: onboarding a new firm")
tenant_free("operator.suspend", "operator console: a firm's lifecycle, not its data")
tenant_free("operator.resume", "operator console: a firm's lifecycle, not its data")


# --- firm pages ------------------------------------------------------------------


@route_case("tenant.home", "GET", modules=("catalog", "orders", "inventory", "invoicing"))
def _firm_home(firm: SweepFirm) -> None:
    """The dashboard lists customers' names, order numbers and product codes."""
    from distretto.testing.ux_routes import _records

    _records(firm)
    return None


@route_case("tenant.members", "GET")
def _members_page(firm: SweepFirm) -> None:
    return None


def _invitation_sent(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.models import Invitation

    emails = db.session.execute(select(Invitation.email)).scalars().all()
    assert request.data is not None
    assert request.data["email"] in emails


@route_case("tenant.invite", "POST", expect_ok={302}, verify=_invitation_sent)
def _invite(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(data={"email": f"{firm.unique('invitee')}@example.com", "role": "staff"})


def _member_gone(firm: SweepFirm, request: RouteRequest, response: Any) -> None:
    from distretto.platform.db import db
    from distretto.tenants.models import Membership

    assert db.session.get(Membership, request.url["membership_id"]) is None


@route_case("tenant.remove_member", "POST", expect_ok={302}, verify=_member_gone)
def _remove_member(firm: SweepFirm) -> RouteRequest:
    from distretto.tenants.services import create_user, grant

    person = create_user(f"{firm.unique('member')}@example.com", None, "Member to remove")
    membership = grant(firm.tenant, person, "staff")
    return RouteRequest(url={"membership_id": membership.id})


# --- the firm-admin settings pages (distretto.tenants.settings) --------------------------

import distretto.testing.api_routes  # noqa: E402, F401 - registers on import
import distretto.testing.firm_routes  # noqa: E402, F401 - registers on import
import distretto.testing.lifecycle_routes  # noqa: E402, F401 - registers on import
import distretto.testing.lists_routes  # noqa: E402, F401 - registers on import
import distretto.testing.settings_routes  # noqa: E402, F401 - registers on import
import distretto.testing.usage_routes  # noqa: E402, F401 - registers on import
import distretto.testing.ux_routes  # noqa: E402, F401 - registers on import
import distretto.testing.webhooks_routes  # noqa: E402, F401 - registers on import
