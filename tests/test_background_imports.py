"""CSV imports run by the worker: the request only queues, the worker imports in batches.

The worker is the real outbox drain (``outbox.drain``), as ``distretto worker``
runs it; the pages are read as a clerk reads them.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party
from distretto.modules.inventory import services as inventory
from distretto.platform import imports, outbox
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.imports import ImportJob
from distretto.testing.plugin import csrf_token

VAT = "03777120167"


def _upload(client, slug: str, kind: str, data: bytes, filename: str = "file.csv"):
    page = f"/{slug}/imports/{kind}"
    return client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _work() -> int:
    """Run the worker until nothing is due; returns the messages it delivered."""
    delivered = 0
    while True:
        handled = outbox.drain()
        if not handled:
            return delivered
        delivered += handled


def _job(tenant, job_id: int) -> ImportJob:
    db.session.rollback()
    with tenant_context(tenant):
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        return job


def _count(tenant, model) -> int:
    db.session.rollback()
    with tenant_context(tenant):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _progress(html: str) -> int:
    match = re.search(r'id="import-progress"[^>]*aria-valuenow="(\d+)"', html)
    assert match, "no progress bar"
    return int(match.group(1))


def _customers_csv(rows: int, bad: dict[int, str]) -> bytes:
    """``rows`` customers; the rows named in ``bad`` (file row numbers) carry that fault."""
    lines = ["code;legal_name;vat_number;city;vat_code;payment_terms"]
    for n in range(2, rows + 2):
        fault = bad.get(n)
        code, name, vat, vat_code = f"C{n:05d}", f"Cliente {n}", VAT, "22"
        if fault == "vat":
            vat = "12345678901"
        elif fault == "vat_code":
            vat_code = "23"
        elif fault == "duplicate":
            code = "C00002"
        elif fault == "name":
            name = ""
        lines.append(f"{code};{name};{vat};Bergamo;{vat_code};BB30")
    return ("\n".join(lines) + "\n").encode()


def test_a_large_customer_file_is_queued_then_imported_by_the_worker_with_an_error_report(
    tenant_client,
):
    client, tenant, _user = tenant_client("admin", modules=["catalog"])
    bad = {10: "vat", 777: "vat_code", 2500: "duplicate", 4999: "name"}
    response = _upload(client, tenant.slug, "customers", _customers_csv(5000, bad))

    # the request stored the file and queued the job: nothing is imported yet
    assert response.status_code == 303
    job_url = response.headers["Location"]
    job_id = int(re.search(r"/imports/jobs/(\d+)$", job_url).group(1))
    assert _job(tenant, job_id).status == "queued"
    assert _count(tenant, Party) == 0
    page = client.get(job_url).get_data(as_text=True)
    assert _progress(page) == 0
    assert 'hx-trigger="every 1s"' in page  # the page polls while the job is not finished

    assert _work() >= 10  # 5,000 rows in batches of 500: one message per batch

    job = _job(tenant, job_id)
    assert (job.status, job.total_rows, job.processed) == ("done", 5000, 5000)
    assert job.created_rows == 4996
    assert _count(tenant, Party) == 4996
    status = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _progress(status) == 100
    assert "every 1s" not in status  # finished: the polling stops
    assert "4996 rows imported, 4 rows with errors" in status
    problems = {
        int(row): (column, message)
        for row, column, message in re.findall(
            r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", status
        )
    }
    assert set(problems) == {10, 777, 2500, 4999}
    assert problems[10][0] == "vat_number"
    assert "not a valid Italian VAT number" in problems[10][1]
    assert problems[777] == ("vat_code", "unknown VAT code 23.")
    assert problems[2500] == ("code", "C00002 already exists.")
    assert problems[4999][0] == "legal_name"

    report = client.get(f"/{tenant.slug}/imports/jobs/{job_id}/errors.csv")
    assert report.status_code == 200
    lines = report.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "row;column;message"
    assert [line.split(";")[0] for line in lines[1:]] == ["10", "777", "2500", "4999"]

    listing = client.get(f"/{tenant.slug}/imports/").get_data(as_text=True)
    assert "file.csv" in listing


def test_a_repeated_batch_message_imports_nothing_twice(tenant_client, app):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    app.config["IMPORT_BATCH_ROWS"] = 2
    try:
        response = _upload(client, tenant.slug, "customers", _customers_csv(5, {}))
        job_id = int(response.headers["Location"].rsplit("/", 1)[1])
        _work()
        with tenant_context(tenant):  # the worker delivers at least once: replay the first batch
            outbox.enqueue(imports.TOPIC, {"job_id": job_id, "start": 0})
            db.session.commit()
        _work()
    finally:
        app.config.pop("IMPORT_BATCH_ROWS")
    job = _job(tenant, job_id)
    assert (job.status, job.created_rows, job.processed) == ("done", 5, 5)
    assert _count(tenant, Party) == 5


def test_a_crash_marks_the_job_failed_with_the_reason_and_keeps_earlier_batches(tenant_client, app):
    def write(prepared, values):
        if values["name"] == "boom":
            raise RuntimeError("the disk is on fire")

    kind = imports.register(
        imports.ImportKind(
            key="test_crash",
            module="catalog",
            label="Crash",
            permission="catalog.import",
            columns=["name"],
            required=["name"],
            write_row=write,
        )
    )
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    app.config["IMPORT_BATCH_ROWS"] = 2
    try:
        response = _upload(client, tenant.slug, kind.key, b"name\na\nb\nc\nboom\ne\n")
        job_id = int(response.headers["Location"].rsplit("/", 1)[1])
        _work()
    finally:
        app.config.pop("IMPORT_BATCH_ROWS")
        imports._kinds.pop(kind.key)
    job = _job(tenant, job_id)
    assert job.status == "failed"
    assert job.failure == "the disk is on fire"
    assert job.processed == 2  # the first batch was committed before the crash


def test_an_upload_without_the_required_columns_is_refused_at_once(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    response = _upload(client, tenant.slug, "products", b"code;price\nA;1\n")
    assert response.status_code == 400
    assert "Missing columns: description" in response.get_data(as_text=True)
    db.session.rollback()
    with tenant_context(tenant):
        assert db.session.execute(select(ImportJob)).first() is None


def test_opening_stock_import_sets_stock_levels(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog", "inventory"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        for code, stocked in (("P-1", True), ("P-2", True), ("S-1", False)):
            catalog.create_product(
                {
                    "code": code,
                    "description": code,
                    "vat_rate_id": rate.id,
                    "stocked": stocked,
                    "is_service": not stocked,
                    "purchase_cost": "4",
                }
            )
        location = inventory.default_location()
        label = f"{location.warehouse.code}/{location.code}"
        db.session.commit()
    content = (
        "product_code;quantity;unit_cost;location\n"
        "P-1;10;2,50;\n"  # row 2
        f"P-2;7,5;;{label}\n"  # row 3: the product's own cost, a named location
        "S-1;5;;\n"  # row 4: a service is not kept in stock
        "NOPE;1;;\n"  # row 5: unknown product
        "P-1;abc;;\n"  # row 6: not a number
        "P-2;1;;X/Y\n"  # row 7: unknown location
    ).encode()
    response = _upload(client, tenant.slug, "opening_stock", content)
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    _work()
    job = _job(tenant, job_id)
    assert (job.status, job.created_rows) == ("done", 2)
    assert sorted((e["row"], e["column"]) for e in job.error_rows) == [
        (4, "product_code"),
        (5, "product_code"),
        (6, "quantity"),
        (7, "location"),
    ]

    def levels() -> dict[str, tuple[Decimal, Decimal]]:
        db.session.rollback()
        with tenant_context(tenant):
            from distretto.modules.catalog.models import Product

            result = {}
            for code in ("P-1", "P-2"):
                product = db.session.execute(
                    select(Product).where(Product.code == code)
                ).scalar_one()
                stock = inventory.stock_of(product.id)
                result[code] = (stock.on_hand, stock.average_cost)
            return result

    assert levels() == {
        "P-1": (Decimal("10"), Decimal("2.5")),
        "P-2": (Decimal("7.5"), Decimal("4")),
    }
    stock_page = client.get(f"/{tenant.slug}/inventory/stock").get_data(as_text=True)
    assert "P-1" in stock_page

    # the same file again changes nothing: the rows bring the levels to the quantities given
    _upload(client, tenant.slug, "opening_stock", content)
    _work()
    assert levels()["P-1"][0] == Decimal("10")


def test_another_firm_never_sees_the_job(tenant_client, make_user, login):
    client_a, firm_a, _user = tenant_client("owner", modules=["catalog"])
    client_b, firm_b, _user_b = tenant_client("owner", modules=["catalog"])
    response = _upload(client_a, firm_a.slug, "customers", _customers_csv(3, {}))
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    _work()
    for url in (
        f"/{firm_b.slug}/imports/jobs/{job_id}",
        f"/{firm_b.slug}/imports/jobs/{job_id}/errors.csv",
        f"/{firm_a.slug}/imports/jobs/{job_id}",
    ):
        assert client_b.get(url).status_code == 404, url
    assert "file.csv" not in client_b.get(f"/{firm_b.slug}/imports/").get_data(as_text=True)
    assert _count(firm_b, Party) == 0
    assert _count(firm_a, Party) == 3
    # a viewer of firm A may not import
    viewer = login(make_user(firm_a, "viewer"))
    assert viewer.get(f"/{firm_a.slug}/imports/customers").status_code == 403


def test_the_catalog_import_page_hands_a_large_file_to_the_worker(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    page = f"/{tenant.slug}/catalog/import"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "customers",
            "file": (io.BytesIO(_customers_csv(1500, {3: "vat"})), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert "/imports/jobs/" in response.headers["Location"]
    _work()
    assert _count(tenant, Party) == 1499


@pytest.mark.parametrize("kind", ["customers", "suppliers", "products", "opening_stock"])
def test_upload_pages_name_their_columns(tenant_client, kind):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "inventory"])
    page = client.get(f"/{tenant.slug}/imports/{kind}")
    assert page.status_code == 200
    assert "<code>code</code>" in page.get_data(as_text=True) or "product_code" in page.get_data(
        as_text=True
    )


def test_a_job_whose_batch_the_worker_gives_up_on_is_failed_not_left_running(
    tenant_client, app, monkeypatch, distretto_database
):
    from datetime import timedelta

    from sqlalchemy import update

    from distretto.platform.db import utcnow
    from distretto.platform.outbox import OutboxMessage

    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    response = _upload(client, tenant.slug, "customers", _customers_csv(3, {}))
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])

    def broken(payload):
        raise OSError("the database went away")

    monkeypatch.setattr(imports, "_run_batch", broken)
    for _attempt in range(outbox.MAX_ATTEMPTS):
        outbox.drain()
        db.session.commit()
        with distretto_database.owner_engine.begin() as connection:
            connection.execute(
                update(OutboxMessage.__table__).values(
                    next_attempt_at=utcnow() - timedelta(seconds=1)
                )
            )
    job = _job(tenant, job_id)
    assert job.status == "failed"
    assert "could not process" in job.failure
    page = client.get(f"/{tenant.slug}/imports/jobs/{job_id}").get_data(as_text=True)
    assert "could not process" in page
