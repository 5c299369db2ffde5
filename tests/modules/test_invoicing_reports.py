"""Reports (sales VAT register, revenue per month) and the PDF courtesy copy."""

import csv
import io
import re
import zlib
from datetime import date
from decimal import Decimal

import pytest

from distretto.modules.invoicing import services as invoicing
from distretto.modules.invoicing.printing import courtesy_copy_pdf
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.modules.test_invoicing_xml import (
    FISCAL,
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


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_SHOWN = re.compile(r"\(((?:\\.|[^\\)])*)\)\s*Tj")


def pdf_text(data: bytes) -> str:
    """The text a PDF's pages show (core fonts write Latin-1 strings in Flate streams)."""
    assert data.startswith(b"%PDF-")
    shown = []
    for stream in _STREAM.findall(data):
        try:
            content = zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
        shown.extend(re.sub(r"\\(.)", r"\1", s) for s in _SHOWN.findall(content))
    return " ".join(" ".join(shown).split())


def credit_note(invoice, lines, on):
    """A credit note for ``invoice`` dated ``on`` (credit_note_for dates it today)."""
    return invoicing.create_invoice(
        {"party_id": invoice.party_id, "lines": lines, "corrects_id": invoice.id, "issue_date": on},
        kind="TD04",
    )


def test_vat_register_lists_the_periods_documents_with_credit_notes_negative(firm):
    with tenant_context(firm):
        party = customer(legal_name="Officine Rossi S.p.A.")
        first = issue(
            draft([line("100", "22"), line("40", "4")], party=party, issue_date=date(2026, 3, 2))
        )
        split = issue(draft([line("1000", "22")], issue_date=date(2026, 3, 20), split_payment=True))
        note = issue(credit_note(first, [line("100", "22")], date(2026, 3, 25)))
        issue(draft([line("300", "10")], issue_date=date(2026, 4, 3)))
        draft([line("999", "22")], issue_date=date(2026, 3, 5))  # a draft is not in the register

        rows = invoicing.vat_register(date(2026, 3, 1), date(2026, 3, 31))

        assert [(r["number"], r["kind"], r["rate"], r["taxable"], r["vat"]) for r in rows] == [
            (first.number, "TD01", "22.00", "100.00", "22.00"),
            (first.number, "TD01", "4.00", "40.00", "1.60"),
            (split.number, "TD01", "22.00", "1000.00", "220.00"),
            (note.number, "TD04", "22.00", "-100.00", "-22.00"),
        ]
        assert rows[0]["customer"] == "Officine Rossi S.p.A."
        assert [r["split_payment"] for r in rows] == ["", "", "S", ""]
        assert sum(Decimal(r["vat"]) for r in rows) == Decimal("221.60")


def test_revenue_per_month_nets_credit_notes(firm):
    with tenant_context(firm):
        first = issue(draft([line("100"), line("50", "N2.2")], issue_date=date(2026, 1, 10)))
        issue(draft([line("200")], issue_date=date(2026, 1, 31)))
        issue(draft([line("70")], issue_date=date(2026, 3, 3)))
        issue(credit_note(first, [line("30")], date(2026, 3, 4)))
        issue(draft([line("500")], issue_date=date(2025, 12, 31)))  # another year
        draft([line("900")], issue_date=date(2026, 2, 2))  # a draft

        months = dict(invoicing.revenue_per_month(2026))

        assert months[1] == Decimal("350.00")
        assert months[2] == Decimal("0")
        assert months[3] == Decimal("40.00")
        assert sum(months.values()) == Decimal("390.00")
        assert len(months) == 12


def test_vat_register_csv_download(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        invoice = issue(draft([line("100", "22")], issue_date=date(2026, 3, 2)))
        issue(credit_note(invoice, [line("100", "22")], date(2026, 3, 3)))
        db.session.commit()
    base = f"/{tenant.slug}/invoicing/reports"
    response = client.get(base + "/vat-register.csv?start=2026-03-01&end=2026-03-31")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        "registro-iva-vendite-2026-03-01-2026-03-31.csv" in response.headers["Content-Disposition"]
    )
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(r["kind"], r["taxable"], r["vat"]) for r in rows] == [
        ("TD01", "100.00", "22.00"),
        ("TD04", "-100.00", "-22.00"),
    ]
    for query in ("start=2026-13-01", "start=2026-03-31&end=2026-03-01", "end=ieri"):
        assert client.get(f"{base}/vat-register.csv?{query}").status_code == 400
    page = client.get(base + "?year=2026").get_data(as_text=True)
    assert "100" in page


def test_vat_register_csv_defuses_spreadsheet_formulas(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog", "invoicing"])
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        party = customer(legal_name='=HYPERLINK("http://evil.example","x")')
        issue(draft([line("10")], party=party, issue_date=date(2026, 3, 2)))
        db.session.commit()
    response = client.get(
        f"/{tenant.slug}/invoicing/reports/vat-register.csv?start=2026-03-01&end=2026-03-31"
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)), delimiter=";"))
    assert rows[0]["customer"].startswith("'=")


# --- PDF courtesy copy ----------------------------------------------------------------------


@pytest.fixture
def italian_firm(make_tenant):
    tenant = make_tenant(modules=["catalog", "invoicing"], default_locale="it")
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(dict(FISCAL))
        db.session.commit()
    return tenant


def test_courtesy_copy_in_italian_formats_with_the_legal_note(italian_firm):
    with tenant_context(italian_firm):
        invoice = issue(
            draft(
                [line("1234.56", "22", description="Stampo per pressofusione")],
                issue_date=date(2026, 1, 15),
                payment_terms_id=terms_id("RB3060"),
            )
        )
        text = pdf_text(courtesy_copy_pdf(invoice))
        assert f"{invoice.number} - 15/01/2026" in text
        assert "1.234,56" in text  # taxable
        assert "1.506,16" in text  # total with 271,60 VAT
        assert "271,60" in text
        assert "28/02/2026" in text
        assert "31/03/2026" in text
        assert "753,08" in text
        assert "Stampo per pressofusione" in text
        assert (
            "Copia di cortesia. La fattura valida ai fini di legge è quella elettronica "
            "trasmessa tramite il Sistema di Interscambio (SDI)."
        ) in text
        assert "1,234.56" not in text
        assert "2026-01-15" not in text


def test_courtesy_copy_of_an_english_firm_in_english(firm):
    with tenant_context(firm):
        invoice = issue(draft([line("1234.56", "22")], issue_date=date(2026, 1, 15)))
        text = pdf_text(courtesy_copy_pdf(invoice))
        assert "The legally valid invoice is the electronic one" in text
        assert "1,234.56" in text


def test_courtesy_copy_of_split_payment_and_reverse_charge_explains_the_vat(italian_firm):
    with tenant_context(italian_firm):
        pa = customer(legal_name="Comune di Gorle", split_payment=True)
        split = issue(draft([line("1000")], party=pa, issue_date=date(2026, 1, 15)))
        text = pdf_text(courtesy_copy_pdf(split))
        assert "art. 17-ter DPR 633/72" in text
        assert "1.000,00" in text
        reverse = issue(draft([line("500", "N6.3")], issue_date=date(2026, 1, 15)))
        assert "art. 17 DPR 633/72" in pdf_text(courtesy_copy_pdf(reverse))
