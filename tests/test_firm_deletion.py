"""A firm asks to be deleted: a grace period with its data intact, then the purge.

The purge removes every row of that firm (every table that refers to a firm,
modules included) and its row; another firm's rows are all still there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.files import save_file
from distretto.tenants.lifecycle import firm_row_count, purge_due
from distretto.tenants.models import Tenant
from distretto.testing.plugin import csrf_token

MODULES = ["catalog", "orders", "inventory", "invoicing"]


def _firm_with_data(make_tenant: Any, make_user: Any, slug: str) -> tuple[Any, Any]:
    from distretto.modules.catalog import services as catalog
    from distretto.modules.orders import services as orders

    tenant = make_tenant(slug=slug, modules=MODULES)
    owner = make_user(tenant, "owner")
    with tenant_context(tenant, owner.id):
        party = catalog.create_party(
            {"legal_name": f"Cliente di {slug}", "is_customer": True, "vat_number": "02712350947"}
        )
        product = catalog.create_product(
            {
                "code": "P1",
                "description": "Flangia",
                "unit": "pz",
                "sale_price": "10",
                "vat_rate_id": catalog.vat_rate_by_code("22").id,
            }
        )
        orders.create_order(
            "sale",
            {"party_id": party.id, "lines": [{"product_id": product.id, "quantity": "2"}]},
        )
        save_file("logo", "logo.png", "image/png", b"\x89PNG-logo")
    db.session.commit()
    return tenant, owner


def _tenant(slug: str) -> Any:
    db.session.rollback()
    return db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def test_owner_schedules_deletion_with_the_slug_and_sees_the_banner(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    tenant, owner = _firm_with_data(make_tenant, make_user, "in-uscita")
    client = login(owner)
    path = "/in-uscita/settings/export"
    wrong = client.post(
        "/in-uscita/settings/deletion",
        data={"confirmation": "altro", "csrf_token": csrf_token(client, path)},
    )
    assert wrong.status_code == 400
    assert _tenant("in-uscita").delete_after is None

    response = client.post(
        "/in-uscita/settings/deletion",
        data={"confirmation": "in-uscita", "csrf_token": csrf_token(client, path)},
    )
    assert response.status_code == 303
    scheduled = _tenant("in-uscita")
    assert scheduled.delete_after - scheduled.deletion_requested_at == timedelta(days=30)

    with force_locale("en"):
        page = client.get("/in-uscita/orders/sales").get_data(as_text=True)
    assert 'id="deletion-banner"' in page
    assert "Download the final export" in page
    download = client.get("/in-uscita/settings/export/download")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"

    purge_due()  # not yet: the grace period runs
    assert _tenant("in-uscita") is not None
    assert firm_row_count(tenant.id) > 0

    cancelled = client.post(
        "/in-uscita/settings/deletion/cancel", data={"csrf_token": csrf_token(client, path)}
    )
    assert cancelled.status_code == 303
    assert _tenant("in-uscita").delete_after is None
    assert 'id="deletion-banner"' not in client.get("/in-uscita/orders/sales").get_data(
        as_text=True
    )


def test_only_the_owner_may_export_or_ask_for_deletion(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    tenant, _owner = _firm_with_data(make_tenant, make_user, "ditta-a")
    admin = make_user(tenant, "admin")
    client = login(admin)
    token = csrf_token(client, "/ditta-a/settings/modules")
    assert client.get("/ditta-a/settings/export").status_code == 403
    assert client.get("/ditta-a/settings/export/download").status_code == 403
    refused = client.post(
        "/ditta-a/settings/deletion", data={"confirmation": "ditta-a", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert _tenant("ditta-a").delete_after is None


def test_purge_after_the_date_removes_every_row_of_that_firm_only(
    app: Any, make_tenant: Any, make_user: Any, caplog: Any
) -> None:
    leaving, _owner = _firm_with_data(make_tenant, make_user, "ditta-via")
    staying, _other = _firm_with_data(make_tenant, make_user, "ditta-resta")
    leaving_id, staying_id = leaving.id, staying.id
    staying_rows = firm_row_count(staying_id)
    assert firm_row_count(leaving_id) > 0

    runner = app.test_cli_runner()
    result = runner.invoke(args=["firms", "delete", "ditta-via"])
    assert result.exit_code == 0, result.output
    assert "no firm to purge" in runner.invoke(args=["firms", "purge"]).output
    assert firm_row_count(leaving_id) > 0

    db.session.rollback()
    row = db.session.get(Tenant, leaving_id)
    row.delete_after = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="distretto.lifecycle"):
        result = runner.invoke(args=["firms", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged ditta-via" in result.output
    assert any("firm purged slug=ditta-via" in r.getMessage() for r in caplog.records)

    assert firm_row_count(leaving_id) == 0
    assert _tenant("ditta-via") is None
    assert firm_row_count(staying_id) == staying_rows
    assert _tenant("ditta-resta") is not None


def test_operator_schedules_and_cancels_from_the_console(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    tenant, _owner = _firm_with_data(make_tenant, make_user, "ditta-op")
    operator = make_user(operator=True)
    client = login(operator)
    path = "/operator/firms/ditta-op/deletion"
    assert client.get(path).status_code == 200
    response = client.post(
        path, data={"confirmation": "ditta-op", "csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 303
    assert _tenant("ditta-op").delete_after is not None
    console = client.get("/operator/").get_data(as_text=True)
    assert 'id="pending-deletions"' in console
    assert "/ditta-op" in console
    cancelled = client.post(
        "/operator/firms/ditta-op/deletion/cancel",
        data={"csrf_token": csrf_token(client, "/operator/")},
    )
    assert cancelled.status_code == 303
    assert _tenant("ditta-op").delete_after is None


def test_grace_days_come_from_the_configuration(app: Any, make_tenant: Any, make_user: Any) -> None:
    from distretto.tenants.lifecycle import request_deletion

    app.config["FIRM_DELETION_GRACE_DAYS"] = 7
    tenant, _owner = _firm_with_data(make_tenant, make_user, "ditta-sette")
    request_deletion(tenant, "ditta-sette")
    db.session.commit()
    row = _tenant("ditta-sette")
    assert row.delete_after - row.deletion_requested_at == timedelta(days=7)
