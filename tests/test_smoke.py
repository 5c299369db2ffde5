from distretto.testing.plugin import csrf_token


def test_owner_signs_in_and_lands_on_the_firm_home(tenant_client):
    client, tenant, user = tenant_client("owner")
    response = client.get(f"/{tenant.slug}/")
    assert response.status_code == 200
    assert tenant.legal_name in response.get_data(as_text=True)


def test_member_of_a_gets_404_on_firm_b(tenant_client, make_tenant):
    client, _tenant, _user = tenant_client("owner")
    other = make_tenant()
    assert client.get(f"/{other.slug}/").status_code == 404
    assert client.get("/no-such-firm/").status_code == 404


def test_login_form_without_csrf_is_refused(app, make_user):
    user = make_user()
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "x"})
    assert response.status_code == 400
    token = csrf_token(client)
    assert token
