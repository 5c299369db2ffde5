"""A large CSV import runs in the worker while the page shows its progress bar,
then the per-row error report."""

from __future__ import annotations

import pytest

from tests.browser.helpers import axe_violations, expect, seed_firm, shoot, sign_in

pytestmark = pytest.mark.browser

ROWS = 60
BAD = (7, 42)  # data rows with an invalid VAT number


@pytest.fixture
def app_config(distretto_database):
    """Small batches (the worker here is the test), so the bar has steps to show."""
    return {**distretto_database.config(), "IMPORT_BATCH_ROWS": 20}


def valid_vat(n: int) -> str:
    from stdnum import luhn

    base = f"{(n * 7907) % 10_000_000:07d}016"
    return base + luhn.calc_check_digit(base)


def customers_csv() -> bytes:
    lines = ["code;legal_name;vat_number;city"]
    for n in range(1, ROWS + 1):
        vat = "12345678901" if n in BAD else valid_vat(n)
        lines.append(f"IMP{n:03d};Cliente importato {n} S.r.l.;{vat};Bergamo")
    return ("\n".join(lines) + "\n").encode()


def run_worker_batch() -> int:
    """What ``distretto worker`` does, one outbox message (one batch of rows) at a time."""
    from distretto.platform import outbox
    from distretto.platform.db import db

    db.session.commit()
    return outbox.drain(batch=1)


def test_import_shows_its_progress_and_the_rows_with_errors(page, make_tenant, make_user):
    firm = seed_firm(make_tenant, "meccanica-rossi", "Meccanica Rossi S.r.l.")
    admin = make_user(firm, "admin", name="Giulia Bianchi")
    sign_in(page, admin)
    page.goto(f"/{firm.slug}/imports/customers")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "clienti.csv", "mimeType": "text/csv", "buffer": customers_csv()}]
    )
    page.get_by_role("button", name="Start the import").click()

    bar = page.locator("#import-progress[role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#import-status")).to_contain_text("Waiting for the worker")

    assert run_worker_batch() == 1  # rows 1-20
    expect(bar).to_have_attribute("aria-valuenow", "33")  # the page polls by itself
    expect(page.locator("#import-status")).to_contain_text(f"20 of {ROWS} rows")
    shoot(page, "import-progress")

    while run_worker_batch():
        pass
    expect(bar).to_have_attribute("aria-valuenow", "100")
    status = page.locator("#import-status")
    expect(status).to_contain_text(f"{ROWS - len(BAD)} rows imported, {len(BAD)} rows with errors")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(len(BAD))
    assert "vat_number" in errors.first.inner_text()
    assert not axe_violations(page)
    shoot(page, "import-done")
