"""A firm's members page: who may invite and remove whom."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants.models import Invitation, Membership
from distretto.tenants.services import TenantError, grant
from distretto.testing.plugin import csrf_token


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def memberships(firm):
    db.session.rollback()
    with tenant_context(firm):
        rows = db.session.execute(select(Membership)).scalars().all()
        return {m.user_id: (m.id, m.role) for m in rows}


def invitations(firm):
    db.session.rollback()
    with tenant_context(firm):
        return [(i.email, i.role) for i in db.session.execute(select(Invitation)).scalars()]


def sent_mail(app):
    return app.extensions.setdefault("distretto.sent_mail", [])


def post_invite(client, firm, email, role="staff", with_token=True):
    data = {"email": email, "role": role}
    if with_token:
        data["csrf_token"] = csrf_token(client, f"/{firm.slug}/settings/members")
    return client.post(f"/{firm.slug}/settings/members/invite", data=data)


def post_remove(client, firm, membership_id, with_token=True):
    data = {"csrf_token": csrf_token(client, f"/{firm.slug}/")} if with_token else {}
    return client.post(f"/{firm.slug}/settings/members/{membership_id}/remove", data=data)


@pytest.fixture
def firm_with_people(make_tenant, make_user, login):
    """A firm with an owner, an admin, a staff member and a viewer, each with a client."""
    firm = make_tenant()
    people = {role: make_user(firm, role) for role in ("owner", "admin", "staff", "viewer")}
    clients = {role: english(login(user)) for role, user in people.items()}
    return firm, people, clients


def test_admin_sees_members_and_invites_someone_by_mail(app, firm_with_people):
    firm, people, clients = firm_with_people
    page = clients["admin"].get(f"/{firm.slug}/settings/members")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for user in people.values():
        assert user.email in body

    response = post_invite(clients["admin"], firm, "  nuova.collega@example.com ", "staff")
    assert response.status_code == 302
    assert invitations(firm) == [("nuova.collega@example.com", "staff")]
    [mail] = [m for m in sent_mail(app) if m["to"] == "nuova.collega@example.com"]
    assert "http://localhost/invitations/" in mail["body"]
    assert firm.legal_name in mail["subject"]
    listed = clients["admin"].get(f"/{firm.slug}/settings/members").get_data(as_text=True)
    assert "nuova.collega@example.com" in listed


def test_invited_person_joins_and_appears_among_members(app, firm_with_people):
    firm, _people, clients = firm_with_people
    post_invite(clients["owner"], firm, "joiner@example.com", "viewer")
    link = next(m for m in sent_mail(app) if m["to"] == "joiner@example.com")["body"]
    path = link[link.index("/invitations/") :].split()[0]
    newcomer = english(app.test_client())
    token = csrf_token(newcomer, path)
    accepted = newcomer.post(
        path,
        data={
            "name": "Nuova Persona",
            "password": "a-long-password",
            "confirm": "a-long-password",
            "csrf_token": token,
        },
    )
    assert accepted.status_code == 302
    page = clients["owner"].get(f"/{firm.slug}/settings/members").get_data(as_text=True)
    assert "joiner@example.com" in page
    assert "Nuova Persona" in page


def test_bad_address_is_refused_with_a_message(app, firm_with_people):
    firm, _people, clients = firm_with_people
    response = post_invite(clients["admin"], firm, "not-an-address")
    assert response.status_code == 400
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)
    assert invitations(firm) == []
    assert sent_mail(app) == []


def test_unknown_role_is_refused(app, firm_with_people):
    firm, _people, clients = firm_with_people
    response = post_invite(clients["owner"], firm, "x@example.com", "superuser")
    assert response.status_code == 400
    assert invitations(firm) == []


def test_existing_member_cannot_be_invited_again(app, firm_with_people):
    firm, people, clients = firm_with_people
    response = post_invite(clients["owner"], firm, people["staff"].email.upper(), "admin")
    assert response.status_code == 400
    assert "is already a member" in response.get_data(as_text=True)
    assert invitations(firm) == []


def test_admin_cannot_invite_an_owner_but_an_owner_can(app, firm_with_people):
    firm, _people, clients = firm_with_people
    refused = post_invite(clients["admin"], firm, "boss@example.com", "owner")
    assert refused.status_code == 400
    assert "Only an owner can invite another owner." in refused.get_data(as_text=True)
    assert invitations(firm) == []
    assert post_invite(clients["owner"], firm, "boss@example.com", "owner").status_code == 302
    assert invitations(firm) == [("boss@example.com", "owner")]


def test_admin_removes_a_member_who_then_loses_access(app, firm_with_people):
    firm, people, clients = firm_with_people
    staff_membership, _role = memberships(firm)[people["staff"].id]
    response = post_remove(clients["admin"], firm, staff_membership)
    assert response.status_code == 302
    assert people["staff"].id not in memberships(firm)
    assert clients["staff"].get(f"/{firm.slug}/").status_code == 404


def test_last_owner_cannot_be_removed(app, firm_with_people):
    firm, people, clients = firm_with_people
    owner_membership, _role = memberships(firm)[people["owner"].id]
    for role in ("owner", "admin"):
        response = post_remove(clients[role], firm, owner_membership)
        assert response.status_code == 409
        assert people["owner"].id in memberships(firm)
    body = post_remove(clients["owner"], firm, owner_membership).get_data(as_text=True)
    assert "The firm&#39;s last owner cannot be removed." in body


def test_only_an_owner_removes_another_owner(app, firm_with_people, make_user, login):
    firm, people, clients = firm_with_people
    second_owner = make_user(firm, "owner")
    second_membership, _role = memberships(firm)[second_owner.id]
    refused = post_remove(clients["admin"], firm, second_membership)
    assert refused.status_code == 409
    assert second_owner.id in memberships(firm)
    assert post_remove(clients["owner"], firm, second_membership).status_code == 302
    assert second_owner.id not in memberships(firm)


def test_last_owner_cannot_be_demoted(app, make_tenant, make_user):
    firm = make_tenant()
    owner = make_user(firm, "owner")
    with pytest.raises(TenantError):
        grant(firm, owner, "admin")
    db.session.rollback()
    assert memberships(firm)[owner.id][1] == "owner"


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewers_get_403_on_members_pages(app, firm_with_people, role):
    firm, people, clients = firm_with_people
    client = clients[role]
    assert client.get(f"/{firm.slug}/settings/members").status_code == 403
    assert post_invite(client, firm, "sneaky@example.com", "owner").status_code == 403
    admin_membership, _role = memberships(firm)[people["admin"].id]
    assert post_remove(client, firm, admin_membership).status_code == 403
    assert invitations(firm) == []
    assert people["admin"].id in memberships(firm)


def test_invite_without_csrf_token_is_refused_and_sends_nothing(app, firm_with_people):
    firm, _people, clients = firm_with_people
    response = post_invite(clients["owner"], firm, "nocsrf@example.com", with_token=False)
    assert response.status_code == 400
    assert invitations(firm) == []
    assert sent_mail(app) == []


def test_remove_without_csrf_token_is_refused_and_keeps_the_member(app, firm_with_people):
    firm, people, clients = firm_with_people
    staff_membership, _role = memberships(firm)[people["staff"].id]
    response = post_remove(clients["owner"], firm, staff_membership, with_token=False)
    assert response.status_code == 400
    assert people["staff"].id in memberships(firm)


def test_members_page_of_another_firm_is_404_even_for_its_admin_role(
    app, firm_with_people, make_tenant, make_user
):
    firm, _people, clients = firm_with_people
    other = make_tenant()
    other_staff = make_user(other, "staff")
    other_membership, _role = memberships(other)[other_staff.id]
    assert clients["owner"].get(f"/{other.slug}/settings/members").status_code == 404
    assert post_remove(clients["owner"], other, other_membership).status_code == 404
    assert post_remove(clients["owner"], firm, other_membership).status_code == 404
    assert other_staff.id in memberships(other)
