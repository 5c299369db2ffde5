"""The API's contract: tokens, firms, errors, ETags, idempotency, rate limits, transitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from distretto.modules.catalog.models import Party
from distretto.modules.orders.models import Order
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.api.conftest import Api, new_customer, order_body


def count(firm: Any, model: Any) -> int:
    with tenant_context(firm.tenant):
        value = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.commit()
        return value


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body


def test_create_and_read_an_order(api: Api, firm: Any) -> None:
    party = new_customer(api)
    response = api.post("/orders/sales", order_body(api, party["id"]))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["total"] == "152.50"
    assert order["state"] == "draft"
    assert response.headers["Location"].endswith(f"/orders/sales/{order['id']}")
    again = api.get(f"/orders/sales/{order['id']}")
    assert again.status_code == 200
    assert again.get_json()["number"] == order["number"]
    assert again.headers["ETag"]
    listed = api.get("/orders/sales?sort=-number&per_page=10").get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == order["id"]
    assert listed["links"]["next"] is None


def test_a_token_limited_to_reading_orders_cannot_create_one(
    app: Any, firm: Any, make_token: Any
) -> None:
    owner_api = Api(
        app.test_client(), make_token(firm, ["catalog.view", "catalog.edit"]), firm.base
    )
    party = new_customer(owner_api)
    reader = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    assert reader.get("/orders/sales").status_code == 200
    body = order_body(owner_api, party["id"])
    assert_problem(reader.post("/orders/sales", body), 403)
    assert count(firm, Order) == 0


def test_a_revoked_token_stops_working(app: Any, firm: Any, make_token: Any) -> None:
    from distretto.platform.api.models import ApiToken
    from distretto.platform.api.tokens import revoke_token

    api = Api(app.test_client(), make_token(firm, ["orders.view"]), firm.base)
    assert api.get("/orders/sales").status_code == 200
    with tenant_context(firm.tenant, firm.owner.id):
        token = db.session.execute(select(ApiToken)).scalar_one()
        assert token.last_used_at is not None
        revoke_token(token)
        db.session.commit()
    # no signed-in person to take a language from: the client's Accept-Language decides
    body = assert_problem(api.get("/orders/sales", headers={"Accept-Language": "en"}), 401)
    assert "revoked" in body["detail"]
    body = assert_problem(api.get("/orders/sales", headers={"Accept-Language": "it"}), 401)
    assert "revocato" in body["detail"]


def test_no_credentials_is_401(app: Any, firm: Any) -> None:
    response = app.test_client().get(f"{firm.base}/orders/sales")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_firm_a_gets_404_on_firm_b(
    app: Any, firm: Any, make_firm: Any, make_token: Any
) -> None:
    other = make_firm()
    api_b = Api(app.test_client(), make_token(other, ["catalog.view", "catalog.edit"]), other.base)
    party_b = new_customer(api_b, "Segreto di B S.r.l.")
    api_a = Api(app.test_client(), make_token(firm, ["catalog.view", "catalog.edit"]), firm.base)
    # B's URL with A's token
    for path in ("/catalog/parties", f"/catalog/parties/{party_b['id']}", "/openapi.json"):
        response = api_a.client.get(other.base + path, headers=api_a.headers())
        assert_problem(response, 404)
    # A's URL with B's ids
    assert_problem(api_a.get(f"/catalog/parties/{party_b['id']}"), 404)
    assert "Segreto" not in api_a.get("/catalog/parties").get_data(as_text=True)
    response = api_a.patch(
        f"/catalog/parties/{party_b['id']}", {"legal_name": "x"}, headers={"If-Match": '"x"'}
    )
    assert_problem(response, 404)
    # a firm that does not exist answers the same
    response = api_a.client.get("/api/v1/no-such-firm/catalog/parties", headers=api_a.headers())
    assert_problem(response, 404)


def test_stale_if_match_gets_412_and_changes_nothing(api: Api, firm: Any) -> None:
    party = new_customer(api)
    path = f"/catalog/parties/{party['id']}"
    etag = api.get(path).headers["ETag"]
    assert_problem(api.patch(path, {"city": "Brescia"}), 428)
    first = api.patch(path, {"city": "Brescia"}, headers={"If-Match": etag})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["city"] == "Brescia"
    assert first.headers["ETag"] != etag
    stale = api.patch(path, {"city": "Bergamo"}, headers={"If-Match": etag})
    body = assert_problem(stale, 412)
    assert body["code"] == "stale"
    assert api.get(path).get_json()["city"] == "Brescia"


def test_stale_if_match_on_an_order(api: Api, firm: Any) -> None:
    party = new_customer(api)
    order = api.post("/orders/sales", order_body(api, party["id"])).get_json()
    path = f"/orders/sales/{order['id']}"
    etag = api.get(path).headers["ETag"]
    ok = api.patch(path, {"notes": "Consegna al mattino"}, headers={"If-Match": etag})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["lines"][0]["quantity"] == "10.000"
    assert_problem(api.patch(path, {"notes": "altro"}, headers={"If-Match": etag}), 412)
    assert api.get(path).get_json()["notes"] == "Consegna al mattino"


def test_a_repeated_idempotency_key_creates_one_order(api: Api, firm: Any) -> None:
    party = new_customer(api)
    body = order_body(api, party["id"])
    first = api.post("/orders/sales", body, headers={"Idempotency-Key": "ordine-42"})
    assert first.status_code == 201
    second = api.post("/orders/sales", body, headers={"Idempotency-Key": "ordine-42"})
    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert count(firm, Order) == 1
    changed = dict(body, customer_reference="PO-2")
    reused = api.post("/orders/sales", changed, headers={"Idempotency-Key": "ordine-42"})
    assert assert_problem(reused, 422)["code"] == "idempotency_key_reused"
    assert count(firm, Order) == 1
    other = api.post("/orders/sales", changed, headers={"Idempotency-Key": "ordine-43"})
    assert other.status_code == 201
    assert count(firm, Order) == 2


def test_bad_input_is_422_with_field_messages_and_writes_nothing(api: Api, firm: Any) -> None:
    party = new_customer(api)
    before = count(firm, Party)
    response = api.post("/catalog/parties", {"legal_name": "", "vat_number": "123"})
    body = assert_problem(response, 422)
    assert "legal_name" in body["errors"]
    assert count(firm, Party) == before
    bad_order = order_body(api, party["id"])
    bad_order["lines"][0]["quantity"] = "-1"
    bad_order["expected_date"] = "not a date"
    body = assert_problem(api.post("/orders/sales", bad_order), 422)
    assert "expected_date" in body["errors"]
    assert count(firm, Order) == 0
    body = assert_problem(api.post("/orders/sales", dict(bad_order, colour="red")), 422)
    assert body["errors"]["colour"] == ["Unknown field."]
    not_json = api.client.post(
        f"{firm.base}/orders/sales",
        data="party_id=1",
        headers=api.headers({"Content-Type": "application/x-www-form-urlencoded"}),
    )
    assert_problem(not_json, 415)
    array = api.post("/orders/sales", [1, 2])
    assert_problem(array, 400)
    assert_problem(api.get("/orders/sales?sort=colour"), 422)
    assert_problem(api.get("/orders/sales?per_page=1000"), 422)
    assert_problem(api.client.delete(f"{firm.base}/orders/sales", headers=api.headers()), 405)
    assert count(firm, Order) == 0


def test_custom_fields_are_validated_through_the_api(api: Api, firm: Any) -> None:
    """Issue 3's last gap: a firm's custom fields are checked on the API, field by field."""
    from distretto.platform import customfields

    with tenant_context(firm.tenant, firm.owner.id):
        customfields.define(
            "sales_order",
            {"name": "commessa", "label": "Commessa", "type": "text", "required": True},
        )
        customfields.define("sales_order", {"name": "colli", "label": "Colli", "type": "integer"})
        db.session.commit()
    party = new_customer(api)
    missing = api.post("/orders/sales", order_body(api, party["id"]))
    body = assert_problem(missing, 422)
    assert "commessa" in body["errors"]["custom"]
    wrong = api.post(
        "/orders/sales",
        order_body(api, party["id"], custom={"commessa": "C-7", "colli": "tre"}),
    )
    body = assert_problem(wrong, 422)
    assert list(body["errors"]["custom"]) == ["colli"]
    unknown = api.post(
        "/orders/sales", order_body(api, party["id"], custom={"commessa": "C-7", "x": 1})
    )
    assert assert_problem(unknown, 422)["errors"]["custom"] == {"x": ["Unknown field."]}
    assert count(firm, Order) == 0
    ok = api.post(
        "/orders/sales", order_body(api, party["id"], custom={"commessa": "C-7", "colli": 3})
    )
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["custom"] == {"commessa": "C-7", "colli": 3}
    api.post("/orders/sales", order_body(api, party["id"], custom={"commessa": "C-8", "colli": 9}))
    found = api.get("/orders/sales?cf_colli__gte=5").get_json()
    assert [o["custom"]["commessa"] for o in found["items"]] == ["C-8"]
    found = api.get("/orders/sales?cf_commessa=c-7").get_json()
    assert [o["custom"]["colli"] for o in found["items"]] == [3]
    assert_problem(api.get("/orders/sales?cf_colli__gte=many"), 400)
    assert_problem(api.get("/orders/sales?cf_nope=1"), 400)


def test_transition_refused_is_409_with_the_reason(api: Api, firm: Any) -> None:
    party = new_customer(api)
    order = api.post("/orders/sales", order_body(api, party["id"])).get_json()
    path = f"/orders/sales/{order['id']}"
    confirmed = api.post(f"{path}/transitions/confirm", {"comment": "ok"})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["state"] == "confirmed"
    again = api.post(f"{path}/transitions/confirm")
    body = assert_problem(again, 409)
    assert body["code"] == "transition_refused"
    assert "confirmed" in body["detail"]
    # a confirmed order's lines are locked by the workflow
    etag = api.get(path).headers["ETag"]
    locked = api.patch(
        path, {"lines": order_body(api, party["id"])["lines"] * 2}, headers={"If-Match": etag}
    )
    assert assert_problem(locked, 409)["code"] == "locked"
    assert_problem(api.post(f"{path}/transitions/fly"), 404)
    # not finished: cannot be archived
    assert_problem(api.post(f"{path}/archive"), 409)


def test_a_token_without_the_step_permission_cannot_confirm(
    app: Any, firm: Any, make_token: Any, api: Api
) -> None:
    party = new_customer(api)
    order = api.post("/orders/sales", order_body(api, party["id"])).get_json()
    limited = Api(app.test_client(), make_token(firm, ["orders.view", "orders.edit"]), firm.base)
    response = limited.post(f"/orders/sales/{order['id']}/transitions/confirm")
    assert_problem(response, 403)
    assert api.get(f"/orders/sales/{order['id']}").get_json()["state"] == "draft"


def test_archive_a_party(api: Api, firm: Any) -> None:
    party = new_customer(api)
    archived = api.post(f"/catalog/parties/{party['id']}/archive")
    assert archived.status_code == 200
    assert archived.get_json()["archived"] is True
    assert api.get("/catalog/parties").get_json()["total"] == 0
    assert api.get("/catalog/parties?archived=true").get_json()["total"] == 1
    restored = api.post(f"/catalog/parties/{party['id']}/restore")
    assert restored.get_json()["archived"] is False


def test_problems_speak_the_firms_language(app: Any, make_firm: Any, make_token: Any) -> None:
    italian = make_firm(default_locale="it")
    api = Api(app.test_client(), make_token(italian, ["orders.view"]), italian.base)
    body = assert_problem(api.get("/orders/sales/999999"), 404)
    assert body["detail"] == "Ordine inesistente."
    body = assert_problem(api.get("/orders/sales?cf_nope=1"), 400)
    assert body["detail"] == "Alcuni filtri non sono validi."
    assert body["errors"] == {"cf_nope": ["Campo personalizzato sconosciuto."]}
