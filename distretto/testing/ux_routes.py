"""Route cases of the firm's dashboard and global search, and the person's account pages.

The dashboard and search show names, codes and numbers of many kinds of
records; each case builds some of every kind with telltale values
(:meth:`SweepFirm.unique`), so a card, chart or result leaking firm B's rows
into A's page fails the sweep.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from distretto.testing.routes import RouteRequest, SweepFirm, route_case, tenant_free

SEARCH_WORD = "Sweepword"
ALL_MODULES = ("catalog", "orders", "inventory", "invoicing")

tenant_free("account.index", "the signed-in person's own account, whatever firm they work in")
tenant_free("account.save_profile", "changes the signed-in person's own name and language")
tenant_free("account.change_password", "changes the signed-in person's own password")
tenant_free("account.set_language", "stores the signed-in person's own language choice")


def _records(firm: SweepFirm) -> dict[str, Any]:
    """A customer, a product below its reorder point, a draft order and a draft invoice."""
    from distretto.modules.catalog import services as catalog
    from distretto.modules.invoicing import services as invoicing
    from distretto.modules.orders import services as orders

    rate = catalog.vat_rate_by_code("22")
    customer = catalog.create_party(
        {
            "legal_name": f"{SEARCH_WORD} {firm.unique('customer')}",
            "is_customer": True,
            "vat_number": "03777120167",  # valid, and the same in both firms: not a telltale
        }
    )
    product = catalog.create_product(
        {
            "code": firm.unique("SW"),
            "description": f"{SEARCH_WORD} {firm.unique('product')}",
            "vat_rate_id": rate.id,
            "sale_price": "10",
            "reorder_point": "5",
        }
    )
    order = orders.create_order(
        "sale",
        {
            "party_id": customer.id,
            "customer_reference": firm.unique("ref"),
            "lines": [{"product_id": product.id, "quantity": "1"}],
        },
    )
    invoicing.create_invoice(
        {
            "party_id": customer.id,
            "lines": [
                {
                    "description": firm.unique("line"),
                    "quantity": "1",
                    "unit_price": str(Decimal("12.5")),
                    "vat_rate_id": rate.id,
                }
            ],
        }
    )
    return {"order": order}


@route_case("tenant.search", "GET", modules=ALL_MODULES)
def _search(firm: SweepFirm) -> RouteRequest:
    _records(firm)
    return RouteRequest(query={"q": SEARCH_WORD.lower()})
