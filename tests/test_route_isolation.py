"""The cross-firm route sweep: every route, every method, two firms with the same data.

Signed in as an owner of firm A, each tenant route is requested with firm B's
ids (on A's address and on B's): both must be 404 and leave B's rows as they
were, while the same request on A's own ids succeeds. The kernel's cases are in
``distretto.testing.kernel_routes``, a module's in ``route_cases.py`` of its
package (see ``distretto.testing.routes``).
"""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import text

from distretto.testing.routes import (
    RouteCase,
    RouteCaseFailed,
    RouteLeak,
    RouteRegistry,
    RouteRequest,
    SweepFirm,
    load_route_cases,
)


def test_firm_a_owner_gets_404_on_firm_b_ids_and_succeeds_on_own(route_case, route_sweep):
    route_sweep(route_case)


def test_every_route_is_swept_or_declared_tenant_free(app):
    gaps = load_route_cases(app.config["EXTRA_MODULES"]).gaps(app)
    assert not gaps, "routes the cross-firm sweep does not cover:\n" + "\n".join(map(str, gaps))


# --- the coverage check itself --------------------------------------------------


def _ok() -> str:
    return "ok"


def _declared(app):
    return load_route_cases(app.config["EXTRA_MODULES"]).copy()


def _gaps(declared, app, endpoint):
    """The coverage gaps about ``endpoint`` (other routes may have gaps of their own
    while a module is being written; the test above reports those)."""
    return [(gap.method, gap.problem) for gap in declared.gaps(app) if gap.endpoint == endpoint]


def test_a_new_firm_route_without_a_case_fails_the_coverage_check(app):
    declared = _declared(app)
    app.add_url_rule("/<tenant>/sweep-probe", "sweep_probe", _ok, methods=["GET", "POST"])

    gaps = _gaps(declared, app, "sweep_probe")

    assert [method for method, _problem in gaps] == ["GET", "POST"]
    assert all("not swept" in problem for _method, problem in gaps)
    declared.add(RouteCase("sweep_probe", "GET"))
    assert [method for method, _problem in _gaps(declared, app, "sweep_probe")] == ["POST"]
    declared.add(RouteCase("sweep_probe", "POST"))
    assert _gaps(declared, app, "sweep_probe") == []


def test_a_firm_route_cannot_be_declared_tenant_free(app):
    declared = _declared(app)
    app.add_url_rule("/<tenant>/sweep-probe", "sweep_probe", _ok)
    declared.tenant_free("sweep_probe", "claims to hold no firm data")

    declared.add(RouteCase("sweep_probe", "GET"))

    gaps = _gaps(declared, app, "sweep_probe")

    assert len(gaps) == 1
    assert gaps[0][0] == "GET"
    assert "cannot be tenant-free" in gaps[0][1]


def test_a_new_route_without_a_firm_must_be_declared_tenant_free(app):
    declared = _declared(app)
    app.add_url_rule("/sweep-public", "sweep_public", _ok)

    gaps = _gaps(declared, app, "sweep_public")

    assert [method for method, _problem in gaps] == ["GET"]
    assert "not declared tenant-free" in gaps[0][1]
    declared.tenant_free("sweep_public", "a public page")
    assert _gaps(declared, app, "sweep_public") == []


def test_a_declaration_for_a_route_that_does_not_exist_is_reported(app):
    declared = _declared(app)
    declared.add(RouteCase("tenant.no_such_page", "GET"))
    declared.tenant_free("no_such_public_page", "gone")

    assert _gaps(declared, app, "tenant.no_such_page") == [
        ("GET", "RouteCase names no route of the app")
    ]
    assert _gaps(declared, app, "no_such_public_page") == [
        ("*", "declared tenant-free but no such route")
    ]


def test_a_modules_cases_are_found_in_its_package():
    declared = load_route_cases(["tests.support.sample:module"])

    assert declared.get("sample.transition", "POST") is not None


