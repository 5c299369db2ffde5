"""Numbering: safe formats, rendering, yearly reset, series, gapless under concurrency."""

import threading
import time
from datetime import date
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from distretto.platform import numbering, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db, write_intent
from distretto.platform.numbering import NumberingError, check_format, next_number, render
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

DOC = "sample_request"


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def firm(make_tenant):
    tenant = make_tenant(modules=["sample"])
    with tenant_context(tenant):
        yield tenant


# --- formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("SO-{seq.__class__}", "Unknown placeholder {seq.__class__}"),
        ("{seq.__init__.__globals__}", "Unknown placeholder {seq.__init__.__globals__}"),
        ("{seq[0]}", "Unknown placeholder {seq[0]}"),
        ("SO-{unknown}-{seq}", "Unknown placeholder {unknown}"),
        ("SO-{Year}-{seq}", "Unknown placeholder {Year}"),
        ("SO-{}-{seq}", "Unknown placeholder {}"),
        ("SO-{seq:>5}", "Unknown placeholder {seq:>5}"),
        ("SO-{year}", "The format must contain {seq}."),
        ("SO-{seq", "unbalanced"),
        ("SO-seq}", "unbalanced"),
        ("SO-{{seq}}", "unbalanced"),
        ("{seq:20}", "at most 12 digits"),
        ("", "The format is required"),
        ("x" * 81 + "{seq}", "The format is required"),
        (42, "The format must be text."),
    ],
)
def test_unsafe_or_broken_formats_are_refused(app, fmt, message):
    with pytest.raises(NumberingError) as refused:
        check_format(fmt)
    assert message in str(refused.value)


def test_good_formats_pass_stripped(app):
    assert check_format("  SO-{year}-{seq:05}  ") == "SO-{year}-{seq:05}"
    assert check_format("{series}/{yy}/{month}/{seq}") == "{series}/{yy}/{month}/{seq}"


@pytest.mark.parametrize(
    ("fmt", "seq", "on", "series", "expected"),
    [
        ("SO-{year}-{seq:05}", 42, date(2026, 3, 9), "", "SO-2026-00042"),
        ("SO-{year}-{seq:05}", 123456, date(2026, 3, 9), "", "SO-2026-123456"),
        ("{seq}/{yy}", 7, date(2009, 1, 1), "", "7/09"),
        ("FT{yy}{month}-{seq:3}", 5, date(2026, 11, 2), "", "FT2611-  5"),
        ("{series}/{seq:04}", 12, date(2026, 1, 1), "B", "B/0012"),
        ("DDT {seq} del {year}", 1, date(2027, 12, 31), "", "DDT 1 del 2027"),
    ],
)
def test_rendering(fmt, seq, on, series, expected):
    assert render(fmt, seq=seq, on=on, series=series) == expected


def test_preview_checks_the_format(app):
    assert numbering.preview("OV-{year}-{seq:03}", on=date(2026, 5, 1)) == "OV-2026-001"
    with pytest.raises(NumberingError):
        numbering.preview("OV-{id}")


# --- counters -------------------------------------------------------------------------


def test_the_module_default_applies_until_the_firm_sets_its_own(firm):
    assert next_number(DOC, on=date(2026, 2, 1)) == (1, "SR-2026-0001")
    numbering.set_rule(DOC, "RC/{yy}/{seq:06}", yearly_reset=True)
    assert next_number(DOC, on=date(2026, 2, 1)) == (2, "RC/26/000002")


def test_a_bad_rule_is_refused(firm):
    with pytest.raises(NumberingError, match="Unknown placeholder"):
        numbering.set_rule(DOC, "{seq.__class__}", yearly_reset=True)
    with pytest.raises(LookupError):
        numbering.set_rule("no_such_document", "{seq}", yearly_reset=True)


def test_yearly_reset_starts_again_at_one_each_year(firm):
    taken = [next_number(DOC, on=date(2025, 12, 30))[1] for _ in range(3)]
    taken += [next_number(DOC, on=date(2026, 1, 2))[1] for _ in range(2)]
    taken.append(next_number(DOC, on=date(2025, 12, 31))[1])  # a late 2025 document
    assert taken == [
        "SR-2025-0001",
        "SR-2025-0002",
        "SR-2025-0003",
        "SR-2026-0001",
        "SR-2026-0002",
        "SR-2025-0004",
    ]


