"""Customers, suppliers and products imported from large CSV files by the worker.

The rows are checked exactly as the catalog's own CSV import checks them
(:mod:`distretto.modules.catalog.csvio`: the same columns, VAT codes, payment
terms and schemas); here a wrong row is reported and skipped while the good
ones are imported, a batch at a time (see :mod:`distretto.platform.imports`).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from distretto.modules.catalog import csvio
from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.schemas import PartySchema, ProductSchema
from distretto.sdk import db, imports

#: Schema fields and the CSV columns they come from.
_COLUMN_OF = {"vat_rate_id": "vat_code", "payment_terms_id": "payment_terms"}


def _prepare(kind: str) -> dict[str, Any]:
    model = Product if kind == "products" else Party
    return {
        "rates": {r.code: r.id for r in db.session.execute(select(VatRate)).scalars()},
        "terms": {t.code: t.id for t in db.session.execute(select(PaymentTerms)).scalars()},
        "codes": set(db.session.execute(select(model.code)).scalars()),
    }


def _check(kind: str, prepared: dict[str, Any], raw: dict[str, str]) -> dict[str, Any]:
    """The row's values as the catalog's import reads and validates them."""
    errors: list[str] = []
    data = csvio._translate(kind, raw, prepared["rates"], prepared["terms"], errors)
    if errors:
        column, _sep, message = errors[0].partition(": ")
        raise imports.RowProblem(column, message)
    schema = ProductSchema() if kind == "products" else PartySchema()
    try:
        values = schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        raise ValidationError({_COLUMN_OF.get(k, k): v for k, v in messages.items()}) from exc
    code = values.get("code")
    if code and code in prepared["codes"]:
        raise imports.RowProblem("code", _("%(code)s already exists.", code=code))
    return values


def _write_party(kind: str) -> Any:
    def write(prepared: dict[str, Any], raw: dict[str, str]) -> None:
        values = _check(kind, prepared, raw)
        code = values.pop("code", None)
        party = Party(code=code or f"tmp-{uuid.uuid4().hex[:12]}", **values)
        db.session.add(party)
        db.session.flush()
        if not code:  # numbered like a customer created by hand
            party.code = f"{'C' if party.is_customer else 'F'}{party.id:05d}"
            db.session.flush()
        prepared["codes"].add(party.code)

    return write


def _write_product(prepared: dict[str, Any], raw: dict[str, str]) -> None:
    values = _check("products", prepared, raw)
    db.session.add(Product(**values))
    db.session.flush()
    prepared["codes"].add(values["code"])


imports.register(
    imports.ImportKind(
        key="customers",
        module="catalog",
        label=_l("Customers"),
        permission="catalog.import",
        columns=csvio.PARTY_COLUMNS,
        required=["legal_name"],
        prepare=lambda: _prepare("customers"),
        write_row=_write_party("customers"),
        result_endpoint="catalog.customers",
    )
)
imports.register(
    imports.ImportKind(
        key="suppliers",
        module="catalog",
        label=_l("Suppliers"),
        permission="catalog.import",
        columns=csvio.PARTY_COLUMNS,
        required=["legal_name"],
        prepare=lambda: _prepare("suppliers"),
        write_row=_write_party("suppliers"),
        result_endpoint="catalog.suppliers",
    )
)
imports.register(
    imports.ImportKind(
        key="products",
        module="catalog",
        label=_l("Products"),
        permission="catalog.import",
        columns=csvio.PRODUCT_COLUMNS,
        required=["code", "description"],
        prepare=lambda: _prepare("products"),
        write_row=_write_product,
        result_endpoint="catalog.products",
    )
)
