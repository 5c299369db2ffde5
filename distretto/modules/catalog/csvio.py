"""CSV import (with preview and per-row errors) and export of catalog lists.

An import is all or nothing: the file is checked row by row first, and if any
row is wrong nothing is written and every fault is listed with its row number.
Separators ``;`` and ``,`` are both accepted (Italian spreadsheets write ``;``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from distretto.modules.catalog import services
from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.schemas import PartySchema, ProductSchema
from distretto.sdk import audit, db

MAX_ROWS = 20_000

PARTY_COLUMNS = [
    "code",
    "legal_name",
    "vat_number",
    "tax_code",
    "country",
    "street",
    "postcode",
    "city",
    "province",
    "sdi_code",
    "pec",
    "email",
    "phone",
    "payment_terms",
    "vat_code",
    "notes",
]
PRODUCT_COLUMNS = [
    "code",
    "description",
    "unit",
    "sale_price",
    "purchase_cost",
    "vat_code",
    "stocked",
    "is_service",
    "reorder_point",
]


@dataclass
class RowResult:
    number: int
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    kind: str
    rows: list[RowResult]
    file_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(not row.errors for row in self.rows) and bool(self.rows)

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(1 for row in self.rows if row.errors)


def read_csv(content: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and up to ``MAX_ROWS + 1`` rows (one more tells the file is too long)."""
    # The separator is the header's: data rows hold decimal commas and commas in names.
    header_line = content.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = []
    for index, row in enumerate(reader):
        if index > MAX_ROWS:
            break
        rows.append({k: _unguard((v or "").strip()) for k, v in row.items() if k})
    return header, rows


def _unguard(value: str) -> str:
    """Undo :func:`_safe_cell`, so that an exported file imports unchanged."""
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "si", "sì", "s", "y", "x"}


def preview(kind: str, content: str) -> ImportPreview:
    """Check every row; nothing is written."""
    try:
        header, rows = read_csv(content)
    except csv.Error as exc:
        return ImportPreview(
            kind, [], [_("The file is not a readable CSV: %(error)s", error=str(exc))]
        )
    required = {"legal_name"} if kind in ("customers", "suppliers") else {"code", "description"}
    missing = sorted(required - set(header))
    if missing:
        return ImportPreview(
            kind, [], [_("Missing columns: %(columns)s", columns=", ".join(missing))]
        )
    if not rows:
        return ImportPreview(kind, [], [_("The file has no rows.")])
    if len(rows) > MAX_ROWS:
        return ImportPreview(
            kind,
            [],
            [_("The file has more than %(max)d rows: split it into smaller files.", max=MAX_ROWS)],
        )
    rates = {r.code: r.id for r in db.session.execute(select(VatRate)).scalars()}
    terms = {t.code: t.id for t in db.session.execute(select(PaymentTerms)).scalars()}
    model = Party if kind in ("customers", "suppliers") else Product
    existing_codes = set(db.session.execute(select(model.code)).scalars())
    seen_codes: set[str] = set()
    results = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        result = RowResult(number, raw)
        data = _translate(kind, raw, rates, terms, result.errors)
        try:
            schema = PartySchema() if model is Party else ProductSchema()
            loaded = schema.load(data)
        except ValidationError as exc:
            for name, messages in exc.messages.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    result.errors.append(f"{name}: {message}")
            loaded = {}
        code = loaded.get("code") or raw.get("code")
        if code:
            if code in existing_codes:
                result.errors.append(_("code: %(code)s already exists.", code=code))
            elif code in seen_codes:
                result.errors.append(_("code: %(code)s appears twice in the file.", code=code))
            seen_codes.add(code)
        result.values = data
        results.append(result)
    return ImportPreview(kind, results)


def _translate(
    kind: str, raw: dict[str, str], rates: dict[str, int], terms: dict[str, int], errors: list[str]
) -> dict[str, Any]:
    data: dict[str, Any] = dict(raw)
    vat_code = data.pop("vat_code", "") or ""
    if vat_code:
        if vat_code in rates:
            data["vat_rate_id"] = rates[vat_code]
        else:
            errors.append(_("vat_code: unknown VAT code %(code)s.", code=vat_code))
    if kind in ("customers", "suppliers"):
        data["is_customer"] = kind == "customers"
        data["is_supplier"] = kind == "suppliers"
        term_code = data.pop("payment_terms", "") or ""
        if term_code:
            if term_code in terms:
                data["payment_terms_id"] = terms[term_code]
            else:
                errors.append(_("payment_terms: unknown payment terms %(code)s.", code=term_code))
    else:
        data["stocked"] = _bool(raw.get("stocked"), True)
        data["is_service"] = _bool(raw.get("is_service"), False)
        if "vat_rate_id" not in data and not vat_code:
            errors.append(_("vat_code: required."))
    return data


def import_rows(preview_result: ImportPreview) -> int:
    """Write a checked preview (refuses one with errors); returns rows imported."""
    if not preview_result.ok:
        raise ValueError(_("The file has errors: fix them and upload it again."))
    for row in preview_result.rows:
        if preview_result.kind == "products":
            services.create_product(row.values)
        else:
            services.create_party(row.values)
    audit.record(
        "catalog.imported",
        None,
        object_type="import",
        summary={"kind": preview_result.kind, "rows": len(preview_result.rows)},
    )
    return len(preview_result.rows)


def export_parties(parties: Iterable[Party]) -> Iterator[str]:
    yield from _rows(
        PARTY_COLUMNS,
        (
            [
                p.code,
                p.legal_name,
                p.vat_number,
                p.tax_code,
                p.country,
                p.street,
                p.postcode,
                p.city,
                p.province,
                p.sdi_code,
                p.pec,
                p.email,
                p.phone,
                p.payment_terms.code if p.payment_terms else "",
                p.vat_rate.code if p.vat_rate else "",
                p.notes,
            ]
            for p in parties
        ),
    )


def export_products(products: Iterable[Product]) -> Iterator[str]:
    yield from _rows(
        PRODUCT_COLUMNS,
        (
            [
                p.code,
                p.description,
                p.unit,
                p.sale_price,
                p.purchase_cost,
                p.vat_rate.code if p.vat_rate else "",
                "1" if p.stocked else "0",
                "1" if p.is_service else "0",
                p.reorder_point,
            ]
            for p in products
        ),
    )


def _rows(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if v is None else _safe_cell(str(v)) for v in row])
        yield buffer.getvalue()


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not _numeric(value) else value


def _numeric(value: str) -> bool:
    try:
        float(value.replace(",", "."))
        return True
    except ValueError:
        return False