def test_without_yearly_reset_numbers_run_on_across_years(firm):
    numbering.set_rule(DOC, "R{seq:03}", yearly_reset=False)
    assert next_number(DOC, on=date(2025, 12, 31))[1] == "R001"
    assert next_number(DOC, on=date(2026, 1, 1))[1] == "R002"


def test_series_are_numbered_separately(firm):
    numbering.set_rule(DOC, "{series}-{seq}", yearly_reset=True)
    on = date(2026, 4, 1)
    taken = [
        next_number(DOC, on=on, series="A")[1],
        next_number(DOC, on=on, series="B")[1],
        next_number(DOC, on=on, series="A")[1],
        next_number(DOC, on=on, series="B")[1],
        next_number(DOC, on=on, series="A")[1],
    ]
    assert taken == ["A-1", "B-1", "A-2", "B-2", "A-3"]
    with pytest.raises(NumberingError, match="series"):
        next_number(DOC, on=on, series="A{seq}")


def test_firms_have_their_own_counters(make_tenant):
    first, second = make_tenant(modules=["sample"]), make_tenant(modules=["sample"])
    on = date(2026, 4, 1)
    with tenant_context(first):
        assert [next_number(DOC, on=on)[0] for _ in range(3)] == [1, 2, 3]
    with tenant_context(second):
        assert next_number(DOC, on=on)[0] == 1
    db.session.commit()


def test_a_rolled_back_transaction_gives_its_number_back(firm):
    workflow.current_definition(DOC)
    create_request("Kept", "1")
    db.session.commit()
    create_request("Abandoned", "1")
    db.session.rollback()
    kept_later = create_request("Kept later", "1")
    db.session.commit()
    year = date.today().year
    assert kept_later.number == f"SR-{year}-0002"


# --- concurrency ----------------------------------------------------------------------


def issue_concurrently(app, firm, count: int, roll_back_every: int) -> list[BaseException]:
    """``count`` threads, each a request of its own, create a numbered document at once.

    Every ``roll_back_every``-th rolls back after taking its number, as a request
    that fails later on would. Returns the errors the threads met.
    """
    scope = SimpleNamespace(id=firm.id, slug=firm.slug)
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        write_intent.set(True)  # as a POST request does (BEGIN IMMEDIATE on SQLite)
        try:
            with app.app_context(), tenant_context(scope):
                start.wait(timeout=30)
                document = create_request(f"Request {index}", "1")
                time.sleep(0.02)  # hold the counter a moment, so others must queue
                assert document.number
                if index % roll_back_every == 0:
                    db.session.rollback()
                else:
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(1, count + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def committed_numbers(firm) -> list[str]:
    db.session.commit()
    with tenant_context(firm):
        return list(
            db.session.execute(select(SampleRequest.number).order_by(SampleRequest.number))
            .scalars()
            .all()
        )


@pytest.mark.postgres_only
def test_gapless_and_unique_under_concurrent_requests_on_postgresql(app, make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.current_definition(DOC)  # the workflow copy is not what this test is about
    db.session.commit()

    errors = issue_concurrently(app, firm, count=20, roll_back_every=5)

    assert errors == []
    year = date.today().year
    assert committed_numbers(firm) == [f"SR-{year}-{n:04d}" for n in range(1, 17)]


def test_no_duplicates_under_concurrent_requests(app, make_tenant):
    """On SQLite the database serialises writers; numbers must still be unique and gapless."""
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.current_definition(DOC)
    db.session.commit()

    errors = issue_concurrently(app, firm, count=12, roll_back_every=4)

    assert errors == []
    numbers = committed_numbers(firm)
    assert len(numbers) == len(set(numbers)) == 9
    year = date.today().year
    assert numbers == [f"SR-{year}-{n:04d}" for n in range(1, 10)]
