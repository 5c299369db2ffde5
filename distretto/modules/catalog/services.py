"""Business rules of the catalog: the only place that changes catalog data."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.schemas import PartySchema, ProductSchema
from distretto.platform.listing import like_pattern
from distretto.sdk import audit, db


class InUse(Exception):
    """The record is referenced by documents: archive it instead of deleting."""


def _check_refs(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (
        data.get("payment_terms_id") is not None
        and db.session.get(PaymentTerms, data["payment_terms_id"]) is None
    ):
        errors["payment_terms_id"] = [_("Unknown payment terms.")]
    if data.get("vat_rate_id") is not None and db.session.get(VatRate, data["vat_rate_id"]) is None:
        errors["vat_rate_id"] = [_("Unknown VAT rate.")]
    return errors


def _unique_code(model: type, code: str, exclude_id: int | None = None) -> bool:
    query = select(model.id).where(model.code == code)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return db.session.execute(query).first() is None


def load_party(data: dict[str, Any], party: Party | None = None) -> dict[str, Any]:
    values = PartySchema().load(data)
    errors = _check_refs(values)
    if values.get("code") and not _unique_code(Party, values["code"], party.id if party else None):
        errors["code"] = [_("The code %(code)s is already used.", code=values["code"])]
    if errors:
        raise ValidationError(errors)
    return values


def create_party(data: dict[str, Any]) -> Party:
    """Validate and add a customer/supplier; the code is generated when left empty."""
    values = load_party(data)
    code = values.pop("code", None)
    party = Party(code=code or f"tmp-{uuid.uuid4().hex[:12]}", **values)
    db.session.add(party)
    db.session.flush()
    if not code:
        party.code = f"{'C' if party.is_customer else 'F'}{party.id:05d}"
        db.session.flush()
    audit.record(
        "catalog.party_created", party, summary={"name": party.legal_name, "code": party.code}
    )
    return party


def update_party(party: Party, data: dict[str, Any]) -> Party:
    values = load_party(data, party)
    changes = {}
    for key, value in values.items():
        if key == "code" and not value:
            continue
        if getattr(party, key) != value:
            changes[key] = [str(getattr(party, key)), str(value)]
            setattr(party, key, value)
    db.session.flush()
    if changes:
        audit.record("catalog.party_updated", party, summary=changes)
    return party


def set_archived(record: Party | Product, archived: bool) -> None:
    record.archived = archived
    db.session.flush()
    audit.record(
        f"catalog.{'archived' if archived else 'restored'}",
        record,
        summary={"code": record.code},
    )


def delete_record(record: Party | Product) -> None:
    """Hard-delete a record no document uses; otherwise raise :class:`InUse`."""
    summary = {"code": record.code}
    try:
        with db.session.begin_nested():
            db.session.delete(record)
            db.session.flush()
    except IntegrityError as exc:
        raise InUse(
            _("%(code)s is used by documents: archive it instead.", code=record.code)
        ) from exc
    audit.record(
        "catalog.deleted",
        None,
        object_type=type(record).__name__,
        object_id=summary["code"],
        summary=summary,
    )


def load_product(data: dict[str, Any], product: Product | None = None) -> dict[str, Any]:
    values = ProductSchema().load(data)
    errors = _check_refs(values)
    if not _unique_code(Product, values["code"], product.id if product else None):
        errors["code"] = [_("The code %(code)s is already used.", code=values["code"])]
    if errors:
        raise ValidationError(errors)
    return values


def create_product(data: dict[str, Any]) -> Product:
    values = load_product(data)
    product = Product(**values)
    db.session.add(product)
    db.session.flush()
    audit.record("catalog.product_created", product, summary={"code": product.code})
    return product


def update_product(product: Product, data: dict[str, Any]) -> Product:
    values = load_product(data, product)
    changes = {}
    for key, value in values.items():
        if getattr(product, key) != value:
            changes[key] = [str(getattr(product, key)), str(value)]
            setattr(product, key, value)
    db.session.flush()
    if changes:
        audit.record("catalog.product_updated", product, summary=changes)
    return product


def party_query(q: str | None = None, kind: str | None = None, archived: bool = False) -> Any:
    query = select(Party).where(Party.archived.is_(archived))
    if kind == "customer":
        query = query.where(Party.is_customer.is_(True))
    elif kind == "supplier":
        query = query.where(Party.is_supplier.is_(True))
    if q:
        pattern = like_pattern(q.strip())
        query = query.where(
            or_(
                Party.legal_name.ilike(pattern, escape="\\"),
                Party.code.ilike(pattern, escape="\\"),
                Party.vat_number.ilike(pattern, escape="\\"),
                Party.city.ilike(pattern, escape="\\"),
            )
        )
    return query


def product_query(q: str | None = None, archived: bool = False, stocked: bool | None = None) -> Any:
    query = select(Product).where(Product.archived.is_(archived))
    if stocked is not None:
        query = query.where(Product.stocked.is_(stocked))
    if q:
        pattern = like_pattern(q.strip())
        query = query.where(
            or_(
                Product.code.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    return query


def vat_rates(active_only: bool = True) -> list[VatRate]:
    query = select(VatRate).order_by(VatRate.rate.desc(), VatRate.code)
    if active_only:
        query = query.where(VatRate.active.is_(True))
    return list(db.session.execute(query).scalars())


def payment_terms(active_only: bool = True) -> list[PaymentTerms]:
    query = select(PaymentTerms).order_by(PaymentTerms.code)
    if active_only:
        query = query.where(PaymentTerms.active.is_(True))
    return list(db.session.execute(query).scalars())


def vat_rate_by_code(code: str) -> VatRate | None:
    return db.session.execute(select(VatRate).where(VatRate.code == code)).scalar_one_or_none()
