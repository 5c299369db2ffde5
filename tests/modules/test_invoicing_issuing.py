"""Issuing invoices: refusals that say what to fix, gapless numbers per series and year (also
under concurrent requests), immutability of issued invoices, rounding of the VAT summary."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from distretto.modules.catalog.models import VatRate
from distretto.modules.invoicing import services as invoicing
from distretto.modules.invoicing.models import Invoice
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db, write_intent
from distretto.tenants.models import Tenant
from tests.modules.test_invoicing_xml import (
    BODY,
    DOCUMENT,
    FISCAL,
    RECAP,
    customer,
    draft,
    fiscal_firm,
    issue,
    line,
    texts,
    tree,
)


@pytest.fixture
def firm(make_tenant):
    return fiscal_firm(make_tenant)


ON = date(2026, 3, 10)


def refused(invoice):
    """The message of the refused issue step (in English), checking nothing changed."""
    with force_locale("en"), pytest.raises(workflow.TransitionRefused) as caught:
        workflow.apply(invoice, "invoice", "issue", role="owner")
    assert invoice.state == "draft"
    assert invoice.number is None
    assert invoice.sequence is None
    assert invoice.xml_content is None
    return str(caught.value)


def zero_rate(natura):
    """A firm-made 0% VAT rate (the seeded ones always carry a valid Natura)."""
    rate = VatRate(code=f"Z{natura or 'X'}", description="Zero", rate=Decimal(0), natura=natura)
    db.session.add(rate)
    db.session.flush()
    return rate


def _no_sdi_code_nor_pec():
    return draft([line("10")], party=customer(sdi_code=None, legal_name="Muta S.r.l."))


def _no_postcode():
    return draft([line("10")], party=customer(postcode=None, legal_name="Senza Cap S.r.l."))


def _zero_rate_without_natura():
    return draft([{**line("10"), "vat_rate_id": zero_rate(None).id}])


def _generic_natura():
    return draft([{**line("10"), "vat_rate_id": zero_rate("N2").id}])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            _no_sdi_code_nor_pec,
            [
                "Customer: Muta S.r.l. has neither SDI code nor PEC",
                "add one to the customer's record",
            ],
        ),
        (_no_postcode, ["Customer: Senza Cap S.r.l. needs a 5-digit postcode"]),
        (
            _zero_rate_without_natura,
            ["line 1: a 0% VAT line needs a Natura code (choose an exempt VAT treatment)"],
        ),
        (_generic_natura, ["line 1: the generic Natura N2 is refused since 2021: use a sub-code"]),
    ],
    ids=["no-sdi-code-nor-pec", "no-postcode", "zero-rate-without-natura", "generic-n2"],
)
def test_refused_issue_says_what_to_fix_and_does_not_consume_the_number(firm, make, expected):
    with tenant_context(firm):
        first = issue(draft([line("10")], issue_date=ON))
        assert first.sequence == 1
        bad = make()
        message = refused(bad)
        assert message.startswith("The e-invoice cannot be issued: ")
        for part in expected:
            assert part in message
        assert "%%" not in message
        db.session.commit()
        after = issue(draft([line("10")], issue_date=ON))
        assert after.sequence == 2
        assert after.number == "2/2026"


def test_firm_without_fiscal_address_is_sent_to_the_invoicing_settings(make_tenant):
    tenant = make_tenant(modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoice = draft([line("10")])
        message = refused(invoice)
        for part in ("street", "postcode", "city"):
            assert f"Fiscal data: the fiscal address lacks the {part} (Invoicing settings)" in (
                message
            )
        invoicing.update_fiscal_settings(dict(FISCAL))
        issue(invoice)
        assert invoice.sequence == 1


def test_problems_are_shown_on_the_draft_before_issuing(firm):
    with tenant_context(firm), force_locale("en"):
        invoice = _no_postcode()
        problems = invoicing.preview_problems(invoice)
        assert [(p.where, p.message) for p in problems] == [
            ("customer", "Senza Cap S.r.l. needs a 5-digit postcode")
        ]


def test_a_series_longer_or_stranger_than_numbering_allows_is_refused_as_input(firm):
    with tenant_context(firm), force_locale("en"):
        with pytest.raises(invoicing.InvoiceError) as caught:
            draft([line("10")], series="A B")
        assert caught.value.field == "series"


def test_future_date_is_refused_at_issue(firm):
    with tenant_context(firm):
        tomorrow = date.today() + timedelta(days=1)
        message = refused(draft([line("10")], issue_date=tomorrow))
        assert "in the future" in message


def test_date_before_the_last_issued_invoice_of_the_series_is_refused(firm):
    with tenant_context(firm):
        issue(draft([line("10")], issue_date=date(2026, 3, 10)))
        earlier = draft([line("10")], issue_date=date(2026, 3, 9))
        message = refused(earlier)
        assert "1/2026" in message
        assert "10/03/2026" not in message
        assert "2026-03-10" in message or "Mar 10, 2026" in message
        db.session.commit()
        other_series = issue(draft([line("10")], issue_date=date(2026, 3, 9), series="B"))
        assert other_series.number == "B1/2026"
        same_day = issue(draft([line("10")], issue_date=date(2026, 3, 10)))
        assert same_day.number == "2/2026"


# --- numbering ----------------------------------------------------------------------------


def test_numbers_are_separate_per_series(firm):
    with tenant_context(firm):
        numbers = [
            issue(draft([line("10")], issue_date=ON, series=series)).number
            for series in ("", "B", "", "B", "")
        ]
        assert numbers == ["1/2026", "B1/2026", "2/2026", "B2/2026", "3/2026"]


def test_numbers_restart_every_year(firm):
    with tenant_context(firm):
        late = issue(draft([line("10")], issue_date=date(2025, 12, 30)))
        new_year = issue(draft([line("10")], issue_date=date(2026, 1, 2)))
        last_of_old_year = issue(draft([line("10")], issue_date=date(2025, 12, 31)))
        assert (late.number, late.year, late.sequence) == ("1/2025", 2025, 1)
        assert (new_year.number, new_year.year, new_year.sequence) == ("1/2026", 2026, 1)
        assert last_of_old_year.number == "2/2025"


def test_drafts_have_no_number(firm):
    with tenant_context(firm):
        invoice = draft([line("10")])
        assert (invoice.number, invoice.sequence, invoice.year) == (None, None, None)
        assert invoice.sdi_filename is None
        assert invoice.xml_content is None


def _issue_concurrently(app, tenant_id, invoice_ids):
    """One thread per draft, each a request of its own, all issuing at once."""
    start = threading.Barrier(len(invoice_ids))
    errors = []

    def worker(invoice_id):
        write_intent.set(True)  # as a POST request does (BEGIN IMMEDIATE on SQLite)
        try:
            with app.app_context():
                start.wait(timeout=60)  # before the first query: on SQLite it takes the lock
                tenant = db.session.get(Tenant, tenant_id)
                with tenant_context(tenant):
                    invoice = db.session.get(Invoice, invoice_id)
                    workflow.apply(invoice, "invoice", "issue", role=workflow.SYSTEM)
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in invoice_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return errors


def _drafts(firm, count):
    with tenant_context(firm):
        ids = [draft([line(str(n))], issue_date=ON).id for n in range(1, count + 1)]
        workflow.current_definition("invoice")
        db.session.commit()
    return ids


def _issued(firm):
    db.session.commit()
    with tenant_context(firm):
        return db.session.execute(
            select(Invoice.sequence, Invoice.number, Invoice.sdi_filename)
            .where(Invoice.number.is_not(None))
            .order_by(Invoice.sequence)
        ).all()


@pytest.mark.postgres_only
def test_twenty_concurrent_issues_get_twenty_consecutive_numbers_on_postgresql(app, firm):
    ids = _drafts(firm, 20)

    errors = _issue_concurrently(app, firm.id, ids)

    assert errors == []
    rows = _issued(firm)
    assert [seq for seq, _n, _f in rows] == list(range(1, 21))
    assert [number for _s, number, _f in rows] == [f"{n}/2026" for n in range(1, 21)]
    assert len({name for _s, _n, name in rows}) == 20


def test_concurrent_issues_give_no_duplicate_numbers(app, firm):
    ids = _drafts(firm, 6)

    errors = _issue_concurrently(app, firm.id, ids)

    assert errors == []
    rows = _issued(firm)
    assert [seq for seq, _n, _f in rows] == list(range(1, 7))
    assert len({number for _s, number, _f in rows}) == 6


# --- issued invoices do not change ----------------------------------------------------------


def test_issued_invoice_cannot_be_edited_deleted_or_cancelled_and_keeps_its_xml(firm):
    with tenant_context(firm), force_locale("en"):
        invoice = issue(draft([line("100")], issue_date=ON))
        db.session.commit()
        xml, total = invoice.xml_content, invoice.total
        with pytest.raises(invoicing.InvoiceError, match="cannot change: issue a credit note"):
            invoicing.replace_lines(invoice, [line("1")])
        with pytest.raises(invoicing.InvoiceError, match="Only drafts can be deleted"):
            invoicing.delete_draft(invoice)
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(invoice, "invoice", "cancel", role="owner")
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(invoice, "invoice", "issue", role="owner")
        db.session.rollback()
        workflow.apply(invoice, "invoice", "mark_sent", role="owner")
        invoicing.register_payment(invoice, "50", ON)
        invoicing.credit_note_for(invoice)
        db.session.commit()
        reread = db.session.get(Invoice, invoice.id)
        assert reread.xml_content == xml
        assert reread.total == total
        assert [line.amount for line in reread.lines] == [Decimal("100.00")]
        assert reread.state == "partially_paid"


def test_only_drafts_can_be_deleted_or_cancelled(firm):
    with tenant_context(firm), force_locale("en"):
        removed = draft([line("10")])
        removed_id = removed.id
        invoicing.delete_draft(removed)
        assert db.session.get(Invoice, removed_id) is None
        cancelled = draft([line("10")])
        workflow.apply(cancelled, "invoice", "cancel", role="owner")
        assert cancelled.state == "cancelled"
        assert cancelled.number is None
        with pytest.raises(invoicing.InvoiceError, match="Only drafts can be deleted"):
            invoicing.delete_draft(cancelled)
        with pytest.raises(invoicing.InvoiceError, match="cannot change"):
            invoicing.replace_lines(cancelled, [line("1")])
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(cancelled, "invoice", "issue", role="owner")


def test_a_draft_can_change_its_lines(firm):
    with tenant_context(firm):
        invoice = draft([line("10")])
        invoicing.replace_lines(invoice, [line("20"), line("5", "10")])
        assert invoice.taxable_total == Decimal("25.00")
        assert invoice.vat_total == Decimal("4.90")
        issue(invoice)


# --- rounding -------------------------------------------------------------------------------


def test_awkward_amounts_round_like_the_vat_summary(firm):
    with tenant_context(firm):
        invoice = issue(
            draft(
                [
                    line("12.25", "22"),
                    line("12.25", "22"),
                    line("12.25", "22"),
                    line("4.1666", "10", quantity="3"),  # 12.4998 -> 12.50
                    {**line("3.33", "10", quantity="7"), "discount_percent": "12.5"},  # 20.39625
                    line("0.333", "4", quantity="3"),  # 0.999 -> 1.00
                    line("15.55", "N2.2"),
                ]
            )
        )
        # 22%: VAT on the sum 36.75 x 22% = 8.085 -> 8.09; per line 2.695 -> 2.70 x 3 = 8.10
        amounts = [line.amount for line in invoice.lines]
        assert amounts[3:6] == [Decimal("12.50"), Decimal("20.40"), Decimal("1.00")]
        root = tree(invoice)
        recap = {
            (r.findtext("AliquotaIVA"), r.findtext("Natura")): (
                Decimal(r.findtext("ImponibileImporto")),
                Decimal(r.findtext("Imposta")),
            )
            for r in root.iterfind(RECAP)
        }
        assert recap == {
            ("22.00", None): (Decimal("36.75"), Decimal("8.09")),
            ("10.00", None): (Decimal("32.90"), Decimal("3.29")),
            ("4.00", None): (Decimal("1.00"), Decimal("0.04")),
            ("0.00", "N2.2"): (Decimal("15.55"), Decimal("0.00")),
        }
        summed = sum(taxable + vat for taxable, vat in recap.values())
        declared = Decimal(root.findtext(f"{DOCUMENT}/ImportoTotaleDocumento"))
        assert summed == declared == invoice.total == Decimal("97.62")
        lines_total = sum(
            Decimal(t) for t in texts(root, f"{BODY}/DatiBeniServizi/DettaglioLinee/PrezzoTotale")
        )
        assert lines_total == invoice.taxable_total == Decimal("86.20")
        assert invoice.vat_total == Decimal("11.42")
