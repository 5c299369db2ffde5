"""Signing in and out, passwords, cookies, CSRF, throttling and who reaches which firm."""

from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from distretto.platform.auth.models import User
from distretto.platform.db import db
from distretto.tenants.services import TenantError, create_user
from distretto.testing.plugin import TEST_PASSWORD, csrf_token

ADDRESS_A = "198.51.100.7"
ADDRESS_B = "203.0.113.9"
WRONG = "not-the-password"


def client_from(app, address="127.0.0.1"):
    """A test client with a fixed remote address, reading pages in English."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_ACCEPT_LANGUAGE": "en"})
    return client


def sign_in(client, email, password=TEST_PASSWORD, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    data.update(extra)
    return client.post("/login", data=data)


def stored_user(user_id):
    """The user as the database has it now (ends the test's own read snapshot first)."""
    db.session.rollback()
    return db.session.get(User, user_id)


# --- signing in and out -----------------------------------------------------------


def test_person_signs_in_lands_on_their_firm_and_signs_out(app, make_tenant, make_user):
    firm = make_tenant()
    user = make_user(firm, "staff")
    client = client_from(app)

    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{firm.slug}/"
    assert client.get(f"/{firm.slug}/").status_code == 200

    token = csrf_token(client, f"/{firm.slug}/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    after = client.get(f"/{firm.slug}/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")


def test_wrong_password_is_refused_with_a_clear_message_and_401(app, make_user):
    user = make_user()
    client = client_from(app)
    response = sign_in(client, user.email, WRONG)
    assert response.status_code == 401
    assert "E-mail or password is not right." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(app, make_user):
    user = make_user()
    wrong = sign_in(client_from(app), user.email, WRONG)
    unknown = sign_in(client_from(app), "nobody@example.com", WRONG)
    assert unknown.status_code == wrong.status_code == 401
    assert "E-mail or password is not right." in unknown.get_data(as_text=True)


def test_unknown_email_costs_as_much_time_as_a_wrong_password(app, make_user):
    """No shortcut for unknown addresses, or timing would tell which accounts exist.

    Measured in CPU time of this process (the test client runs the app in it), so
    other processes competing for the machine do not blur the comparison.
    """
    users = [make_user() for _ in range(3)]

    def fastest(emails):
        timings = []
        for email in emails:
            client = client_from(app)
            token = csrf_token(client, "/login")
            start = time.process_time()
            response = client.post(
                "/login", data={"email": email, "password": WRONG, "csrf_token": token}
            )
            timings.append(time.process_time() - start)
            assert response.status_code == 401
        return min(timings)

    known = fastest([u.email for u in users for _ in range(2)])
    unknown = fastest([f"ghost{n}@example.com" for n in range(6)])
    assert unknown > 0.5 * known, (unknown, known)


def test_signing_in_is_case_insensitive_on_the_email(app, make_user):
    user = make_user(email="Anna.Rossi@Example.com")
    response = sign_in(client_from(app), "  anna.rossi@EXAMPLE.com ")
    assert response.status_code == 302
    assert stored_user(user.id).last_login_at is not None


def test_disabled_account_cannot_sign_in(app, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    response = sign_in(client_from(app), user.email)
    assert response.status_code == 403
    assert "This account is disabled." in response.get_data(as_text=True)


def test_next_parameter_only_redirects_within_the_site(app, make_tenant, make_user):
    firm = make_tenant()
    user = make_user(firm)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        client = client_from(app)
        token = csrf_token(client, "/login")
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == f"/{firm.slug}/", target
    client = client_from(app)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": f"/{firm.slug}/settings/members"},
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == f"/{firm.slug}/settings/members"


# --- passwords --------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_with_owasp_parameters(app, make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert TEST_PASSWORD not in user.password_hash


def test_hash_made_with_weaker_parameters_is_replaced_at_sign_in(app, make_user):
    user = make_user()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(TEST_PASSWORD)
    user.password_hash = weak
    db.session.commit()

    assert sign_in(client_from(app), user.email).status_code == 302

    renewed = stored_user(user.id).password_hash
    assert renewed != weak
    assert renewed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(renewed, TEST_PASSWORD)


def test_hash_is_not_rewritten_when_parameters_are_current(app, make_user):
    user = make_user()
    before = user.password_hash
    assert sign_in(client_from(app), user.email).status_code == 302
    assert stored_user(user.id).password_hash == before


def test_email_is_unique_whatever_its_case(app, make_user):
    make_user(email="Mario@Example.com")
    with pytest.raises(TenantError) as refused:
        create_user("mario@example.COM", TEST_PASSWORD)
    assert refused.value.field == "email"
    db.session.rollback()
    # the database refuses it too, should a caller skip the service
    db.session.add(User(email="MARIO@EXAMPLE.COM", name="", password_hash=None))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    count = db.session.execute(select(User).where(User.email.ilike("mario@example.com"))).all()
    assert len(count) == 1


def test_malformed_email_cannot_open_an_account(app):
    for bad in ("", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "@x.it"):
        with pytest.raises(TenantError):
            create_user(bad, TEST_PASSWORD)


# --- cookies and sessions ---------------------------------------------------------


def _cookie_header(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def test_cookies_are_httponly_and_samesite_lax_in_testing(app, make_user):
    user = make_user()
    response = sign_in(client_from(app), user.email, remember="y")
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        header = _cookie_header(response, name)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header  # plain http works on a developer's machine


@pytest.fixture
def second_app(app, app_config):
    """``second_app(**settings)`` -> another app on the test database, disposed afterwards."""
    from distretto.platform.app import create_app

    made = []

    def factory(**settings):
        made.append(create_app({**app_config, **settings}))
        made[-1].test_client_class = app.test_client_class  # a context per request
        return made[-1]

    yield factory
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_cookies_are_secure_in_production(second_app, make_user):
    user = make_user()
    production = second_app(ENV_NAME="production", TESTING=False)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    client = client_from(production)
    page = client.get("/login", base_url="https://distretto.example")
    token = csrf_token(client, "/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
        headers={"Referer": "https://distretto.example/login"},
    )
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        header = _cookie_header(response, name)
        assert "Secure" in header
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header


def test_session_stays_valid_across_requests_with_strong_protection(app, make_tenant, make_user):
    firm = make_tenant()
    user = make_user(firm)
    client = client_from(app)
    assert sign_in(client, user.email).status_code == 302
    for _ in range(3):
        assert client.get(f"/{firm.slug}/").status_code == 200


def test_session_cookie_replayed_from_another_address_is_dropped(app, make_tenant, make_user):
    firm = make_tenant()
    user = make_user(firm)
    client = client_from(app, ADDRESS_A)
    assert sign_in(client, user.email).status_code == 302
    stolen = client.get_cookie("session").value

    thief = client_from(app, ADDRESS_B)
    thief.set_cookie("session", stolen)
    response = thief.get(f"/{firm.slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_change_signs_out_other_sessions(app, make_tenant, make_user):
    from distretto.platform.auth.services import set_password

    firm = make_tenant()
    user = make_user(firm)
    client = client_from(app)
    assert sign_in(client, user.email).status_code == 302
    set_password(stored_user(user.id), "a-brand-new-password")
    db.session.commit()
    response = client.get(f"/{firm.slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- CSRF -------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused_and_signs_nobody_in(app, make_user):
    user = make_user()
    client = client_from(app)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302
    assert stored_user(user.id).last_login_at is None


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(app, make_tenant, make_user):
    firm = make_tenant()
    user = make_user(firm)
    client = client_from(app)
    sign_in(client, user.email)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get(f"/{firm.slug}/").status_code == 200


# --- throttling -------------------------------------------------------------------


def test_sixth_attempt_on_an_account_is_throttled_even_with_the_right_password(
    app, make_tenant, make_user
):
    firm = make_tenant()
    victim = make_user(firm)
    other = make_user(firm)
    attacker = client_from(app, ADDRESS_A)
    for _ in range(5):
        assert sign_in(attacker, victim.email, WRONG).status_code == 401

    sixth = sign_in(attacker, victim.email)
    assert sixth.status_code == 429
    assert stored_user(victim.id).last_login_at is None
    # the account is locked from anywhere, whatever the case of the address
    assert sign_in(client_from(app, ADDRESS_B), victim.email.upper()).status_code == 429
    # another person, elsewhere, is not affected
    assert sign_in(client_from(app, ADDRESS_B), other.email).status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_limit(app, make_user):
    user = make_user()
    for _ in range(7):
        assert sign_in(client_from(app, ADDRESS_A), user.email).status_code == 302


def test_one_address_trying_many_accounts_is_throttled(app, make_user):
    user = make_user()
    limit = 20  # LOGIN_LIMIT_PER_ADDRESS default: 20 per 15 minutes
    attacker = client_from(app, ADDRESS_A)
    for n in range(limit):
        assert sign_in(attacker, f"guess{n}@example.com", WRONG).status_code == 401
    assert sign_in(attacker, user.email).status_code == 429
    # the account itself is not locked: its owner elsewhere signs in
    assert sign_in(client_from(app, ADDRESS_B), user.email).status_code == 302


def test_account_limit_follows_the_configuration(second_app, make_user):
    user = make_user()
    tight = second_app(LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes")
    client = client_from(tight, ADDRESS_A)
    for _ in range(2):
        assert sign_in(client, user.email, WRONG).status_code == 401
    assert sign_in(client, user.email).status_code == 429


# --- suspended firms --------------------------------------------------------------


def test_user_whose_only_firm_is_suspended_cannot_sign_in_and_reads_why(
    app, make_tenant, make_user
):
    firm = make_tenant(status="suspended", suspended_reason="Unpaid district fee")
    user = make_user(firm, "owner")
    response = sign_in(client_from(app), user.email)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Unpaid district fee" in body
    assert client_from(app).get(f"/{firm.slug}/").status_code == 302


def test_user_with_another_active_firm_signs_in_but_suspended_firm_shows_the_reason(
    app, make_tenant, make_user
):
    from distretto.tenants.services import grant

    active = make_tenant()
    suspended = make_tenant(status="suspended", suspended_reason="Under audit")
    user = make_user(active, "staff")
    grant(suspended, user, "admin")
    db.session.commit()

    client = client_from(app)
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{active.slug}/"
    assert client.get(f"/{active.slug}/").status_code == 200
    for path in ("/", "/settings/members"):
        page = client.get(f"/{suspended.slug}{path}")
        assert page.status_code == 403
        assert "Under audit" in page.get_data(as_text=True)


# --- who reaches which firm -------------------------------------------------------


def test_member_of_firm_a_gets_404_on_every_url_of_firm_b(app, make_tenant, make_user, login):
    firm_a, firm_b = make_tenant(), make_tenant()
    owner_a = make_user(firm_a, "owner")
    owner_b = make_user(firm_b, "owner")
    staff_b = make_user(firm_b, "staff")
    client = login(owner_a)
    token = csrf_token(client, f"/{firm_a.slug}/")

    from distretto.platform.context import tenant_context
    from distretto.tenants.models import Membership

    with tenant_context(firm_b):
        staff_b_membership = db.session.execute(
            select(Membership.id).where(Membership.user_id == staff_b.id)
        ).scalar_one()

    assert client.get(f"/{firm_b.slug}/").status_code == 404
    assert client.get(f"/{firm_b.slug}/settings/members").status_code == 404
    assert client.get("/no-such-firm/settings/members").status_code == 404
    invite = client.post(
        f"/{firm_b.slug}/settings/members/invite",
        data={"email": "spy@example.com", "role": "owner", "csrf_token": token},
    )
    assert invite.status_code == 404
    remove = client.post(
        f"/{firm_b.slug}/settings/members/{staff_b_membership}/remove",
        data={"csrf_token": token},
    )
    assert remove.status_code == 404
    # B's id under A's own address is no way in either
    sideways = client.post(
        f"/{firm_a.slug}/settings/members/{staff_b_membership}/remove",
        data={"csrf_token": token},
    )
    assert sideways.status_code == 404

    with tenant_context(firm_b):
        remaining = db.session.execute(select(Membership.user_id)).scalars().all()
        from distretto.tenants.models import Invitation

        invitations = db.session.execute(select(Invitation)).scalars().all()
    assert sorted(remaining) == sorted([owner_b.id, staff_b.id])
    assert invitations == []


def test_operator_gets_404_on_business_pages_but_uses_the_console(
    app, make_tenant, make_user, login
):
    firm = make_tenant()
    make_user(firm, "owner")
    operator = make_user(operator=True)
    client = login(operator)
    assert client.get(f"/{firm.slug}/").status_code == 404
    assert client.get(f"/{firm.slug}/settings/members").status_code == 404
    console = client.get("/operator/")
    assert console.status_code == 200
    assert firm.legal_name in console.get_data(as_text=True)


def test_non_operator_gets_404_on_the_console(app, make_tenant, make_user, login):
    firm = make_tenant()
    owner = make_user(firm, "owner")
    client = login(owner)
    assert client.get("/operator/").status_code == 404
    token = csrf_token(client, f"/{firm.slug}/")
    response = client.post(
        f"/operator/firms/{firm.slug}/suspend", data={"reason": "x", "csrf_token": token}
    )
    assert response.status_code == 404
    anonymous = client_from(app).get("/operator/")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")


def test_firm_switcher_lists_exactly_the_users_firms(app, make_tenant, make_user, login):
    from distretto.tenants.services import grant

    first = make_tenant(legal_name="Calzaturificio Alfa S.r.l.")
    second = make_tenant(legal_name="Tessitura Beta S.p.A.")
    third = make_tenant(legal_name="Meccanica Gamma S.r.l.")
    accountant = make_user(first, "viewer")
    grant(second, accountant, "staff")
    make_user(third, "owner")
    db.session.commit()

    client = login(accountant)
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'href="/{first.slug}/"' in body
    assert f'href="/{second.slug}/"' in body
    assert first.legal_name in body
    assert second.legal_name in body
    assert third.legal_name not in body
    assert f"/{third.slug}/" not in body


def test_user_of_two_firms_lands_on_the_switcher(app, make_tenant, make_user):
    from distretto.tenants.services import grant

    first, second = make_tenant(), make_tenant()
    user = make_user(first)
    grant(second, user, "viewer")
    db.session.commit()
    response = sign_in(client_from(app), user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_anonymous_visitor_of_firm_pages_is_sent_to_sign_in(app, make_tenant):
    firm = make_tenant()
    for path in (f"/{firm.slug}/", "/no-such-firm/"):
        response = client_from(app).get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


# --- password reset ---------------------------------------------------------------


def sent_mail(app):
    return app.extensions.setdefault("distretto.sent_mail", [])


def ask_reset(app, email, address="127.0.0.1"):
    client = client_from(app, address)
    token = csrf_token(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def reset_path(mail):
    marker = "http://localhost"
    line = next(line for line in mail["body"].splitlines() if line.startswith(marker))
    return line[len(marker) :].strip()


def choose_password(app, path, password):
    client = client_from(app)
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token})


def test_password_reset_link_is_mailed_and_works_once(app, make_user):
    user = make_user()
    response = ask_reset(app, user.email)
    assert response.status_code == 302
    mails = [m for m in sent_mail(app) if m["to"] == user.email]
    assert len(mails) == 1
    path = reset_path(mails[0])
    assert path.startswith("/password/reset/")

    assert client_from(app).get(path).status_code == 200
    changed = choose_password(app, path, "a-much-better-secret")
    assert changed.status_code == 302
    assert sign_in(client_from(app), user.email, "a-much-better-secret").status_code == 302
    assert sign_in(client_from(app, ADDRESS_B), user.email).status_code == 401

    again = client_from(app).get(path)
    assert again.status_code == 400
    assert "This link cannot be used" in again.get_data(as_text=True)
    reused = choose_password(app, path, "yet-another-secret")
    assert reused.status_code == 400
    assert sign_in(client_from(app), user.email, "yet-another-secret").status_code == 401


def test_password_reset_link_expires(app, make_user):
    user = make_user()
    ask_reset(app, user.email)
    path = reset_path(sent_mail(app)[-1])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1  # the link is now older than allowed
    assert client_from(app).get(path).status_code == 400
    assert choose_password(app, path, "a-much-better-secret").status_code == 400
    assert sign_in(client_from(app), user.email, "a-much-better-secret").status_code == 401


def test_tampered_reset_link_is_refused(app, make_user):
    user = make_user()
    ask_reset(app, user.email)
    path = reset_path(sent_mail(app)[-1])
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client_from(app).get(tampered).status_code == 400
    assert client_from(app).get("/password/reset/not-a-token").status_code == 400


def test_unknown_email_gets_the_same_reset_answer_and_no_mail(app, make_user):
    user = make_user()
    known = ask_reset(app, user.email)
    unknown = ask_reset(app, "stranger@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m["to"] for m in sent_mail(app)] == [user.email]


def test_reset_with_mismatched_or_short_password_changes_nothing(app, make_user):
    user = make_user()
    ask_reset(app, user.email)
    path = reset_path(sent_mail(app)[-1])
    client = client_from(app)
    token = csrf_token(client, path)
    short = client.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 400
    differ = client.post(
        path,
        data={"password": "long-enough-one", "confirm": "long-enough-two", "csrf_token": token},
    )
    assert differ.status_code == 400
    assert "The passwords differ." in differ.get_data(as_text=True)
    assert sign_in(client_from(app), user.email).status_code == 302


# --- bad input --------------------------------------------------------------------


def test_bad_input_never_causes_a_server_error(app, make_tenant, make_user, login):
    firm = make_tenant()
    owner = make_user(firm, "owner")
    anonymous = client_from(app)
    token = csrf_token(anonymous, "/login")
    odd_values = ["", "x" * 5000, "\x00", "ä@ö.ü", "a@b.c\r\nBcc: x@y.z", "<script>"]
    for value in odd_values:
        for path in ("/login", "/password/forgot"):
            response = anonymous.post(
                path, data={"email": value, "password": value, "csrf_token": token}
            )
            assert response.status_code < 500, (path, value)
    for path in (
        "/password/reset/%00",
        "/password/reset/" + "x" * 3000,
        "/invitations/eyJ0IjoiMSJ9.bad.sig",
        "/invitations/%F0%9F%92%A5",
    ):
        assert anonymous.get(path).status_code == 400, path
        assert anonymous.post(path, data={"csrf_token": token}).status_code == 400, path

    client = login(owner)
    token = csrf_token(client, f"/{firm.slug}/")
    for value in odd_values:
        response = client.post(
            f"/{firm.slug}/settings/members/invite",
            data={"email": value, "role": value, "csrf_token": token},
        )
        assert response.status_code == 400, value
    assert (
        client.post(
            f"/{firm.slug}/settings/members/99999999999/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
