"""The catalog's lists (customers, suppliers, products) as declared list views."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from distretto.modules.catalog import services
from distretto.modules.catalog.models import Party, Product
from distretto.sdk import listviews

Column = listviews.Column


def _archived_filter(model: Any) -> listviews.Filter:
    return listviews.Filter(
        "archived",
        _l("Show"),
        lambda query, value: query.where(model.archived.is_(value == "1")),
        choices=lambda: [("0", _l("Active")), ("1", _l("Archived"))],
        default="0",
    )


def _search_parties(query: Any, text: str) -> Any:
    return query.where(services.party_query(text).whereclause)


def _party_list(kind: str) -> listviews.ListView:
    flag = Party.is_customer if kind == "customers" else Party.is_supplier
    return listviews.register(
        listviews.ListView(
            key=f"catalog.{kind}",
            endpoint=f"catalog.{kind}",
            title=_l("Customers") if kind == "customers" else _l("Suppliers"),
            permission="catalog.view",
            query=lambda: (
                select(Party).where(flag.is_(True)).options(selectinload(Party.payment_terms))
            ),
            search=_search_parties,
            search_placeholder=_l("Name, code, VAT number, city"),
            columns=[
                Column(
                    "code",
                    _l("Code"),
                    lambda p, r: p.code,
                    sort=Party.code,
                    link=lambda p: url_for("catalog.party_detail", party_id=p.id),
                ),
                Column("name", _l("Name"), lambda p, r: p.legal_name, sort=Party.legal_name),
                Column("vat_number", _l("VAT number"), lambda p, r: p.vat_number or p.tax_code),
                Column("tax_code", _l("Tax code"), lambda p, r: p.tax_code, default=False),
                Column("street", _l("Street"), lambda p, r: p.street, default=False),
                Column("postcode", _l("Postcode"), lambda p, r: p.postcode, default=False),
                Column("city", _l("City"), lambda p, r: p.city, sort=Party.city),
                Column("province", _l("Province"), lambda p, r: p.province, default=False),
                Column("country", _l("Country"), lambda p, r: p.country, default=False),
                Column("email", _l("E-mail"), lambda p, r: p.email, default=False),
                Column("pec", _l("PEC"), lambda p, r: p.pec, default=False),
                Column("phone", _l("Phone"), lambda p, r: p.phone, default=False),
                Column("sdi_code", _l("SDI code"), lambda p, r: p.sdi_code, default=False),
                Column(
                    "payment_terms",
                    _l("Payment terms"),
                    lambda p, r: p.payment_terms.description if p.payment_terms else None,
                ),
                Column(
                    "created",
                    _l("Created"),
                    lambda p, r: p.created_at.date(),
                    kind="date",
                    sort=Party.id,
                    default=False,
                ),
            ],
            filters=[_archived_filter(Party)],
            default_sort="name",
            tiebreak=Party.id,
            export_name=kind,
        )
    )


CUSTOMERS = _party_list("customers")
SUPPLIERS = _party_list("suppliers")

PRODUCTS = listviews.register(
    listviews.ListView(
        key="catalog.products",
        endpoint="catalog.products",
        title=_l("Products"),
        permission="catalog.view",
        query=lambda: select(Product),
        search=lambda query, text: query.where(services.product_query(text).whereclause),
        search_placeholder=_l("Code or description"),
        columns=[
            Column(
                "code",
                _l("Code"),
                lambda p, r: p.code,
                sort=Product.code,
                link=lambda p: url_for("catalog.product_detail", product_id=p.id),
            ),
            Column(
                "description",
                _l("Description"),
                lambda p, r: p.description,
                sort=Product.description,
            ),
            Column("unit", _l("Unit"), lambda p, r: p.unit),
            Column(
                "price",
                _l("Price"),
                lambda p, r: p.sale_price,
                kind="money",
                sort=Product.sale_price,
            ),
            Column(
                "cost",
                _l("Purchase cost"),
                lambda p, r: p.purchase_cost,
                kind="money",
                sort=Product.purchase_cost,
                default=False,
            ),
            Column(
                "vat",
                _l("VAT"),
                lambda p, r: p.vat_rate.code if p.vat_rate else None,
                default=False,
            ),
            Column(
                "stocked", _l("Kept in stock"), lambda p, r: p.stocked, kind="bool", default=False
            ),
            Column(
                "reorder_point",
                _l("Reorder point"),
                lambda p, r: p.reorder_point,
                kind="number",
                default=False,
            ),
        ],
        filters=[
            _archived_filter(Product),
            listviews.Filter(
                "stocked",
                _l("Stock"),
                lambda query, value: query.where(Product.stocked.is_(value == "1")),
                choices=lambda: [("1", _l("Kept in stock")), ("0", _l("Not kept in stock"))],
            ),
        ],
        default_sort="code",
        tiebreak=Product.id,
        export_name="products",
    )
)
