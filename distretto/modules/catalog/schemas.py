"""Validation of catalog records (marshmallow), shared by pages, CSV import and the API."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)
from stdnum.it import codicefiscale, iva

SDI_RE = re.compile(r"^[A-Z0-9]{7}$")
PROVINCE_RE = re.compile(r"^[A-Z]{2}$")
CAP_RE = re.compile(r"^\d{5}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
# What numeric(14,4) prices and numeric(14,3) quantities hold: beyond, a message, not a 500.
MAX_PRICE = Decimal("9999999999.9999")
MAX_QUANTITY = Decimal("99999999999.999")


def _blank_to_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}


class PartySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Regexp(CODE_RE), validate.Length(max=20)],
    )
    legal_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    is_customer = fields.Boolean(load_default=False)
    is_supplier = fields.Boolean(load_default=False)
    country = fields.String(load_default="IT", validate=validate.Regexp(r"^[A-Z]{2}$"))
    vat_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    tax_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    street = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    postcode = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    city = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    province = fields.String(load_default=None, allow_none=True)
    sdi_code = fields.String(load_default=None, allow_none=True)
    pec = fields.Email(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    payment_terms_id = fields.Integer(load_default=None, allow_none=True)
    vat_rate_id = fields.Integer(load_default=None, allow_none=True)
    split_payment = fields.Boolean(load_default=False)
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))

    @pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _blank_to_none(dict(data))
        for key in ("country", "province", "sdi_code", "tax_code"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().upper()
        if isinstance(data.get("vat_number"), str):
            data["vat_number"] = re.sub(r"[\s.-]", "", data["vat_number"]).upper()
        if data.get("country") is None:
            data.pop("country", None)
        return data

    @validates("province")
    def check_province(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and not PROVINCE_RE.match(value):
            raise ValidationError(str(_l("Use the two-letter province code (e.g. BG).")))

    @validates("sdi_code")
    def check_sdi(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and not SDI_RE.match(value):
            raise ValidationError(str(_l("The SDI recipient code has 7 letters or digits.")))

    @validates_schema
    def check_party(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("is_customer") and not data.get("is_supplier"):
            errors["is_customer"] = [str(_l("Mark the record as customer, supplier or both."))]
        if data.get("country", "IT") == "IT":
            vat = data.get("vat_number")
            if vat:
                compact = vat[2:] if vat.startswith("IT") else vat
                if not iva.is_valid(compact):
                    errors["vat_number"] = [
                        str(_l("%(value)s is not a valid Italian VAT number.", value=vat))
                    ]
            tax_code = data.get("tax_code")
            if tax_code and not (codicefiscale.is_valid(tax_code) or iva.is_valid(tax_code)):
                errors["tax_code"] = [
                    str(_l("%(value)s is not a valid codice fiscale.", value=tax_code))
                ]
            if not vat and not tax_code:
                errors["vat_number"] = [
                    str(_l("An Italian party needs a VAT number or a codice fiscale."))
                ]
            postcode = data.get("postcode")
            if postcode and not CAP_RE.match(postcode):
                errors["postcode"] = [str(_l("An Italian postcode (CAP) has 5 digits."))]
        if errors:
            raise ValidationError(errors)

    @post_load
    def compact_vat(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vat = data.get("vat_number")
        if vat and data.get("country", "IT") == "IT" and vat.startswith("IT"):
            data["vat_number"] = vat[2:]
        return data


class ProductSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(
        required=True,
        validate=validate.Regexp(
            CODE_RE, error=str(_l("Use letters, digits and . _ / - (up to 40)."))
        ),
    )
    description = fields.String(required=True, validate=validate.Length(min=1, max=300))
    unit = fields.String(load_default="pz", validate=validate.Length(min=1, max=10))
    sale_price = fields.Decimal(
        load_default=Decimal("0"), validate=validate.Range(min=0, max=MAX_PRICE), places=4
    )
    purchase_cost = fields.Decimal(
        load_default=Decimal("0"), validate=validate.Range(min=0, max=MAX_PRICE), places=4
    )
    vat_rate_id = fields.Integer(required=True)
    is_service = fields.Boolean(load_default=False)
    stocked = fields.Boolean(load_default=True)
    reorder_point = fields.Decimal(
        load_default=Decimal("0"), validate=validate.Range(min=0, max=MAX_QUANTITY), places=3
    )

    @pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _blank_to_none(dict(data))
        for key in ("sale_price", "purchase_cost", "reorder_point"):
            value = data.get(key)
            if value is None:
                data.pop(key, None)
            elif isinstance(value, str):
                data[key] = _italian_number(value)
        if data.get("unit") is None:
            data.pop("unit", None)
        return data

    @post_load
    def services_are_not_stocked(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("is_service"):
            data["stocked"] = False
        return data


def _italian_number(text: str) -> str:
    """Accept 1.234,56 as well as 1234.56 (clerks type either)."""
    text = text.strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


# --- how the API (and webhooks) write catalog records ----------------------------------------

from distretto.sdk import DecimalString, UtcDateTime  # noqa: E402 - the dump schemas below only


class VatRateOut(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    description = fields.String()
    rate = DecimalString(places=2)
    natura = fields.String(allow_none=True)
    active = fields.Boolean()


class PaymentTermsOut(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    description = fields.String()
    method = fields.String(metadata={"description": "FatturaPA payment method (MP01...)."})
    instalments = fields.List(fields.Dict())
    active = fields.Boolean()


class PartyOut(Schema):
    """A customer or supplier as the API answers it."""

    id = fields.Integer(dump_only=True)
    code = fields.String()
    legal_name = fields.String()
    is_customer = fields.Boolean()
    is_supplier = fields.Boolean()
    country = fields.String()
    vat_number = fields.String(allow_none=True)
    tax_code = fields.String(allow_none=True)
    street = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    sdi_code = fields.String(allow_none=True)
    pec = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    payment_terms_id = fields.Integer(allow_none=True)
    vat_rate_id = fields.Integer(allow_none=True)
    split_payment = fields.Boolean()
    notes = fields.String(allow_none=True)
    archived = fields.Boolean()
    created_at = UtcDateTime()


class ProductOut(Schema):
    """A product or service as the API answers it."""

    id = fields.Integer(dump_only=True)
    code = fields.String()
    description = fields.String()
    unit = fields.String()
    sale_price = DecimalString(places=4)
    purchase_cost = DecimalString(places=4)
    vat_rate_id = fields.Integer()
    is_service = fields.Boolean()
    stocked = fields.Boolean()
    reorder_point = DecimalString(places=3)
    archived = fields.Boolean()
    created_at = UtcDateTime()
