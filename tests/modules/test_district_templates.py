import json
from decimal import Decimal

import pytest

from distretto.modules.catalog import services as catalog
from distretto.modules.orders import services as orders
from distretto.platform import customfields, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.tenants import district_templates


@pytest.fixture
def published(app):
    district_templates.publish_builtins()
    db.session.commit()


def _order(total_price: str, custom: dict):
    rate = catalog.vat_rate_by_code("22")
    customer = catalog.create_party(
        {"legal_name": "Cliente", "is_customer": True, "vat_number": "03777120167"}
    )
    return orders.create_order(
        "sale",
        {
            "party_id": customer.id,
            "custom": custom,
            "lines": [
                {
                    "description": "Tessuto",
                    "quantity": "1",
                    "unit_price": total_price,
                    "vat_rate_id": rate.id,
                }
            ],
        },
    )


def test_textile_template_adds_an_approval_step_above_five_thousand(make_tenant, published):
    tenant = make_tenant(modules=["catalog", "orders"])
    district_templates.apply(tenant, "tessile")
    db.session.commit()
    with tenant_context(tenant):
        assert {d.name for d in customfields.definitions("sales_order")} == {
            "season",
            "colour_lot",
            "composition",
        }
        big = _order("6000", {"season": "PE26"})
        assert big.number.startswith("TL/")
        names = {
            t.name: t.allowed for t in workflow.available_transitions(big, "sales_order", "staff")
        }
        assert names["confirm"] is False
        assert names["request_approval"] is True
        workflow.apply(big, "sales_order", "request_approval", role="staff")
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(big, "sales_order", "approve", role="staff", comment="ok")
        workflow.apply(big, "sales_order", "approve", role="owner", comment="cliente storico")
        assert big.state == "confirmed"
        small = _order("100", {"season": "AI26"})
        workflow.apply(small, "sales_order", "confirm", role="staff")
        assert small.state == "confirmed"


def test_mechanical_template_differs_and_firm_without_orders_skips_it(make_tenant, published):
    tenant = make_tenant(modules=["catalog", "orders"])
    district_templates.apply(tenant, "meccanica-contoterzi")
    bare = make_tenant(modules=["catalog"])
    applied = district_templates.apply(bare, "meccanica-contoterzi")
    db.session.commit()
    assert applied.skipped == ["sales_order"]
    with tenant_context(tenant):
        order = _order("10", {"drawing_number": "4521-B"})
        assert order.number.startswith("CL-")
        assert order.custom["heat_treatment"] == "nessuno"
        workflow.apply(order, "sales_order", "confirm", role="staff")
        assert [t.name for t in workflow.available_transitions(order, "sales_order", "staff")][
            :1
        ] == ["start_production"]


def test_publishing_again_makes_a_new_version(app, published, tmp_path):
    document = district_templates.builtin_document("tessile")
    document["label"] = "Tessile (rev. 2)"
    path = tmp_path / "tessile.json"
    path.write_text(json.dumps(document))
    result = app.test_cli_runner().invoke(args=["templates", "publish", str(path)])
    assert result.exit_code == 0, result.output
    assert "tessile version 2" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"}')
    result = app.test_cli_runner().invoke(args=["templates", "publish", str(bad)])
    assert result.exit_code != 0
    assert "label" in result.output
    assert Decimal("1") == 1


def test_an_order_awaiting_approval_ships_nothing_until_approved(tenant_client, published):
    client, tenant, _owner = tenant_client(
        "owner", modules=["catalog", "orders", "inventory"], default_locale="en"
    )
    district_templates.apply(tenant, "tessile")
    db.session.commit()
    with tenant_context(tenant):
        big = _order("6000", {"season": "PE26"})
        workflow.apply(big, "sales_order", "request_approval", role="staff")
        db.session.commit()
        order_id = big.id
    ship_page = f"/{tenant.slug}/inventory/ship/sales_order/{order_id}"
    refused = client.get(ship_page)
    assert refused.status_code == 409
    assert "does not let goods move in this state" in refused.get_data(as_text=True)
    detail = client.get(f"/{tenant.slug}/orders/sales/{order_id}").get_data(as_text=True)
    assert ship_page not in detail  # no link to a page that would refuse
    with tenant_context(tenant):
        order = orders.get_order(order_id, "sale")
        workflow.apply(order, "sales_order", "approve", role="owner", comment="ok")
        db.session.commit()
    assert client.get(ship_page).status_code == 200
