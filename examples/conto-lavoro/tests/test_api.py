"""Conto lavoro's REST API: added through the module contract, documented in the firm's
OpenAPI document, used with a browser session (CSRF) as a same-origin page would."""

from __future__ import annotations

from distretto.testing.plugin import csrf_token


def _headers(client, firm) -> dict[str, str]:
    return {"X-CSRFToken": csrf_token(client, f"{firm.base}/dispatches")}


def test_send_material_and_record_its_return_through_the_api(firm):
    api = f"/api/v1/{firm.tenant.slug}/conto_lavoro"
    headers = _headers(firm.client, firm)
    created = firm.client.post(
        f"{api}/dispatches",
        json={
            "subcontractor_id": firm.subcontractor_id,
            "processing": "Zinc plating",
            "lines": [{"item_id": firm.bar_id, "quantity": "12,5"}],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    dispatch = created.get_json()
    assert dispatch["state"] == "draft"
    assert dispatch["number"] is None
    assert dispatch["lines"][0]["quantity"] == "12.500"
    assert created.headers["Location"].endswith(f"/dispatches/{dispatch['id']}")

    sent = firm.client.post(
        f"{api}/dispatches/{dispatch['id']}/transitions/send", json={}, headers=headers
    )
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["number"].startswith("CL-")

    too_much = firm.client.post(
        f"{api}/returns",
        json={
            "subcontractor_id": firm.subcontractor_id,
            "reference": "R-1",
            "lines": [{"dispatch_line_id": dispatch["lines"][0]["id"], "quantity": "13"}],
        },
        headers=headers,
    )
    assert too_much.status_code == 422
    assert too_much.content_type == "application/problem+json"
    assert "still out" in too_much.get_json()["errors"]["lines"]["0"]["quantity"][0]

    body = {
        "subcontractor_id": firm.subcontractor_id,
        "reference": "R-1",
        "lines": [
            {"dispatch_line_id": dispatch["lines"][0]["id"], "quantity": "10", "scrap": "0.5"}
        ],
    }
    key = {**headers, "Idempotency-Key": "reso-R-1"}
    first = firm.client.post(f"{api}/returns", json=body, headers=key)
    again = firm.client.post(f"{api}/returns", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    (row,) = firm.client.get(f"{api}/outstanding").get_json()["subcontractors"]
    assert row["items"][0]["outstanding"] == "2.000"  # 12.5 - 10 - 0.5, the return counted once

    listed = firm.client.get(f"{api}/dispatches?state=sent").get_json()
    assert [d["id"] for d in listed["items"]] == [dispatch["id"]]


def test_the_firms_openapi_document_lists_the_modules_operations(firm):
    document = firm.client.get(f"/api/v1/{firm.tenant.slug}/openapi.json").get_json()
    paths = document["paths"]
    assert "/api/v1/{tenant}/conto_lavoro/dispatches" in paths
    assert "/api/v1/{tenant}/conto_lavoro/returns" in paths
    assert "DispatchOut" in document["components"]["schemas"]


def test_bad_input_is_a_problem_and_another_firm_gets_404(firm, tenant_client):
    api = f"/api/v1/{firm.tenant.slug}/conto_lavoro"
    refused = firm.client.post(
        f"{api}/dispatches",
        json={"subcontractor_id": firm.subcontractor_id, "processing": "x", "lines": []},
        headers=_headers(firm.client, firm),
    )
    assert refused.status_code == 422
    assert "lines" in refused.get_json()["errors"]
    dispatch_id, _lines = firm.dispatch([(firm.bar_id, "1")])
    other_client, other, _user = tenant_client("owner", modules=["conto_lavoro"])
    mine = f"/api/v1/{other.slug}/conto_lavoro"
    assert other_client.get(f"{mine}/dispatches/{dispatch_id}").status_code == 404
    assert other_client.get(f"{api}/dispatches/{dispatch_id}").status_code == 404
