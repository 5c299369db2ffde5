"""Payments against the schedule of an issued invoice, the automatic paid states, the overdue
list."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from distretto.modules.invoicing import services as invoicing
from distretto.modules.invoicing.models import Payment
from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.modules.test_invoicing_xml import (
    customer,
    draft,
    fiscal_firm,
    issue,
    line,
    terms_id,
)


@pytest.fixture
def firm(make_tenant):
    return fiscal_firm(make_tenant)


def riba(issue_date=date(2026, 1, 15), price="100"):
    """An issued invoice of 122.00 in three RiBa instalments (40.66, 40.66, 40.68)."""
    return issue(draft([line(price)], issue_date=issue_date, payment_terms_id=terms_id("RB306090")))


def paid(invoice):
    return [due.paid_amount for due in invoice.dues]


def transitions(invoice):
    return [h.transition for h in workflow.history(invoice, "invoice")]


def test_partial_then_full_payment_moves_the_invoice_to_partially_paid_then_paid(firm):
    with tenant_context(firm):
        invoice = riba()
        workflow.apply(invoice, "invoice", "mark_sent", role="owner")

        first = invoicing.register_payment(invoice, "50,00", date(2026, 3, 1), "RiBa 1")
        assert invoice.state == "partially_paid"
        assert invoice.paid_total == Decimal("50.00")
        assert invoice.outstanding == Decimal("72.00")
        assert paid(invoice) == [Decimal("40.66"), Decimal("9.34"), Decimal("0")]
        assert first.due_id == invoice.dues[0].id

        invoicing.register_payment(invoice, "31.32", date(2026, 4, 1))
        assert invoice.state == "partially_paid"
        assert paid(invoice) == [Decimal("40.66"), Decimal("40.66"), Decimal("0.00")]

        invoicing.register_payment(invoice, "40.68", date(2026, 5, 2))
        assert invoice.state == "paid"
        assert invoice.outstanding == Decimal("0")
        assert paid(invoice) == [due.amount for due in invoice.dues]
        assert transitions(invoice) == [
            "create",
            "issue",
            "mark_sent",
            "mark_partially_paid",
            "mark_paid",
        ]
        db.session.commit()


def test_payment_of_the_whole_amount_goes_straight_to_paid(firm):
    with tenant_context(firm):
        invoice = riba()
        invoicing.register_payment(invoice, "122", date(2026, 2, 1))
        assert invoice.state == "paid"
        assert transitions(invoice)[-1] == "mark_paid"


def test_split_payment_invoice_is_paid_by_its_taxable_amount(firm):
    with tenant_context(firm):
        pa = customer(legal_name="Comune di Gorle", split_payment=True)
        invoice = issue(draft([line("1000")], party=pa))
        with force_locale("en"), pytest.raises(invoicing.InvoiceError, match="more than"):
            invoicing.register_payment(invoice, "1220", date(2026, 2, 1))
        invoicing.register_payment(invoice, "1000", date(2026, 2, 1))
        assert invoice.state == "paid"


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        ("72.01", "72.01 is more than the 72.00 still due"),
        ("0", "is not allowed here"),
        ("-5", "is not allowed here"),
        ("0.004", "is not allowed here"),  # rounds to 0.00
        ("dieci", "is not a number"),
        ("NaN", "is not allowed here"),
        ("1e30", "is not allowed here"),
    ],
)
def test_wrong_payment_amount_is_refused_and_nothing_changes(firm, amount, match):
    with tenant_context(firm):
        invoice = riba()
        invoicing.register_payment(invoice, "50", date(2026, 3, 1))
        db.session.commit()
        with force_locale("en"), pytest.raises(invoicing.InvoiceError, match=match) as caught:
            invoicing.register_payment(invoice, amount, date(2026, 3, 2))
        assert caught.value.field == "amount"
        db.session.rollback()
        assert invoice.paid_total == Decimal("50.00")
        assert invoice.state == "partially_paid"
        count = db.session.execute(select(func.count()).select_from(Payment)).scalar_one()
        assert count == 1


def test_payments_on_drafts_and_cancelled_invoices_are_refused(firm):
    with tenant_context(firm), force_locale("en"):
        pending = draft([line("10")])
        with pytest.raises(invoicing.InvoiceError, match="issued invoices"):
            invoicing.register_payment(pending, "1")
        workflow.apply(pending, "invoice", "cancel", role="owner")
        with pytest.raises(invoicing.InvoiceError, match="issued invoices"):
            invoicing.register_payment(pending, "1")


def test_paid_states_cannot_be_set_by_hand(firm):
    with tenant_context(firm):
        invoice = riba()
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(invoice, "invoice", "mark_paid", role="owner")
        assert invoice.state == "issued"


def test_overdue_list_shows_past_due_open_instalments_only(firm):
    with tenant_context(firm):
        # dues 28/02, 31/03, 30/04; "today" is 15/04
        late = riba(date(2026, 1, 15))
        partly = riba(date(2026, 1, 20))
        invoicing.register_payment(partly, "60", date(2026, 3, 1))  # first due paid, second in part
        settled = riba(date(2026, 1, 22))
        invoicing.register_payment(settled, "122", date(2026, 3, 1))
        draft([line("100")], issue_date=date(2026, 1, 10), payment_terms_id=terms_id("RB306090"))
        credited = riba(date(2026, 1, 25))
        issue(invoicing.credit_note_for(credited))
        assert credited.state == "paid"  # nothing left to collect

        rows = db.session.execute(invoicing.overdue_query(date(2026, 4, 15))).all()

        listed = [(invoice.id, due.due_date, due.outstanding) for due, invoice in rows]
        assert listed == [
            (late.id, date(2026, 2, 28), Decimal("40.66")),
            (late.id, date(2026, 3, 31), Decimal("40.66")),
            (partly.id, date(2026, 3, 31), Decimal("21.32")),
        ]
        on_due_day = db.session.execute(invoicing.overdue_query(date(2026, 2, 28))).all()
        assert on_due_day == []  # due today is not overdue yet


def test_credit_note_lowers_what_the_customer_still_owes(firm):
    with tenant_context(firm):
        invoice = issue(
            draft(
                [line("100"), line("50")],
                issue_date=date(2026, 1, 15),
                payment_terms_id=terms_id("RB3060"),
            )
        )
        assert invoice.total == Decimal("183.00")
        note = issue(invoicing.credit_note_for(invoice, [line("50")]))  # the second line back
        assert note.total == Decimal("61.00")
        assert invoice.state == "partially_paid"
        assert invoice.outstanding == Decimal("122.00")
        assert paid(invoice) == [Decimal("61.00"), Decimal("0")]
        assert note.outstanding == Decimal("0")
        payments = db.session.execute(select(Payment).where(Payment.invoice_id == invoice.id))
        assert [(p.amount, p.note) for p in payments.scalars()] == [
            (Decimal("61.00"), f"Nota di credito {note.number}")  # Italian outside requests
        ]
        invoicing.register_payment(invoice, "122", date(2026, 3, 31))
        assert invoice.state == "paid"


def test_credit_note_after_payment_leaves_a_refund_due_on_the_note(firm):
    with tenant_context(firm):
        invoice = riba()
        invoicing.register_payment(invoice, "100", date(2026, 2, 28))
        note = issue(invoicing.credit_note_for(invoice))
        assert invoice.state == "paid"
        assert invoice.outstanding == Decimal("0")
        assert note.outstanding == Decimal("100.00")  # to give back to the customer


def test_two_payments_at_once_cannot_overpay(app, firm):
    import threading

    from distretto.modules.invoicing.models import Invoice
    from distretto.platform.db import write_intent
    from distretto.tenants.models import Tenant

    with tenant_context(firm):
        invoice_id = riba().id
        db.session.commit()
    firm_id = firm.id  # read here: the test's objects belong to the test's session
    start = threading.Barrier(2)
    outcomes = []

    def pay():
        write_intent.set(True)  # as a POST request does
        with app.app_context():
            start.wait(timeout=30)
            with tenant_context(db.session.get(Tenant, firm_id)):
                invoice = db.session.get(Invoice, invoice_id)
                try:
                    invoicing.register_payment(invoice, "100", date(2026, 3, 1))
                    db.session.commit()
                    outcomes.append("paid")
                except invoicing.InvoiceError as exc:
                    db.session.rollback()
                    outcomes.append(str(exc))
            db.session.remove()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes)[-1] == "paid"
    assert len(outcomes) == 2
    assert "100.00" in sorted(outcomes)[0]
    assert "22.00" in sorted(outcomes)[0]
    db.session.commit()
    with tenant_context(firm):
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.paid_total == Decimal("100.00")
        assert invoice.state == "partially_paid"
