"""API tokens as firm admins manage them, and the API used from a browser session."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from distretto.platform.api.models import ApiToken
from distretto.platform.audit import AuditEntry
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.testing.plugin import csrf_token
from tests.api.conftest import VAT_NUMBER, Api


def test_an_admin_makes_a_token_sees_it_once_and_revokes_it(
    app: Any, firm: Any, login: Any
) -> None:
    client = login(firm.owner)
    page = f"/{firm.slug}/settings/api-tokens"
    listing = client.get(page)
    assert listing.status_code == 200
    assert "orders.view" in listing.get_data(as_text=True)
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "name": "E-commerce",
            "permissions": ["orders.view", "catalog.view"],
        },
    )
    assert response.status_code == 201
    secret = re.search(r'value="(dst_[A-Za-z0-9_-]+)"', response.get_data(as_text=True)).group(1)
    with tenant_context(firm.tenant):
        token = db.session.execute(select(ApiToken)).scalar_one()
        assert token.secret_hash != secret  # only the hash is kept
        assert secret not in repr(token.__dict__)
        assert token.permissions == ["catalog.view", "orders.view"]
        token_id = token.id
        db.session.commit()
    assert secret not in client.get(page).get_data(as_text=True)  # shown once
    api = Api(app.test_client(), secret, firm.base)
    assert api.get("/orders/sales").status_code == 200
    assert api.post("/catalog/parties", {"legal_name": "X"}).status_code == 403
    revoked = client.post(
        f"{page}/{token_id}/revoke", data={"csrf_token": csrf_token(client, page)}
    )
    assert revoked.status_code == 302
    assert api.get("/orders/sales").status_code == 401
    with tenant_context(firm.tenant):
        actions = set(db.session.execute(select(AuditEntry.action)).scalars())
        db.session.commit()
    assert {"api_token.created", "api_token.revoked"} <= actions


def test_a_token_cannot_get_permissions_its_maker_lacks(
    app: Any, firm: Any, make_user: Any, login: Any
) -> None:
    staff = make_user(firm.tenant, "staff")
    client = login(staff)
    assert client.get(f"/{firm.slug}/settings/api-tokens").status_code == 403
    admin = make_user(firm.tenant, "admin")
    client = login(admin)
    page = f"/{firm.slug}/settings/api-tokens"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "name": "troppo",
            "permissions": ["firm.support_access"],
        },
    )
    assert response.status_code == 400
    with tenant_context(firm.tenant):
        assert db.session.execute(select(ApiToken)).first() is None
        db.session.commit()


def test_an_expired_token_and_a_departed_maker_stop_working(
    app: Any, firm: Any, make_user: Any, make_token: Any
) -> None:
    from distretto.tenants.models import Membership

    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    with tenant_context(firm.tenant):
        token = db.session.execute(select(ApiToken)).scalar_one()
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert api.get("/orders/sales").status_code == 401
    clerk = make_user(firm.tenant, "admin")
    clerk_api = Api(app.test_client(), make_token(firm, ["orders.view"], clerk), firm.base)
    assert clerk_api.get("/orders/sales").status_code == 200
    with tenant_context(firm.tenant):
        db.session.delete(
            db.session.execute(
                select(Membership).where(Membership.user_id == clerk.id)
            ).scalar_one()
        )
        db.session.commit()
    assert clerk_api.get("/orders/sales").status_code == 404


def test_a_browser_session_works_same_origin_with_the_csrf_token(
    app: Any, firm: Any, login: Any
) -> None:
    client = login(firm.owner)
    base = f"/api/v1/{firm.slug}"
    assert client.get(f"{base}/catalog/parties").status_code == 200
    body = {"legal_name": "Bianchi S.n.c.", "is_customer": True, "vat_number": VAT_NUMBER}
    refused = client.post(f"{base}/catalog/parties", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "csrf"
    token = csrf_token(client, f"/{firm.slug}/")
    created = client.post(f"{base}/catalog/parties", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.get_json()


def test_a_suspended_firm_answers_403_problem(app: Any, firm: Any, make_token: Any) -> None:
    from distretto.tenants.models import Tenant
    from distretto.tenants.services import set_status

    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    set_status(db.session.get(Tenant, firm.tenant.id), "suspended", "Mancato pagamento")
    db.session.commit()
    response = api.get("/orders/sales")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_an_unexpected_error_is_a_safe_500(
    app: Any, firm: Any, make_token: Any, monkeypatch: Any
) -> None:
    from distretto.modules.catalog import services

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "party_query", broken)
    api = Api(app.test_client(), make_token(firm, ["catalog.view"]), firm.base)
    response = api.get("/catalog/parties")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)


def test_concurrent_updates_with_the_same_etag_one_wins(
    app: Any, firm: Any, make_token: Any
) -> None:
    secret = make_token(firm, ["catalog.view", "catalog.edit"])
    api = Api(app.test_client(), secret, firm.base)
    party = api.post(
        "/catalog/parties",
        {"legal_name": "Verdi S.r.l.", "is_customer": True, "vat_number": VAT_NUMBER},
    ).get_json()
    path = f"/catalog/parties/{party['id']}"
    etag = api.get(path).headers["ETag"]
    results: list[int] = []
    start = threading.Barrier(2)

    def update(city: str) -> None:
        with app.app_context():
            client = Api(app.test_client(), secret, firm.base)
            start.wait()
            response = client.patch(path, {"city": city}, headers={"If-Match": etag})
            results.append(response.status_code)

    threads = [threading.Thread(target=update, args=(c,)) for c in ("Brescia", "Bergamo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]


def test_concurrent_repeats_of_one_idempotency_key_create_one_order(
    app: Any, firm: Any, make_token: Any
) -> None:
    from distretto.modules.orders.models import Order
    from tests.api.conftest import ALL_ORDERS, new_customer, order_body

    secret = make_token(firm, ALL_ORDERS)
    api = Api(app.test_client(), secret, firm.base)
    body = order_body(api, new_customer(api)["id"])
    results: list[int] = []
    start = threading.Barrier(3)

    def create() -> None:
        with app.app_context():
            client = Api(app.test_client(), secret, firm.base)
            start.wait()
            response = client.post("/orders/sales", body, headers={"Idempotency-Key": "k-1"})
            results.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 201 in results
    assert set(results) <= {201, 409}  # 409: "being processed, retry" when it raced the first
    with tenant_context(firm.tenant):
        assert len(db.session.execute(select(Order)).scalars().all()) == 1
        db.session.commit()
