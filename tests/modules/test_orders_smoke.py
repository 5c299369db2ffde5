from distretto.modules.catalog import services as catalog
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token


def test_clerk_creates_confirms_and_prints_a_sales_order(tenant_client):
    client, tenant, user = tenant_client("staff", modules=["catalog", "orders", "inventory"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        catalog.create_product(
            {
                "code": "SRV-1",
                "description": "Consulenza",
                "sale_price": "100",
                "vat_rate_id": rate.id,
                "is_service": True,
            }
        )
        db.session.commit()
        code = customer.code
    base = f"/{tenant.slug}/orders"
    assert client.get(base + "/sales").status_code == 200
    page = client.get(base + "/sales/new")
    assert page.status_code == 200
    token = csrf_token(client, base + "/sales/new")
    bad = client.post(
        base + "/sales/new",
        data={
            "csrf_token": token,
            "party_code": code,
            "lines-0-product_code": "SRV-1",
            "lines-0-quantity": "0",
        },
    )
    assert bad.status_code == 400
    assert "more than zero" in bad.get_data(as_text=True)
    good = client.post(
        base + "/sales/new",
        data={
            "csrf_token": token,
            "party_code": code,
            "lines-0-product_code": "SRV-1",
            "lines-0-quantity": "2,5",
        },
    )
    assert good.status_code == 302, good.get_data(as_text=True)[-3000:]
    detail = client.get(good.headers["Location"])
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200, html[-3000:]
    assert "305,00" in html or "305.00" in html
    confirm = client.post(
        good.headers["Location"].replace("/sales/", "/sales/")
        + "/transitions/confirm".replace("//", "/"),
        data={"csrf_token": token},
    )
    assert confirm.status_code in (302, 303)
    confirmed_page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert 'id="order-state">Confirmed<' in confirmed_page
    pdf = client.get(good.headers["Location"] + ".pdf")
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
