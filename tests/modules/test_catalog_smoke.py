from distretto.testing.plugin import csrf_token


def test_smoke(tenant_client):
    client, tenant, user = tenant_client("owner", modules=["catalog"])
    base = f"/{tenant.slug}/catalog"
    for path in [
        "/customers",
        "/suppliers",
        "/products",
        "/parties/new",
        "/products/new",
        "/import",
        "/customers.csv",
        "/products.csv",
    ]:
        r = client.get(base + path)
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:3000])
    tok = csrf_token(client, base + "/parties/new")
    r = client.post(
        base + "/parties/new",
        data={"csrf_token": tok, "legal_name": "Acme", "is_customer": "y", "vat_number": "123"},
    )
    assert r.status_code == 400
    assert "not a valid Italian VAT" in r.get_data(as_text=True)
    r = client.post(
        base + "/parties/new",
        data={
            "csrf_token": tok,
            "legal_name": "Acme",
            "is_customer": "y",
            "vat_number": "03777120167",
            "payment_terms_id": "",
            "vat_rate_id": "",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    r = client.get(base + "/customers?q=acme")
    assert "Acme" in r.get_data(as_text=True)
    csv = "code;description;sale_price;vat_code\nA1;Vite;1,50;22\nA2;Dado;x;99\n"
    r = client.post(base + "/import", data={"csrf_token": tok, "kind": "products", "content": csv})
    assert r.status_code == 400, r.get_data(as_text=True)[:2000]
    csv = "code;description;sale_price;vat_code\nA1;Vite;1,50;22\nA2;Dado;0,20;10\n"
    r = client.post(
        base + "/import",
        data={"csrf_token": tok, "kind": "products", "content": csv, "confirm": "1"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    assert "Dado" in client.get(base + "/products").get_data(as_text=True)
