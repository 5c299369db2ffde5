"""The modules settings page: what is installed, enabling with dependencies, disabling,
broken modules, and what a firm sees once a module is switched off or on again."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.modules import MenuEntry, Module, TenantModule
from distretto.platform.web import tenant_blueprint
from distretto.testing.plugin import csrf_token
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

MODULES = "/{slug}/settings/modules"


def _addon_module() -> Module:
    """A module that needs "sample", with its own page and menu entry."""
    blueprint = tenant_blueprint("addon", __name__, "/addon")
    blueprint.add_url_rule("/", "index", lambda: "addon page")
    return Module(
        name="addon",
        version="2.1.0",
        label="Add-on reports",
        description="Reports on sample requests",
        requires=("sample",),
        blueprint=blueprint,
        permissions={"addon.view": ("owner", "admin", "staff", "viewer")},
        menu=(MenuEntry("Add-on reports", "addon.index", "addon.view"),),
    )


@pytest.fixture
def app_config(app_config):
    """The sample module, an add-on that needs it, and two that cannot load."""
    broken_dependency = Module(
        name="orphan", version="1.0.0", label="Orphan", requires=("not_installed",)
    )
    extra = list(app_config["EXTRA_MODULES"])
    extra += [_addon_module(), broken_dependency, "tests.support.no_such_package:module"]
    return {**app_config, "EXTRA_MODULES": extra}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def enabled_in(tenant) -> set[str]:
    db.session.rollback()
    with tenant_context(tenant):
        names = set(
            db.session.execute(
                select(TenantModule.module).where(TenantModule.enabled.is_(True))
            ).scalars()
        )
    db.session.rollback()
    return names


def post(client, tenant, path):
    token = csrf_token(client, MODULES.format(slug=tenant.slug))
    return client.post(f"/{tenant.slug}/settings/modules/{path}", data={"csrf_token": token})


# --- who may use the page --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_get_403_and_change_nothing(tenant_client, role):
    client, tenant, _user = tenant_client(role, modules=["sample"])
    assert client.get(MODULES.format(slug=tenant.slug)).status_code == 403
    assert client.get(f"/{tenant.slug}/settings/").status_code == 403
    token = csrf_token(client, f"/{tenant.slug}/")
    for path in ("sample/disable", "addon/enable"):
        response = client.post(
            f"/{tenant.slug}/settings/modules/{path}", data={"csrf_token": token}
        )
        assert response.status_code == 403
    assert enabled_in(tenant) == {"sample"}


def test_settings_home_leads_to_the_modules_page(tenant_client):
    client, tenant, _user = tenant_client("admin")
    response = client.get(f"/{tenant.slug}/settings/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(MODULES.format(slug=tenant.slug))


# --- what the page shows -------------------------------------------------------------------


def test_page_lists_installed_modules_with_version_description_needs_and_status(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample"])

    page = page_text(client.get(MODULES.format(slug=tenant.slug)))

    addon_row = page.split('id="module-addon"')[1].split("</tr>")[0]
    assert "Add-on reports" in addon_row
    assert "2.1.0" in addon_row
    assert "Reports on sample requests" in addon_row
    assert "Sample requests" in addon_row  # what it needs
    assert "disabled" in addon_row
    assert "Enable" in addon_row
    sample_row = page.split('id="module-sample"')[1].split("</tr>")[0]
    assert "enabled" in sample_row
    assert "Disable" in sample_row
    # the settings sub-navigation, with this page marked
    assert f'aria-current="page" href="/{tenant.slug}/settings/modules"' in page
    for tab in ("Members", "Workflows", "Custom fields", "Numbering", "Export and import"):
        assert tab in page


def test_broken_modules_are_listed_as_unavailable_with_the_reason(tenant_client):
    client, tenant, _user = tenant_client("owner")

    page = page_text(client.get(MODULES.format(slug=tenant.slug)))

    assert "Unavailable modules" in page
    orphan = page.split('id="broken-orphan"')[1].split("</tr>")[0]
    assert "missing dependencies: not_installed" in orphan
    missing = page.split('id="broken-tests.support.no_such_package:module"')[1].split("</tr>")[0]
    assert "ModuleNotFoundError" in missing
    assert f'action="/{tenant.slug}/settings/modules/orphan/enable"' not in page


def test_enabling_a_broken_module_is_refused_with_the_reason(tenant_client):
    client, tenant, _user = tenant_client("owner")

    response = post(client, tenant, "orphan/enable")

    assert response.status_code == 409
    assert "orphan cannot be enabled: missing dependencies: not_installed" in page_text(response)
    assert enabled_in(tenant) == set()


def test_an_unknown_module_is_404(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert post(client, tenant, "nothing_like_it/enable").status_code == 404
    assert post(client, tenant, "nothing_like_it/disable").status_code == 404


# --- enabling and disabling ---------------------------------------------------------------------


def test_enabling_a_module_enables_what_it_needs_first(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert client.get(f"/{tenant.slug}/addon/").status_code == 404

    response = post(client, tenant, "addon/enable")

    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert "Add-on reports enabled, together with what it needs: Sample requests." in page
    assert enabled_in(tenant) == {"sample", "addon"}
    assert client.get(f"/{tenant.slug}/addon/").status_code == 200
    assert client.get(f"/{tenant.slug}/sample/").status_code == 200


def test_disabling_a_module_another_enabled_one_needs_is_refused_clearly(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["sample", "addon"])

    response = post(client, tenant, "sample/disable")

    assert response.status_code == 409
    assert (
        "Sample requests cannot be disabled while Add-on reports need it: disable them first."
        in page_text(response)
    )
    assert enabled_in(tenant) == {"sample", "addon"}


def test_disabling_a_module_that_is_not_enabled_says_so(tenant_client):
    client, tenant, _user = tenant_client("owner")
    response = post(client, tenant, "sample/disable")
    assert response.status_code == 409
    assert "Sample requests is not enabled." in page_text(response)


def test_disabled_module_vanishes_for_this_firm_only_and_comes_back_with_its_data(
    tenant_client, make_user, login
):
    client, tenant, owner = tenant_client("owner", modules=["sample"])
    other_client, other, _other_owner = tenant_client("owner", modules=["sample"])
    clerk = login(make_user(tenant, "staff"))
    with tenant_context(tenant, owner.id):
        document = create_request("Kept while disabled", "7")
        db.session.commit()
        document_id = document.id
    home = page_text(client.get(f"/{tenant.slug}/"))
    assert f'href="/{tenant.slug}/sample/"' in home

    response = post(client, tenant, "sample/disable")

    assert response.status_code == 303
    assert "Its data is kept" in page_text(client.get(response.headers["Location"]))
    for person in (client, clerk):
        assert person.get(f"/{tenant.slug}/sample/").status_code == 404
        assert person.get(f"/{tenant.slug}/sample/{document_id}").status_code == 404
        assert f'href="/{tenant.slug}/sample/"' not in page_text(person.get(f"/{tenant.slug}/"))
    # the other firm keeps using it
    assert other_client.get(f"/{other.slug}/sample/").status_code == 200
    assert f'href="/{other.slug}/sample/"' in page_text(other_client.get(f"/{other.slug}/"))
    # its workflow settings are gone for this firm too
    assert client.get(f"/{tenant.slug}/settings/workflows/sample_request").status_code == 404
    db.session.rollback()
    with tenant_context(tenant):
        assert db.session.get(SampleRequest, document_id) is not None  # the data stays
    db.session.rollback()

    response = post(client, tenant, "sample/enable")

    assert response.status_code == 303
    detail = client.get(f"/{tenant.slug}/sample/{document_id}")
    assert detail.status_code == 200
    assert "Kept while disabled" in page_text(detail)
    assert f'href="/{tenant.slug}/sample/"' in page_text(client.get(f"/{tenant.slug}/"))
    assert enabled_in(other) == {"sample"}


def test_members_page_carries_the_same_settings_navigation(tenant_client):
    client, tenant, _user = tenant_client("admin")

    page = page_text(client.get(f"/{tenant.slug}/settings/members"))

    nav = page.split('aria-label="Settings"')[1].split("</nav>")[0]
    assert f'aria-current="page" href="/{tenant.slug}/settings/members"' in nav
    assert f'href="/{tenant.slug}/settings/workflows"' in nav
