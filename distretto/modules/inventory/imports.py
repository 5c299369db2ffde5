"""Opening stock imported from a CSV file by the worker.

One row per product (and location): ``product_code;quantity;unit_cost;location``.
The row brings the product's quantity at the location (the default one when
the column is empty) to ``quantity`` with an adjustment move in the ledger, at
``unit_cost`` (the product's purchase cost when empty), through the same
:func:`services.post_move` every other move uses. Importing the same file again
changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from distretto.modules.catalog.models import Product
from distretto.modules.inventory import services
from distretto.modules.inventory.models import Location, MoveType, StockLevel, Warehouse
from distretto.sdk import db, imports

COLUMNS = ["product_code", "quantity", "unit_cost", "location"]


def _prepare() -> dict[str, Any]:
    products = {
        code: (product_id, stocked)
        for product_id, code, stocked in db.session.execute(
            select(Product.id, Product.code, Product.stocked)
        )
    }
    places: dict[str, int] = {}
    rows = db.session.execute(
        select(Location.id, Location.code, Warehouse.code)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Location.active.is_(True))
    )
    for location_id, code, warehouse in rows:
        places.setdefault(code.lower(), location_id)
        places[f"{warehouse}/{code}".lower()] = location_id
    return {
        "products": products,
        "locations": places,
        "default": services.default_location().id,
    }


def _write(prepared: dict[str, Any], raw: dict[str, str]) -> None:
    code = raw.get("product_code", "")
    if not code:
        raise imports.RowProblem("product_code", _("Required."))
    found = prepared["products"].get(code)
    if found is None:
        raise imports.RowProblem("product_code", _("Unknown product %(code)s.", code=code))
    product_id, stocked = found
    if not stocked:
        raise imports.RowProblem("product_code", _("%(code)s is not kept in stock.", code=code))
    quantity = imports.parse_decimal(raw.get("quantity", ""), "quantity")
    if quantity < 0:
        raise imports.RowProblem("quantity", _("The quantity cannot be negative."))
    cost = None
    if raw.get("unit_cost"):
        cost = imports.parse_decimal(raw["unit_cost"], "unit_cost")
        if cost < 0:
            raise imports.RowProblem("unit_cost", _("The cost cannot be negative."))
    location_id = prepared["default"]
    if raw.get("location"):
        location_id = prepared["locations"].get(raw["location"].lower())
        if location_id is None:
            raise imports.RowProblem(
                "location", _("Unknown location %(code)s.", code=raw["location"])
            )
    on_hand = db.session.execute(
        select(StockLevel.on_hand).where(
            StockLevel.product_id == product_id, StockLevel.location_id == location_id
        )
    ).scalar_one_or_none() or Decimal("0")
    difference = quantity - Decimal(on_hand)
    note = _("Opening stock")
    try:
        if difference > 0:
            services.post_move(
                product_id,
                difference,
                move_type=MoveType.ADJUSTMENT,
                to_location_id=location_id,
                unit_cost=cost,
                note=note,
            )
        elif difference < 0:
            services.post_move(
                product_id,
                -difference,
                move_type=MoveType.ADJUSTMENT,
                from_location_id=location_id,
                note=note,
            )
    except services.StockError as exc:
        raise imports.RowProblem("quantity", str(exc)) from exc


OPENING_STOCK = imports.register(
    imports.ImportKind(
        key="opening_stock",
        module="inventory",
        label=_l("Opening stock"),
        permission="inventory.adjust",
        columns=COLUMNS,
        required=["product_code", "quantity"],
        prepare=_prepare,
        write_row=_write,
        result_endpoint="inventory.stock",
        help=_l(
            "Each row brings the product's quantity at the location (the default one when"
            " the column is empty, otherwise its code or WAREHOUSE/LOCATION) to the quantity"
            " given, with an adjustment move at the unit cost given."
        ),
    )
)
