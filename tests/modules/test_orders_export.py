from distretto.modules.catalog import services as catalog
from distretto.modules.orders import services as orders
from distretto.platform import customfields
from distretto.platform.context import tenant_context
from distretto.platform.db import db


def test_sales_export_has_custom_fields_as_columns_and_follows_the_filter(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog", "orders"])
    with tenant_context(tenant):
        customfields.define(
            "sales_order",
            {"name": "season", "label": "Season", "type": "choice", "choices": ["PE26", "AI26"]},
        )
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente", "is_customer": True, "vat_number": "03777120167"}
        )
        for season in ("PE26", "AI26"):
            orders.create_order(
                "sale",
                {
                    "party_id": customer.id,
                    "custom": {"season": season},
                    "lines": [
                        {
                            "description": f"Tessuto {season}",
                            "quantity": "1",
                            "unit_price": "10",
                            "vat_rate_id": rate.id,
                        }
                    ],
                },
            )
        db.session.commit()
    response = client.get(f"/{tenant.slug}/orders/sales.csv?cf_season=AI26")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].endswith(";season")
    assert len(lines) == 2
    assert lines[1].endswith(";AI26")
