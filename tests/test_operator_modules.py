import pytest


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "EXTRA_MODULES": [*app_config["EXTRA_MODULES"], "no_such_package.module:module"],
    }


def test_operator_console_lists_a_broken_module_by_name_and_the_platform_runs(
    app, make_user, login
):
    operator = make_user(operator=True)
    client = login(operator)
    page = client.get("/operator/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "no_such_package.module:module" in html
    assert "ModuleNotFoundError" in html
    assert "catalog" in html
    assert client.get("/healthz").status_code == 200
