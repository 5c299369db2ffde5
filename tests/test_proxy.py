import pytest


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROXY_COUNT": 1}


def test_behind_one_proxy_throttling_counts_the_forwarded_client_address(app, make_user):
    from distretto.testing.plugin import csrf_token

    user = make_user()
    client = app.test_client()
    token = csrf_token(client)
    for attempt in range(20):
        response = client.post(
            "/login",
            data={
                "email": f"x{attempt}@example.com",
                "password": "wrong-password!",
                "csrf_token": token,
            },
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    assert response.status_code == 401
    blocked = client.post(
        "/login",
        data={"email": "y@example.com", "password": "wrong-password!", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert blocked.status_code == 429
    other = app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert response.status_code == 302
