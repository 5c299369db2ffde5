"""Invitation links: single use, expiring, tamper-proof; they create or add the right person."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from distretto.platform.auth.models import User
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.tenants.models import Invitation, Membership
from distretto.tenants.services import invite
from distretto.testing.plugin import TEST_PASSWORD, csrf_token

NEW_PASSWORD = "a-long-new-password"


def english_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def invitation_path(firm, email, role="staff"):
    sent = invite(firm, email, role)
    db.session.commit()
    return sent.link.removeprefix("http://localhost")


def accept_as_new_person(client, path, password=NEW_PASSWORD, confirm=None, name="Giulia Bianchi"):
    token = csrf_token(client, path)
    return client.post(
        path,
        data={
            "name": name,
            "password": password,
            "confirm": confirm if confirm is not None else password,
            "csrf_token": token,
        },
    )


def users_with_email(email):
    db.session.rollback()
    return (
        db.session.execute(select(User).where(func.lower(User.email) == email.lower()))
        .scalars()
        .all()
    )


def members_of(firm):
    db.session.rollback()
    with tenant_context(firm):
        rows = db.session.execute(select(Membership.user_id, Membership.role)).all()
    return {user_id: role for user_id, role in rows}


def test_new_person_accepts_gets_an_account_is_signed_in_and_lands_on_the_firm(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "giulia@example.com", "staff")
    client = english_client(app)

    page = client.get(path)
    assert page.status_code == 200
    assert "giulia@example.com" in page.get_data(as_text=True)

    response = accept_as_new_person(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{firm.slug}/"
    home = client.get(f"/{firm.slug}/")
    assert home.status_code == 200
    assert firm.legal_name in home.get_data(as_text=True)

    [user] = users_with_email("giulia@example.com")
    assert user.name == "Giulia Bianchi"
    assert user.password_hash.startswith("$argon2id$")
    assert members_of(firm) == {user.id: "staff"}


def test_invitation_link_works_only_once(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "once@example.com")
    assert accept_as_new_person(english_client(app), path).status_code == 302

    second = english_client(app)
    page = second.get(path)
    assert page.status_code == 400
    assert "This link cannot be used" in page.get_data(as_text=True)
    again = accept_as_new_person(second, path, password="another-password-1")
    assert again.status_code == 400
    assert len(users_with_email("once@example.com")) == 1
    assert len(members_of(firm)) == 1


def test_existing_member_cannot_reuse_the_link_to_change_role(app, make_tenant, login):
    firm = make_tenant()
    path = invitation_path(firm, "reuse@example.com", "viewer")
    assert accept_as_new_person(english_client(app), path).status_code == 302
    [user] = users_with_email("reuse@example.com")
    client = login(user, NEW_PASSWORD)
    token = csrf_token(client, "/")
    assert client.post(path, data={"csrf_token": token}).status_code == 400
    assert members_of(firm) == {user.id: "viewer"}


def test_invitation_expires_by_its_stored_date(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "late@example.com")
    with tenant_context(firm):
        invitation = db.session.execute(select(Invitation)).scalar_one()
        invitation.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    client = english_client(app)
    assert client.get(path).status_code == 400
    assert accept_as_new_person(client, path).status_code == 400
    assert users_with_email("late@example.com") == []
    assert members_of(firm) == {}


def test_invitation_expires_by_its_signed_age(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "old@example.com")
    app.config["INVITATION_MAX_AGE"] = -1  # every link is now older than allowed
    client = english_client(app)
    assert client.get(path).status_code == 400
    assert users_with_email("old@example.com") == []


def test_short_configured_lifetime_is_written_on_the_invitation(app, make_tenant):
    firm = make_tenant()
    app.config["INVITATION_MAX_AGE"] = 60
    invitation_path(firm, "soon@example.com")
    with tenant_context(firm):
        invitation = db.session.execute(select(Invitation)).scalar_one()
    assert timedelta(seconds=55) < invitation.expires_at - utcnow() <= timedelta(seconds=60)


def test_tampered_or_foreign_token_is_refused(app, make_tenant, make_user):
    firm = make_tenant()
    path = invitation_path(firm, "target@example.com", "staff")
    payload, _dot, rest = path.removeprefix("/invitations/").partition(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    client = english_client(app)
    for bad in (
        f"/invitations/{flipped}.{rest}",
        path + "x",
        "/invitations/not-a-token",
    ):
        assert client.get(bad).status_code == 400, bad
        assert accept_as_new_person(client, bad).status_code == 400, bad

    # a password-reset link is signed with the same key but cannot open an invitation
    from distretto.platform.auth.services import reset_link

    user = make_user()
    with app.test_request_context():
        reset = reset_link(user)
    token = reset.rsplit("/", 1)[1]
    assert client.get(f"/invitations/{token}").status_code == 400
    assert users_with_email("target@example.com") == []


def test_existing_user_accepts_by_signing_in_as_the_invited_address(app, make_tenant, make_user):
    home_firm, new_firm = make_tenant(), make_tenant()
    accountant = make_user(home_firm, "staff", email="Studio.Verdi@Example.com")
    path = invitation_path(new_firm, "studio.verdi@example.com", "viewer")
    client = english_client(app)

    page = client.get(path)
    assert page.status_code == 200
    assert "sign in to accept" in page.get_data(as_text=True)
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token})
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/login?next=")
    assert accountant.id not in members_of(new_firm)

    signed_in = client.post(
        refused.headers["Location"],
        data={
            "email": accountant.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == path

    token = csrf_token(client, path)
    accepted = client.post(path, data={"csrf_token": token})
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/{new_firm.slug}/"
    assert client.get(f"/{new_firm.slug}/").status_code == 200
    assert members_of(new_firm) == {accountant.id: "viewer"}
    assert members_of(home_firm) == {accountant.id: "staff"}
    assert len(users_with_email("studio.verdi@example.com")) == 1


def test_existing_user_cannot_be_taken_over_by_choosing_a_password(app, make_tenant, make_user):
    firm = make_tenant()
    person = make_user(email="owner.of.account@example.com")
    path = invitation_path(firm, person.email)
    response = accept_as_new_person(english_client(app), path, password="attacker-password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    [user] = users_with_email(person.email)
    assert user.password_hash == person.password_hash
    assert members_of(firm) == {}


def test_someone_signed_in_as_another_address_cannot_accept(app, make_tenant, make_user, login):
    firm, other = make_tenant(), make_tenant()
    intruder = make_user(other, "owner")
    path = invitation_path(firm, "rightful@example.com", "admin")
    client = login(intruder)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(path)
    assert page.status_code == 200
    assert "Sign out, then open the link again" in page.get_data(as_text=True)
    response = accept_as_new_person(client, path)
    assert response.status_code == 403
    assert members_of(firm) == {}
    assert users_with_email("rightful@example.com") == []
    # the link is still good for the person it was meant for
    assert accept_as_new_person(english_client(app), path).status_code == 302


def test_invitation_to_a_suspended_firm_is_refused(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "joiner@example.com")
    from distretto.tenants.services import set_status

    set_status(firm, "suspended", "Unpaid fee")
    db.session.commit()

    client = english_client(app)
    page = client.get(path)
    assert page.status_code == 400
    assert "suspended" in page.get_data(as_text=True)
    assert accept_as_new_person(client, path).status_code == 400
    assert users_with_email("joiner@example.com") == []
    assert members_of(firm) == {}


def test_mismatched_passwords_create_nothing_and_the_link_stays_usable(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "typo@example.com")
    client = english_client(app)
    response = accept_as_new_person(client, path, confirm="something-else-entirely")
    assert response.status_code == 400
    assert "The passwords differ." in response.get_data(as_text=True)
    short = accept_as_new_person(client, path, password="short")
    assert short.status_code == 400
    nul = accept_as_new_person(client, path, name="Nome\x00")
    assert nul.status_code == 400
    assert users_with_email("typo@example.com") == []
    assert accept_as_new_person(client, path).status_code == 302


def test_new_invitation_to_the_same_address_replaces_the_pending_one(app, make_tenant):
    firm = make_tenant()
    first = invitation_path(firm, "twice@example.com", "staff")
    second = invitation_path(firm, "Twice@Example.com", "viewer")
    client = english_client(app)
    assert client.get(first).status_code == 400
    assert accept_as_new_person(client, second).status_code == 302
    [user] = users_with_email("twice@example.com")
    assert members_of(firm) == {user.id: "viewer"}


def test_accepting_without_csrf_token_changes_nothing(app, make_tenant):
    firm = make_tenant()
    path = invitation_path(firm, "nocsrf@example.com")
    client = english_client(app)
    response = client.post(
        path, data={"name": "X", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert users_with_email("nocsrf@example.com") == []
    assert accept_as_new_person(client, path).status_code == 302
