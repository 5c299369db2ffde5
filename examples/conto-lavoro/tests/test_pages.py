"""Conto lavoro through its pages and its JSON endpoint, as a firm's staff uses it."""

from __future__ import annotations

import re

from distretto.testing.plugin import csrf_token


def post_form(client, path, data):
    """Post ``data`` to the form at ``path`` with a valid CSRF token, as a browser would."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_staff_sends_material_and_sees_it_outstanding(tenant_client, valid_vat):
    client, tenant, _user = tenant_client("staff", modules=["conto_lavoro"])
    base = f"/{tenant.slug}/conto_lavoro"
    vat = valid_vat()
    response = post_form(
        client,
        f"{base}/subcontractors",
        {"name": "Zincatura Rossi", "vat_number": f"IT{vat}", "city": "Lumezzane"},
    )
    assert response.status_code == 302
    assert vat in text_of(client.get(f"{base}/subcontractors"))
    assert (
        post_form(
            client, f"{base}/items", {"code": "bar-01", "description": "Steel bar", "unit": "kg"}
        ).status_code
        == 302
    )

    form = text_of(client.get(f"{base}/dispatches/new"))
    subcontractor = re.search(r'<option value="(\d+)">Zincatura Rossi', form).group(1)
    item = re.search(r'<option value="(\d+)">BAR-01', form).group(1)
    response = post_form(
        client,
        f"{base}/dispatches/new",
        {
            "subcontractor_id": subcontractor,
            "processing": "Zinc plating",
            "lines-0-item_id": item,
            "lines-0-quantity": "25,5",
        },
    )
    assert response.status_code == 302
    detail = response.headers["Location"]
    assert "Draft" in text_of(client.get(detail))
    assert "No material is out" in text_of(client.get(f"{base}/"))

    send = f"{detail}/transitions/send"
    assert client.post(send, data={"csrf_token": csrf_token(client, detail)}).status_code == 302
    page = text_of(client.get(detail))
    assert re.search(r"CL-\d{4}-00001", page)
    assert "At the subcontractor" in page

    outstanding = text_of(client.get(f"{base}/"))
    assert "Zincatura Rossi" in outstanding
    assert re.search(
        r'data-item="BAR-01">.*?class="text-end fw-bold outstanding">25.5<', outstanding
    )


def test_form_errors_are_shown_next_to_the_field_at_fault(firm):
    base = firm.base
    response = post_form(
        firm.client, f"{base}/subcontractors", {"name": "Bad VAT", "vat_number": "12345678901"}
    )
    assert response.status_code == 400
    assert re.search(r'id="vat_number-error">[^<]*not a valid VAT number', text_of(response))

    response = post_form(
        firm.client,
        f"{base}/dispatches/new",
        {
            "subcontractor_id": str(firm.subcontractor_id),
            "processing": "",
            "lines-0-item_id": str(firm.bar_id),
            "lines-0-quantity": "4",
            "lines-1-item_id": str(firm.flange_id),
            "lines-1-quantity": "four",
        },
    )
    assert response.status_code == 400
    page = text_of(response)
    assert re.search(r'id="processing-error">This field is required', page)
    assert re.search(r'id="lines-1-quantity-error">four is not a number', page)
    assert 'value="four"' in page  # what the person typed is kept
    assert "No dispatches yet" in text_of(firm.client.get(f"{base}/dispatches"))


def test_returning_more_than_is_out_is_refused_on_the_form_and_saves_nothing(firm):
    _dispatch, (line,) = firm.dispatch([(firm.bar_id, "10")])
    form = f"{firm.base}/returns/new?subcontractor_id={firm.subcontractor_id}"
    page = text_of(firm.client.get(form))
    assert f'name="lines-0-dispatch_line_id" type="hidden" value="{line}"' in page

    data = {
        "subcontractor_id": str(firm.subcontractor_id),
        "reference": "DDT 88",
        "received_on": "2024-05-02",
        "lines-0-dispatch_line_id": str(line),
        "lines-0-quantity": "9",
        "lines-0-scrap": "1,5",
    }
    response = post_form(firm.client, form, data)
    assert response.status_code == 400
    assert re.search(
        r'id="lines-0-quantity-error">Only 10 kg of BAR-01 are still out', text_of(response)
    )
    assert "No returns yet" in text_of(firm.client.get(f"{firm.base}/returns"))

    response = post_form(firm.client, form, {**data, "lines-0-scrap": "1"})
    assert response.status_code == 302
    assert "DDT 88" in text_of(firm.client.get(response.headers["Location"]))
    assert "No material is out" in text_of(firm.client.get(f"{firm.base}/"))


def test_closing_too_early_is_refused_with_the_reason(firm):
    dispatch_id, _lines = firm.dispatch([(firm.flange_id, "12")])
    detail = f"{firm.base}/dispatches/{dispatch_id}"
    response = firm.client.post(
        f"{detail}/transitions/close", data={"csrf_token": csrf_token(firm.client, detail)}
    )
    assert response.status_code == 303
    page = text_of(firm.client.get(detail))
    assert "Still at the subcontractor: 12 pz FL-100." in page
    assert "At the subcontractor" in page


def test_the_json_endpoint_lists_what_is_out_with_exact_decimals(firm):
    firm.dispatch([(firm.bar_id, "2.125"), (firm.bar_id, "0.875")])
    response = firm.client.get(f"/api/v1/{firm.tenant.slug}/conto_lavoro/outstanding")
    assert response.status_code == 200
    (subcontractor,) = response.get_json()["subcontractors"]
    assert subcontractor["name"] == "Zincatura Rossi"
    assert subcontractor["items"] == [
        {
            "code": "BAR-01",
            "description": "Steel bar 20 mm",
            "unit": "kg",
            "sent": "3.000",
            "returned": "0.000",
            "scrap": "0.000",
            "outstanding": "3.000",
        }
    ]


def test_another_firm_gets_404_on_every_page_and_document(firm, tenant_client):
    dispatch_id, (line,) = firm.dispatch([(firm.bar_id, "10")])
    with_return = post_form(
        firm.client,
        f"{firm.base}/returns/new?subcontractor_id={firm.subcontractor_id}",
        {
            "reference": "R1",
            "received_on": "2024-05-02",
            "lines-0-dispatch_line_id": str(line),
            "lines-0-quantity": "1",
        },
    )
    return_url = with_return.headers["Location"]
    return_id = return_url.rsplit("/", 1)[-1]
    other_client, other, _user = tenant_client("owner", modules=["conto_lavoro"])

    for path in ("/", "/dispatches", f"/dispatches/{dispatch_id}", f"/returns/{return_id}"):
        assert other_client.get(f"{firm.base}{path}").status_code == 404, path
    assert (
        other_client.get(f"/api/v1/{firm.tenant.slug}/conto_lavoro/outstanding").status_code == 404
    )
    mine = f"/{other.slug}/conto_lavoro"
    assert other_client.get(f"{mine}/dispatches/{dispatch_id}").status_code == 404
    assert other_client.get(f"{mine}/returns/{return_id}").status_code == 404
    detail = f"{mine}/dispatches"
    response = other_client.post(
        f"{mine}/dispatches/{dispatch_id}/transitions/close",
        data={"csrf_token": csrf_token(other_client, detail)},
    )
    assert response.status_code == 404
    assert "Zincatura Rossi" not in text_of(other_client.get(f"{mine}/"))


def test_a_firm_that_did_not_enable_the_module_gets_404_and_no_menu_entry(tenant_client):
    client, tenant, _user = tenant_client("owner")
    assert client.get(f"/{tenant.slug}/conto_lavoro/").status_code == 404
    assert "conto_lavoro" not in client.get(f"/{tenant.slug}/").get_data(as_text=True)


def test_the_menu_leads_to_conto_lavoro_for_firms_that_use_it(firm):
    home = firm.client.get(f"/{firm.tenant.slug}/").get_data(as_text=True)
    assert f'href="/{firm.tenant.slug}/conto_lavoro/"' in home


def test_a_viewer_reads_but_cannot_create(tenant_client):
    client, tenant, _user = tenant_client("viewer", modules=["conto_lavoro"])
    base = f"/{tenant.slug}/conto_lavoro"
    assert client.get(f"{base}/").status_code == 200
    assert client.get(f"{base}/dispatches/new").status_code == 403
    token = csrf_token(client, f"{base}/items")
    response = client.post(
        f"{base}/items",
        data={"code": "X", "description": "X", "unit": "pz", "csrf_token": token},
    )
    assert response.status_code == 403
