"""Usage per firm, the operator's console figures, the platform overview and /metrics."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select

from distretto.modules.catalog import services as catalog
from distretto.modules.orders import services as orders
from distretto.platform import files, usage
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.usage import TenantStats, TenantUsage
from distretto.tenants.models import Tenant

TOKEN = "scrape-me-please-0123456789"


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def console(make_user, login):
    return english(login(make_user(operator=True)))


def make_orders(firm, count, kind="sale", actor=None):
    """Orders created through the module's services, as the pages create them."""
    with tenant_context(firm, actor_id=actor.id if actor else None):
        rate = catalog.vat_rate_by_code("22")
        party = catalog.create_party(
            {
                "legal_name": "Cliente",
                "is_customer": True,
                "is_supplier": True,
                "vat_number": "03777120167",
            }
        )
        for n in range(count):
            orders.create_order(
                kind,
                {
                    "party_id": party.id,
                    "lines": [
                        {
                            "description": f"Pezzo {n}",
                            "quantity": "1",
                            "unit_price": "10",
                            "vat_rate_id": rate.id,
                        }
                    ],
                },
            )
    db.session.commit()


def documents(firm):
    db.session.rollback()
    rows = db.session.execute(
        select(TenantUsage.document_type, TenantUsage.documents).where(
            TenantUsage.firm_id == firm.id, TenantUsage.month == usage.month_key()
        )
    ).all()
    return dict(rows)


def firm_row(page, firm):
    row = page[page.index(f'data-firm="{firm.slug}"') :]
    return row[: row.index("</tr>")]


def test_documents_created_this_month_are_counted_per_firm_and_type(
    make_tenant, make_user, console
):
    a = make_tenant(modules=["catalog", "orders"], legal_name="Alfa Meccanica S.r.l.")
    b = make_tenant(modules=["catalog", "orders"], legal_name="Beta Tessile S.r.l.")
    make_orders(a, 3)
    make_orders(a, 2, kind="purchase")
    make_orders(b, 1)

    assert documents(a) == {"sales_order": 3, "purchase_order": 2}
    assert documents(b) == {"sales_order": 1}

    page = console.get("/operator/").get_data(as_text=True)
    assert '<td class="text-end firm-documents">5</td>' in firm_row(page, a)
    assert '<td class="text-end firm-documents">1</td>' in firm_row(page, b)
    assert "catalog, orders" in firm_row(page, a)

    detail = console.get(f"/operator/firms/{a.slug}/usage").get_data(as_text=True)
    sales = detail[detail.index('data-document-type="sales_order"') :]
    sales = sales[: sales.index("</tr>")]
    assert sales.endswith('<td class="text-end">3</td>')  # the current month is the last column

    overview = console.get("/operator/overview").get_data(as_text=True)
    documents_line = overview[overview.index('id="overview-documents"') :]
    assert documents_line.startswith('id="overview-documents">6')
    assert "Purchase order: 2, Sales order: 4" in documents_line


def test_a_rolled_back_order_counts_nothing(make_tenant):
    firm = make_tenant(modules=["catalog", "orders"])
    make_orders(firm, 1)
    with tenant_context(firm):
        rate = catalog.vat_rate_by_code("22")
        party = catalog.create_party(
            {"legal_name": "Altro", "is_customer": True, "vat_number": "03777120167"}
        )
        orders.create_order(
            "sale",
            {
                "party_id": party.id,
                "lines": [
                    {"description": "x", "quantity": "1", "unit_price": "1", "vat_rate_id": rate.id}
                ],
            },
        )
    db.session.rollback()
    assert documents(firm) == {"sales_order": 1}


def test_usage_collect_recomputes_the_figures_exactly(app, make_tenant, make_user):
    firm = make_tenant(modules=["catalog", "orders"])
    make_user(firm, "owner")
    make_user(firm, "staff")
    make_orders(firm, 4)
    with tenant_context(firm):
        files.save_file("import", "a.xml", "application/xml", b"<a/>" * 100)
    db.session.commit()
    kept = documents(firm)
    stats = db.session.get(TenantStats, firm.id)
    assert (stats.users, stats.storage_bytes) == (2, 400)

    # figures lost or wrong (a crash between two commits, a bulk change)
    db.session.execute(delete(TenantUsage).where(TenantUsage.firm_id == firm.id))
    db.session.execute(delete(TenantStats).where(TenantStats.firm_id == firm.id))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["usage", "collect"])
    assert result.exit_code == 0, result.output
    assert "usage collected for 1 firm(s)" in result.output
    assert documents(firm) == kept == {"sales_order": 4}
    stats = db.session.get(TenantStats, firm.id)
    assert (stats.users, stats.storage_bytes) == (2, 400)
    assert stats.modules == "catalog,orders"
    assert stats.rows_estimate > 4
    assert stats.collected_at is not None
    assert stats.last_activity_at is not None


