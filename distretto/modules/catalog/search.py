"""What global search finds in the catalog: customers, suppliers and products.

Parties match on name, code, VAT number and codice fiscale; products on code
and description. Codes and names that start with the words come first.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from distretto.modules.catalog.models import Party, Product
from distretto.sdk import SearchGroup, SearchResult, can, contains_pattern, db, starts_first


def _parties(query: str, limit: int, customers: bool) -> list[Any]:
    pattern = contains_pattern(query)
    role = Party.is_customer if customers else Party.is_supplier
    return list(
        db.session.execute(
            select(Party.id, Party.code, Party.legal_name, Party.vat_number, Party.city)
            .where(
                role.is_(True),
                Party.archived.is_(False),
                or_(
                    Party.legal_name.ilike(pattern, escape="\\"),
                    Party.code.ilike(pattern, escape="\\"),
                    Party.vat_number.ilike(pattern, escape="\\"),
                    Party.tax_code.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(
                starts_first(Party.code, query),
                starts_first(Party.legal_name, query),
                Party.legal_name,
                Party.id,
            )
            .limit(limit + 1)
        ).all()
    )


def _party_group(query: str, limit: int, customers: bool) -> SearchGroup:
    rows = _parties(query, limit, customers)
    return SearchGroup(
        name="catalog.customers" if customers else "catalog.suppliers",
        title=_l("Customers") if customers else _l("Suppliers"),
        results=[
            SearchResult(
                label=f"{row.code} · {row.legal_name}",
                url=url_for("catalog.party_detail", party_id=row.id),
                detail=" · ".join(v for v in (row.vat_number, row.city) if v),
            )
            for row in rows[:limit]
        ],
        more_url=url_for("catalog.customers" if customers else "catalog.suppliers", q=query),
        has_more=len(rows) > limit,
        order=10 if customers else 20,
    )


def _product_group(query: str, limit: int) -> SearchGroup:
    pattern = contains_pattern(query)
    rows = db.session.execute(
        select(Product.id, Product.code, Product.description, Product.unit)
        .where(
            Product.archived.is_(False),
            or_(
                Product.code.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            ),
        )
        .order_by(starts_first(Product.code, query), Product.code, Product.id)
        .limit(limit + 1)
    ).all()
    return SearchGroup(
        name="catalog.products",
        title=_l("Products"),
        results=[
            SearchResult(
                label=f"{row.code} · {row.description}",
                url=url_for("catalog.product_detail", product_id=row.id),
                detail=row.unit,
            )
            for row in rows[:limit]
        ],
        more_url=url_for("catalog.products", q=query),
        has_more=len(rows) > limit,
        order=30,
    )


def search(query: str, limit: int) -> list[SearchGroup]:
    if not can("catalog.view"):
        return []
    return [
        _party_group(query, limit, customers=True),
        _party_group(query, limit, customers=False),
        _product_group(query, limit),
    ]