def test_tenant_free_needs_a_reason_and_a_case_is_declared_once():
    declared = RouteRegistry()
    with pytest.raises(ValueError, match="say why"):
        declared.tenant_free("somewhere", "  ")
    declared.add(RouteCase("tenant.home", "GET"))
    with pytest.raises(ValueError, match="already registered"):
        declared.add(RouteCase("tenant.home", "get"))


# --- the sweep catches broken routes ---------------------------------------------


def _staff_member(firm: SweepFirm) -> RouteRequest:
    from distretto.tenants.services import create_user, grant

    person = create_user(f"{firm.unique('probe')}@example.com", None)
    return RouteRequest(url={"membership_id": grant(firm.tenant, person, "staff").id})


PROBE_RULE = "/<tenant>/sweep-probe/<int:membership_id>"


def test_sweep_reports_a_route_that_serves_another_firms_id(app, route_sweep):
    def ignores_whose_id_it_is(membership_id: int) -> str:
        return f"member {membership_id}"

    app.add_url_rule(PROBE_RULE, "sweep_probe", ignores_whose_id_it_is)

    with pytest.raises(RouteLeak, match="with firm B's ids .*got 200, expected \\[404\\]"):
        route_sweep(RouteCase("sweep_probe", "GET", build=_staff_member))


def test_sweep_reports_a_page_that_shows_another_firms_rows(app, route_sweep, distretto_database):
    def lists_every_firms_people() -> str:
        with distretto_database.owner_engine.connect() as connection:
            return ", ".join(connection.execute(text("SELECT email FROM users")).scalars())

    app.add_url_rule("/<tenant>/sweep-probe", "sweep_probe", lists_every_firms_people)

    with pytest.raises(RouteLeak, match="A's own request.* showed firm B's 'user"):
        route_sweep(RouteCase("sweep_probe", "GET"))


def test_sweep_reports_a_refused_request_that_still_changed_firm_b(
    app, route_sweep, distretto_database
):
    def demotes_then_refuses(membership_id: int) -> str:
        with distretto_database.owner_engine.begin() as connection:
            connection.execute(
                text("UPDATE memberships SET role = 'viewer' WHERE id = :id"), {"id": membership_id}
            )
        abort(404)

    # GET: on SQLite a POST's transaction holds the write lock the leak needs
    app.add_url_rule(PROBE_RULE, "sweep_probe", demotes_then_refuses)

    with pytest.raises(RouteLeak, match="firm B's rows changed .*tables: memberships"):
        route_sweep(RouteCase("sweep_probe", "GET", build=_staff_member))


def test_sweep_refuses_a_case_whose_firms_share_an_id(app, route_sweep):
    app.add_url_rule(PROBE_RULE, "sweep_probe", _ok)

    with pytest.raises(RouteCaseFailed, match="the same membership_id=7"):
        route_sweep(RouteCase("sweep_probe", "GET", build=lambda firm: {"membership_id": 7}))


def test_sweep_reports_a_route_that_refuses_its_own_firm_too(app, route_sweep):
    def refuses_everyone(membership_id: int) -> str:
        abort(404)

    app.add_url_rule(PROBE_RULE, "sweep_probe", refuses_everyone)

    with pytest.raises(RouteCaseFailed, match="on A's own data: got 404"):
        route_sweep(RouteCase("sweep_probe", "GET", build=_staff_member))


def test_sweep_reports_a_post_that_answers_but_does_nothing(app, route_sweep):
    from distretto.platform.db import db
    from distretto.tenants.models import Membership

    def finds_the_member_but_keeps_it(membership_id: int) -> tuple[str, int]:
        if db.session.get(Membership, membership_id) is None:
            abort(404)
        return "", 302

    def membership_removed(firm, request, response):
        assert db.session.get(Membership, request.url["membership_id"]) is None

    app.add_url_rule(PROBE_RULE, "sweep_probe", finds_the_member_but_keeps_it, methods=["POST"])
    case = RouteCase(
        "sweep_probe", "POST", build=_staff_member, expect_ok={302}, verify=membership_removed
    )

    with pytest.raises(RouteCaseFailed, match="did not do its work"):
        route_sweep(case)