def test_the_firms_list_is_searched_and_paginated(console, make_tenant):
    for n in range(27):
        make_tenant(slug=f"ditta-{n:02d}", legal_name=f"Ditta {n:02d} S.r.l.")
    make_tenant(slug="ceramica-rossi", legal_name="Ceramica Rossi S.p.A.")

    first = console.get("/operator/").get_data(as_text=True)
    assert first.count('data-firm="') == 25
    assert "1 / 2" in first
    assert "28 records" in first
    second = console.get("/operator/?page=2").get_data(as_text=True)
    assert second.count('data-firm="') == 3

    found = console.get("/operator/?q=rossi").get_data(as_text=True)
    assert found.count('data-firm="') == 1
    assert "Ceramica Rossi S.p.A." in found
    live = console.get("/operator/?q=ditta-0", headers={"HX-Request": "true"})
    body = live.get_data(as_text=True)
    assert body.count('data-firm="') == 10
    assert "Onboard a firm" not in body
    assert 'data-firm="ceramica-rossi"' not in body


def test_the_firm_usage_page_counts_active_users_and_storage(
    console, make_tenant, make_user, login
):
    firm = make_tenant()
    active = make_user(firm, "owner")
    make_user(firm, "staff")  # never signed in
    login(active)
    with tenant_context(firm):
        files.save_file("import", "a.bin", "application/octet-stream", b"x" * 2 * 1024 * 1024)
    db.session.commit()
    page = console.get(f"/operator/firms/{firm.slug}/usage").get_data(as_text=True)
    assert 'id="usage-users">2' in page
    assert "1 active in the last 30 days" in page
    assert 'id="usage-storage">2.0' in page


def test_platform_overview_counts_firms_by_status_and_the_outbox(console, make_tenant):
    from distretto.platform.db import utcnow
    from distretto.platform.outbox import OutboxMessage
    from distretto.tenants import services

    make_tenant()
    suspended = make_tenant()
    services.set_status(db.session.get(Tenant, suspended.id), "suspended", "unpaid")
    db.session.add(OutboxMessage(topic="mail", payload={}))
    db.session.add(OutboxMessage(topic="mail", payload={}, failed_at=utcnow(), attempts=8))
    db.session.commit()
    page = console.get("/operator/overview").get_data(as_text=True)
    assert 'id="overview-firms">2' in page
    assert "active: 1, suspended: 1" in page
    assert 'id="overview-outbox-pending">1<' in page
    assert 'text-bg-danger">1<' in page


# --- /metrics ---------------------------------------------------------------------------


def test_metrics_is_off_unless_a_token_is_configured(app):
    app.config["METRICS_TOKEN"] = None
    assert app.test_client().get("/metrics").status_code == 404
    assert (
        app.test_client().get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404
    )


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"]
)
def test_metrics_refuses_requests_without_its_token(app, header):
    app.config["METRICS_TOKEN"] = TOKEN
    headers = {"Authorization": header} if header else {}
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "distretto_" not in response.get_data(as_text=True)


def test_metrics_serves_prometheus_text_with_its_token(app, make_tenant, make_user):
    app.config["METRICS_TOKEN"] = TOKEN
    firm = make_tenant(modules=["catalog", "orders"])
    make_user(firm, "owner")
    make_tenant(status="suspended", suspended_reason="test")
    make_orders(firm, 2)
    with tenant_context(firm):
        files.save_file("import", "a.xml", "application/xml", b"x" * 1000)
    db.session.commit()

    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }
    assert samples[("distretto_firms", (("status", "active"),))] == 1
    assert samples[("distretto_firms", (("status", "suspended"),))] == 1
    assert samples[("distretto_users", ())] == 1
    assert samples[("distretto_documents_created_total", (("document_type", "sales_order"),))] == 2
    assert samples[("distretto_documents_this_month", (("document_type", "sales_order"),))] == 2
    assert samples[("distretto_storage_files_bytes", ())] == 1000
    assert samples[("distretto_outbox_messages", (("state", "failed"),))] == 0
    [build] = [k for k in samples if k[0] == "distretto_build_info"]
    assert dict(build[1])["version"]
    # no firm is named in the monitoring
    assert firm.slug not in response.get_data(as_text=True)


def test_console_pages_run_the_same_queries_for_five_firms_or_forty(console, make_tenant, app):
    from sqlalchemy import event

    def statements(path):
        seen = []

        def count(*args):
            seen.append(1)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert console.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for _ in range(5):
        make_tenant(modules=["catalog"])
    few = {path: statements(path) for path in ("/operator/", "/operator/overview")}
    for _ in range(35):
        make_tenant(modules=["catalog"])
    many = {path: statements(path) for path in ("/operator/", "/operator/overview")}
    assert many == few


def test_using_a_firms_pages_is_its_last_activity(tenant_client):
    client, firm, _owner = tenant_client("owner")
    db.session.execute(
        TenantStats.__table__.update()
        .where(TenantStats.firm_id == firm.id)
        .values(last_activity_at=None)
    )
    db.session.commit()
    usage._page_activity.clear()
    assert client.get(f"/{firm.slug}/").status_code == 200
    db.session.rollback()
    assert db.session.get(TenantStats, firm.id).last_activity_at is not None
