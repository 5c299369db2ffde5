"""Printed documents (order confirmations, transport documents, invoice copies).

One layout for every module: the firm's header (name, VAT number, address,
logo when the firm uploaded one), the counterpart's block, a table of lines,
totals and notes. Amounts and dates are formatted in the document's language
(1.234,56 and dd/mm/yyyy in Italian). fpdf2 is pure Python, so no system
libraries are needed to print.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import FPDF


def fmt_amount(value: Decimal | int | None, locale: str = "it", places: int = 2) -> str:
    if value is None:
        return ""
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(value), format=pattern, locale=locale)


def fmt_quantity(value: Decimal | int | None, locale: str = "it") -> str:
    if value is None:
        return ""
    normalised = Decimal(value).normalize()
    places = (
        max(0, -normalised.as_tuple().exponent)
        if isinstance(normalised.as_tuple().exponent, int)
        else 0
    )
    return fmt_amount(value, locale, min(places, 3))


def fmt_date(value: date | None, locale: str = "it") -> str:
    if value is None:
        return ""
    return format_date(value, "dd/MM/yyyy" if locale == "it" else "medium", locale=locale)


@dataclass
class Column:
    title: str
    width: float  # millimetres
    align: str = "L"


@dataclass
class PrintedDocument:
    title: str
    number: str
    issued_on: date
    firm_name: str
    firm_lines: Sequence[str]
    party_title: str
    party_name: str
    party_lines: Sequence[str]
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    meta: Sequence[tuple[str, str]] = ()
    totals: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()
    footer: str = ""
    logo: bytes | None = None
    locale: str = "it"
    extra_blocks: Sequence[tuple[str, Sequence[str]]] = field(default_factory=tuple)


def _text(value: Any) -> str:
    """Core PDF fonts speak Latin-1: keep accents, replace what they lack."""
    text = str(value if value is not None else "")
    text = (
        text.replace("€", "EUR")
        .replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u2019", "'")
    )
    return text.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:  # noqa: D401 - fpdf hook
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110)
        self.cell(0, 5, _text(self.footer_text), align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")


def render(document: PrintedDocument) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.footer_text = document.footer
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_margins(14, 14, 14)
    left = 14
    if document.logo is None:
        document.logo = firm_logo()
    if document.logo:
        try:
            pdf.image(io.BytesIO(document.logo), x=left, y=12, h=16)
            pdf.set_y(30)
        except Exception:  # noqa: BLE001 - a bad logo must not stop printing
            pdf.set_y(14)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 6, _text(document.firm_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for line in document.firm_lines:
        pdf.cell(0, 4, _text(line), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    pdf.set_xy(115, top)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(80, 5, _text(document.party_title), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(80, 5, _text(document.party_name), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for line in document.party_lines:
        pdf.cell(80, 4.5, _text(line), new_x="LEFT", new_y="NEXT")
    party_bottom = pdf.get_y()
    pdf.set_xy(left, top)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(95, 8, _text(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(
        95,
        5,
        _text(f"{document.number}  -  {fmt_date(document.issued_on, document.locale)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", size=8)
    for label, value in document.meta:
        pdf.cell(95, 4.5, _text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), party_bottom) + 6)
    for title, lines in document.extra_blocks:
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(0, 4.5, _text(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        for line in lines:
            pdf.cell(0, 4, _text(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    _table(pdf, document)
    if document.totals:
        pdf.ln(3)
        for index, (label, value) in enumerate(document.totals):
            last = index == len(document.totals) - 1
            pdf.set_font("Helvetica", "B" if last else "", 10 if last else 9)
            pdf.set_x(120)
            pdf.cell(45, 5.5, _text(label), align="R")
            pdf.cell(31, 5.5, _text(value), align="R", new_x="LMARGIN", new_y="NEXT")
    if document.notes:
        pdf.ln(4)
        pdf.set_font("Helvetica", size=8)
        for note in document.notes:
            pdf.multi_cell(0, 4, _text(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _table(pdf: FPDF, document: PrintedDocument) -> None:
    pdf.set_fill_color(235, 239, 243)
    pdf.set_font("Helvetica", "B", 8)
    for column in document.columns:
        pdf.cell(column.width, 6, _text(column.title), border="B", align=column.align, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", size=8.5)
    for row in document.rows:
        if pdf.get_y() > 265:
            pdf.add_page()
        heights = []
        for column, value in zip(document.columns, row, strict=False):
            lines = pdf.multi_cell(column.width, 4.5, _text(value), dry_run=True, output="LINES")
            heights.append(max(1, len(lines)) * 4.5)
        height = max(heights or [4.5])
        y = pdf.get_y()
        x = pdf.l_margin
        for column, value in zip(document.columns, row, strict=False):
            pdf.set_xy(x, y)
            pdf.multi_cell(column.width, 4.5, _text(value), align=column.align)
            x += column.width
        pdf.set_xy(pdf.l_margin, y + height)
        pdf.set_draw_color(225)
        pdf.line(
            pdf.l_margin,
            pdf.get_y(),
            pdf.l_margin + sum(c.width for c in document.columns),
            pdf.get_y(),
        )
        pdf.ln(0.5)


def firm_lines(tenant: Any) -> list[str]:
    """The firm's header lines from its settings (address, contacts) and VAT number.

    The address is the fiscal one (Settings > Firm data, the same the e-invoice
    carries) unless the firm set a printed ``address``/``city_line`` of its own.
    """
    all_settings = getattr(tenant, "settings", None) or {}
    settings = all_settings.get("firm", {}) or {}
    fiscal = all_settings.get("fiscal", {}) or {}
    address = settings.get("address") or fiscal.get("street")
    city_line = settings.get("city_line") or " ".join(
        x
        for x in (
            fiscal.get("postcode"),
            fiscal.get("city"),
            f"({fiscal['province']})" if fiscal.get("province") else None,
        )
        if x
    )
    lines = [line for line in (address, city_line) if line]
    lines.append(f"P.IVA IT{tenant.vat_number}")
    contacts = " - ".join(
        x for x in (settings.get("phone"), settings.get("email"), settings.get("pec")) if x
    )
    if contacts:
        lines.append(contacts)
    return lines


def firm_logo() -> bytes | None:
    """The current firm's uploaded logo (Settings > Firm data), or None outside a firm."""
    from distretto.platform.context import current_tenant_id

    if current_tenant_id() is None:
        return None
    from distretto.platform.files import latest_file

    stored = latest_file("logo")
    return stored.data if stored is not None else None
