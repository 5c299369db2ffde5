"""Validation of orders (marshmallow), shared by pages, imports and the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

# What the columns hold (numeric(14,3) quantities, numeric(14,4) prices), so that a
# typing slip is a message, not a database error.
MAX_QUANTITY = Decimal("99999999999.999")
MAX_PRICE = Decimal("9999999999.9999")


def _number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        return text or None
    return value


class OrderLineSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    product_id = fields.Integer(load_default=None, allow_none=True)
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=300)
    )
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    quantity = fields.Decimal(
        required=True,
        places=3,
        validate=[
            validate.Range(
                min=Decimal("0.001"), error=str(_l("The quantity must be more than zero."))
            ),
            validate.Range(max=MAX_QUANTITY, error=str(_l("The quantity is too large."))),
        ],
    )
    unit_price = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=4,
        validate=[
            validate.Range(min=0, error=str(_l("The price cannot be negative."))),
            validate.Range(max=MAX_PRICE, error=str(_l("The price is too large."))),
        ],
    )
    discount_percent = fields.Decimal(
        load_default=Decimal("0"),
        places=2,
        validate=validate.Range(
            min=0, max=100, error=str(_l("The discount is between 0 and 100%."))
        ),
    )
    vat_rate_id = fields.Integer(load_default=None, allow_none=True)

    @pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
        for key in ("quantity", "unit_price", "discount_percent"):
            if key in data:
                data[key] = _number(data[key])
        if data.get("discount_percent") is None:
            data.pop("discount_percent", None)
        return data

    @validates_schema
    def product_or_description(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("product_id") is None:
            errors = {}
            if not data.get("description"):
                errors["description"] = [str(_l("Choose a product or write a description."))]
            if data.get("unit_price") is None:
                errors["unit_price"] = [str(_l("A line without a product needs a price."))]
            if data.get("vat_rate_id") is None:
                errors["vat_rate_id"] = [str(_l("A line without a product needs a VAT rate."))]
            if errors:
                raise ValidationError(errors)


class OrderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    party_id = fields.Integer(
        required=True, error_messages={"required": str(_l("Choose the counterpart."))}
    )
    order_date = fields.Date(load_default=None, allow_none=True)
    expected_date = fields.Date(load_default=None, allow_none=True)
    customer_reference = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=100)
    )
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    custom = fields.Dict(load_default=dict)
    lines = fields.List(
        fields.Nested(OrderLineSchema),
        required=True,
        validate=validate.Length(
            min=1, max=500, error=str(_l("An order needs at least one line."))
        ),
    )
    version = fields.Integer(load_default=None, allow_none=True)

    @pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("order_date", "expected_date", "customer_reference", "notes", "version"):
            if isinstance(data.get(key), str) and not data[key].strip():
                data[key] = None
        return data

    @validates_schema
    def dates_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (
            data.get("order_date")
            and data.get("expected_date")
            and data["expected_date"] < data["order_date"]
        ):
            raise ValidationError(
                {"expected_date": [str(_l("The expected date is before the order date."))]}
            )


# --- how the API (and webhooks) write orders, and the API's input documents ----------------------

from distretto.sdk import CustomFields, DecimalString, UtcDateTime  # noqa: E402 - API schemas below only


class OrderLineOut(Schema):
    id = fields.Integer(dump_only=True)
    position = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    description = fields.String()
    unit = fields.String()
    quantity = DecimalString(places=3)
    unit_price = DecimalString(places=4)
    discount_percent = DecimalString(places=2)
    vat_rate_id = fields.Integer()
    vat_rate = DecimalString(places=2)
    natura = fields.String(allow_none=True)
    amount = DecimalString(places=2)
    quantity_delivered = DecimalString(places=3)


class OrderOut(Schema):
    """An order as the API answers it (amounts as decimal strings)."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(metadata={"description": "sale or purchase"})
    number = fields.String()
    state = fields.String(metadata={"description": "The state in the firm's workflow."})
    order_date = fields.Date()
    expected_date = fields.Date(allow_none=True)
    party_id = fields.Integer()
    customer_reference = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    taxable_total = DecimalString(places=2)
    vat_total = DecimalString(places=2)
    total = DecimalString(places=2)
    custom = fields.Dict()
    archived = fields.Boolean()
    created_at = UtcDateTime()
    version = fields.Integer()
    lines = fields.List(fields.Nested(OrderLineOut))


class SalesOrderOut(OrderOut):
    custom = CustomFields("sales_order", output=True)


class PurchaseOrderOut(OrderOut):
    custom = CustomFields("purchase_order", output=True)


class SalesOrderIn(OrderSchema):
    """A sales order sent to the API (the service validates it with OrderSchema)."""

    class Meta(OrderSchema.Meta):
        exclude = ("version",)

    custom = CustomFields("sales_order", load_default=dict)


class PurchaseOrderIn(OrderSchema):
    """A purchase order sent to the API."""

    class Meta(OrderSchema.Meta):
        exclude = ("version",)

    custom = CustomFields("purchase_order", load_default=dict)
