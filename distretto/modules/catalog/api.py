"""REST API of the catalog: customers and suppliers (parties), products; VAT rates and
payment terms read-only. Thin views over :mod:`distretto.modules.catalog.services`.

Archiving is the catalog's soft delete (``archived``): archived records leave the
lists (``?archived=true`` shows them) and new documents, and come back with
``/restore``.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from marshmallow import fields, validate
from sqlalchemy import select

from distretto.modules.catalog import services
from distretto.modules.catalog.models import Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.schemas import (
    PartyOut,
    PartySchema,
    PaymentTermsOut,
    ProductOut,
    ProductSchema,
    VatRateOut,
)
from distretto.sdk import (
    Problem,
    api_blueprint,
    check_if_match,
    db,
    json_body,
    list_args,
    locked,
    merge_patch,
    page_schema,
    paginate,
    permission_required,
    respond,
)

blp = api_blueprint(
    "catalog", __name__, "Customers and suppliers, products, VAT rates and payment terms."
)

ETAG_HEADER = {
    "ETag": {"description": "Send it back in If-Match to update.", "schema": {"type": "string"}}
}

PARTY_SORTS = {
    "code": Party.code,
    "legal_name": Party.legal_name,
    "city": Party.city,
    "created_at": Party.created_at,
}
PRODUCT_SORTS = {
    "code": Product.code,
    "description": Product.description,
    "sale_price": Product.sale_price,
    "created_at": Product.created_at,
}
PartyListArgs = list_args(
    "PartyListArgs",
    list(PARTY_SORTS),
    "legal_name",
    q=fields.String(metadata={"description": "Search name, code, VAT number, city."}),
    kind=fields.String(validate=validate.OneOf(["customer", "supplier"])),
    archived=fields.Boolean(load_default=False, metadata={"description": "List archived ones."}),
)
ProductListArgs = list_args(
    "ProductListArgs",
    list(PRODUCT_SORTS),
    "code",
    q=fields.String(metadata={"description": "Search code and description."}),
    stocked=fields.Boolean(),
    archived=fields.Boolean(load_default=False, metadata={"description": "List archived ones."}),
)
CodeListArgs = list_args("CodeListArgs", ["code"], "code", active=fields.Boolean())


def _party_or_404(party_id: int, *, lock: bool = False) -> Party:
    query = select(Party).where(Party.id == party_id)
    party = db.session.execute(locked(query, Party) if lock else query).scalar_one_or_none()
    if party is None:
        raise Problem(404, _("No such customer or supplier."))
    return party


def _product_or_404(product_id: int, *, lock: bool = False) -> Product:
    query = select(Product).where(Product.id == product_id)
    product = db.session.execute(locked(query, Product) if lock else query).scalar_one_or_none()
    if product is None:
        raise Problem(404, _("No such product."))
    return product


def _party_input(party: Party) -> dict[str, Any]:
    return {name: getattr(party, name) for name in PartySchema().fields}


def _product_input(product: Product) -> dict[str, Any]:
    values = {name: getattr(product, name) for name in ProductSchema().fields}
    for key in ("sale_price", "purchase_cost", "reorder_point"):
        values[key] = str(values[key])
    return values


# --- parties ---------------------------------------------------------------------------------


@blp.route("/parties", methods=["GET"])
@permission_required("catalog.view")
@blp.arguments(PartyListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(PartyOut))
def list_parties(args: dict[str, Any]) -> Any:
    """List customers and suppliers."""
    query = services.party_query(args.get("q"), args.get("kind"), args["archived"])
    return paginate(query, args, PARTY_SORTS, PartyOut(many=True).dump)


@blp.route("/parties", methods=["POST"])
@permission_required("catalog.edit")
@blp.body(PartySchema)
@blp.response(201, PartyOut, headers=ETAG_HEADER)
def create_party() -> Any:
    """Add a customer or supplier (the code is generated when left out)."""
    party = services.create_party(json_body(PartySchema))
    return respond(PartyOut().dump(party), 201, location=url_for(".get_party", party_id=party.id))


@blp.route("/parties/<int:party_id>", methods=["GET"])
@permission_required("catalog.view")
@blp.response(200, PartyOut, headers=ETAG_HEADER)
def get_party(party_id: int) -> Any:
    """One customer or supplier, with its ETag."""
    return respond(PartyOut().dump(_party_or_404(party_id)))


@blp.route("/parties/<int:party_id>", methods=["PATCH"])
@permission_required("catalog.edit")
@blp.body(PartySchema(partial=True))
@blp.response(200, PartyOut, headers=ETAG_HEADER)
def update_party(party_id: int) -> Any:
    """Change some fields (If-Match required: 428 without, 412 when stale)."""
    party = _party_or_404(party_id, lock=True)
    check_if_match(PartyOut().dump(party))
    services.update_party(party, merge_patch(_party_input(party), json_body(PartySchema)))
    return respond(PartyOut().dump(party))


@blp.route("/parties/<int:party_id>/archive", methods=["POST"])
@permission_required("catalog.edit")
@blp.response(200, PartyOut, headers=ETAG_HEADER)
def archive_party(party_id: int) -> Any:
    """Archive: the record leaves lists and new documents; documents keep it."""
    party = _party_or_404(party_id, lock=True)
    if not party.archived:
        services.set_archived(party, True)
    return respond(PartyOut().dump(party))


@blp.route("/parties/<int:party_id>/restore", methods=["POST"])
@permission_required("catalog.edit")
@blp.response(200, PartyOut, headers=ETAG_HEADER)
def restore_party(party_id: int) -> Any:
    """Bring an archived record back."""
    party = _party_or_404(party_id, lock=True)
    if party.archived:
        services.set_archived(party, False)
    return respond(PartyOut().dump(party))


# --- products --------------------------------------------------------------------------------


@blp.route("/products", methods=["GET"])
@permission_required("catalog.view")
@blp.arguments(ProductListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(ProductOut))
def list_products(args: dict[str, Any]) -> Any:
    """List products and services."""
    query = services.product_query(args.get("q"), args["archived"], args.get("stocked"))
    return paginate(query, args, PRODUCT_SORTS, ProductOut(many=True).dump)


@blp.route("/products", methods=["POST"])
@permission_required("catalog.edit")
@blp.body(ProductSchema)
@blp.response(201, ProductOut, headers=ETAG_HEADER)
def create_product() -> Any:
    """Add a product or service."""
    product = services.create_product(json_body(ProductSchema))
    return respond(
        ProductOut().dump(product), 201, location=url_for(".get_product", product_id=product.id)
    )


@blp.route("/products/<int:product_id>", methods=["GET"])
@permission_required("catalog.view")
@blp.response(200, ProductOut, headers=ETAG_HEADER)
def get_product(product_id: int) -> Any:
    """One product, with its ETag."""
    return respond(ProductOut().dump(_product_or_404(product_id)))


@blp.route("/products/<int:product_id>", methods=["PATCH"])
@permission_required("catalog.edit")
@blp.body(ProductSchema(partial=True))
@blp.response(200, ProductOut, headers=ETAG_HEADER)
def update_product(product_id: int) -> Any:
    """Change some fields (If-Match required: 428 without, 412 when stale)."""
    product = _product_or_404(product_id, lock=True)
    check_if_match(ProductOut().dump(product))
    services.update_product(product, merge_patch(_product_input(product), json_body(ProductSchema)))
    return respond(ProductOut().dump(product))


@blp.route("/products/<int:product_id>/archive", methods=["POST"])
@permission_required("catalog.edit")
@blp.response(200, ProductOut, headers=ETAG_HEADER)
def archive_product(product_id: int) -> Any:
    """Archive: the product leaves lists and new documents; documents keep it."""
    product = _product_or_404(product_id, lock=True)
    if not product.archived:
        services.set_archived(product, True)
    return respond(ProductOut().dump(product))


@blp.route("/products/<int:product_id>/restore", methods=["POST"])
@permission_required("catalog.edit")
@blp.response(200, ProductOut, headers=ETAG_HEADER)
def restore_product(product_id: int) -> Any:
    """Bring an archived product back."""
    product = _product_or_404(product_id, lock=True)
    if product.archived:
        services.set_archived(product, False)
    return respond(ProductOut().dump(product))


# --- VAT rates and payment terms (read-only) ---------------------------------------------------


@blp.route("/vat-rates", methods=["GET"])
@permission_required("catalog.view")
@blp.arguments(CodeListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(VatRateOut))
def list_vat_rates(args: dict[str, Any]) -> Any:
    """VAT rates (and the Natura of 0% ones); changed in the settings pages."""
    query = select(VatRate)
    if args.get("active") is not None:
        query = query.where(VatRate.active.is_(args["active"]))
    return paginate(query, args, {"code": VatRate.code}, VatRateOut(many=True).dump)


@blp.route("/vat-rates/<int:rate_id>", methods=["GET"])
@permission_required("catalog.view")
@blp.response(200, VatRateOut, headers=ETAG_HEADER)
def get_vat_rate(rate_id: int) -> Any:
    rate = db.session.get(VatRate, rate_id)
    if rate is None:
        raise Problem(404, _("No such VAT rate."))
    return respond(VatRateOut().dump(rate))


@blp.route("/payment-terms", methods=["GET"])
@permission_required("catalog.view")
@blp.arguments(CodeListArgs, location="query", as_kwargs=False)
@blp.response(200, page_schema(PaymentTermsOut))
def list_payment_terms(args: dict[str, Any]) -> Any:
    """Payment terms: method and instalments."""
    query = select(PaymentTerms)
    if args.get("active") is not None:
        query = query.where(PaymentTerms.active.is_(args["active"]))
    return paginate(query, args, {"code": PaymentTerms.code}, PaymentTermsOut(many=True).dump)


@blp.route("/payment-terms/<int:terms_id>", methods=["GET"])
@permission_required("catalog.view")
@blp.response(200, PaymentTermsOut, headers=ETAG_HEADER)
def get_payment_terms(terms_id: int) -> Any:
    terms = db.session.get(PaymentTerms, terms_id)
    if terms is None:
        raise Problem(404, _("No such payment terms."))
    return respond(PaymentTermsOut().dump(terms))
