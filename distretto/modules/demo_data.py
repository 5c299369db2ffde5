"""Business data for the demo district: customers, products, stock, orders, invoices.

Runs once per demo firm, right after the firm is created, through the same
services the pages use, so the demo shows real documents in every state.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from distretto.platform.context import tenant_context
from distretto.platform.db import db

SECTORS: dict[str, dict[str, Any]] = {
    "meccanica-valseriana": {
        "template": "meccanica-contoterzi",
        "fiscal": {
            "street": "Via dell'Industria 12",
            "postcode": "24020",
            "city": "Gorle",
            "province": "BG",
        },
        "custom": {"drawing_number": "4521-B", "heat_treatment": "bonifica"},
        "products": [
            ("FL-100", "Flangia tornita DN100 acciaio C45", "pz", "48.50", "21.00", "22"),
            ("AL-20", "Albero rettificato d.20 L=300", "pz", "32.00", "12.40", "22"),
            ("BOC-8", "Boccola in bronzo 8x12x10", "pz", "3.90", "1.15", "22"),
            ("LAV-H", "Ora di lavorazione CNC", "h", "55.00", "0", "22"),
        ],
        "customers": [
            (
                "Oleodinamica Bergamasca S.r.l.",
                "02712350947",
                "Via Bergamo 5",
                "24035",
                "Curno",
                "BG",
                "M5UXCR1",
            ),
            (
                "Valvole Orobiche S.p.A.",
                "03145870162",
                "Via Milano 88",
                "24060",
                "Castelli Calepio",
                "BG",
                "KRRH6B9",
            ),
        ],
        "supplier": (
            "Acciai Speciali Lombardi S.r.l.",
            "05123450164",
            "Via Ferriera 3",
            "25128",
            "Brescia",
            "BS",
        ),
    },
    "tessitura-lariana": {
        "template": "tessile",
        "fiscal": {
            "street": "Via Valassina 210",
            "postcode": "22100",
            "city": "Como",
            "province": "CO",
        },
        "custom": {
            "season": "AI26",
            "colour_lot": "B-0713",
            "composition": "70% lana, 30% poliammide",
        },
        "products": [
            ("TS-LAN-150", "Tessuto lana cotta h150 blu notte", "m", "18.40", "9.10", "22"),
            ("TS-SETA-140", "Seta stampata h140 fantasia", "m", "27.00", "14.50", "22"),
            ("FIL-COT-30", "Filato cotone 30/2 greggio", "kg", "11.20", "6.80", "22"),
        ],
        "customers": [
            (
                "Confezioni Brianza S.r.l.",
                "02712350947",
                "Via Como 14",
                "20833",
                "Giussano",
                "MB",
                "W7YVJK9",
            ),
            (
                "Atelier Milano Moda S.r.l.",
                "03145870162",
                "Corso Venezia 3",
                "20121",
                "Milano",
                "MI",
                "T9K4ZHO",
            ),
        ],
        "supplier": (
            "Filature del Biellese S.p.A.",
            "05123450164",
            "Via Cossila 9",
            "13900",
            "Biella",
            "BI",
        ),
    },
    "calzaturificio-brenta": {
        "template": None,
        "fiscal": {
            "street": "Via Riviera del Brenta 40",
            "postcode": "30032",
            "city": "Fiesso d'Artico",
            "province": "VE",
        },
        "custom": {},
        "products": [
            ("SC-DEC-40", "Decolleté pelle nera tacco 40", "paia", "89.00", "38.00", "22"),
            ("SC-MOC-U", "Mocassino uomo pelle testa di moro", "paia", "120.00", "52.00", "22"),
            ("SUOLA-GOM", "Suola in gomma antiscivolo", "paia", "6.50", "2.20", "22"),
        ],
        "customers": [
            (
                "Boutique Venezia S.r.l.",
                "02712350947",
                "Calle Larga 21",
                "30124",
                "Venezia",
                "VE",
                "SUBM70N",
            ),
            (
                "Calzature Padova S.n.c.",
                "03145870162",
                "Via Roma 7",
                "35122",
                "Padova",
                "PD",
                "USAL8PV",
            ),
        ],
        "supplier": (
            "Conceria Arzignano S.p.A.",
            "05123450164",
            "Via Concia 2",
            "36071",
            "Arzignano",
            "VI",
        ),
    },
}


def seed_firm(tenant: Any, enabled: set[str]) -> list[str]:
    """Fill one freshly created demo firm; returns what was done, for the console."""
    profile = SECTORS.get(tenant.slug)
    if profile is None or not {"catalog", "orders", "inventory", "invoicing"} <= enabled:
        return []
    from distretto.modules.catalog import services as catalog
    from distretto.modules.inventory import services as inventory
    from distretto.modules.invoicing import services as invoicing
    from distretto.modules.orders import services as orders
    from distretto.platform import workflow
    from distretto.tenants import district_templates

    notes = []
    if profile["template"]:
        district_templates.publish_builtins()
        district_templates.apply(tenant, profile["template"])
        notes.append(f"  applied the district template {profile['template']}")
    with tenant_context(tenant):
        invoicing.update_fiscal_settings(
            {**profile["fiscal"], "regime": "RF01", "iban": "IT60X0542811101000000123456"}
        )
        terms = {t.code: t for t in catalog.payment_terms()}
        customers = [
            catalog.create_party(
                {
                    "legal_name": name,
                    "is_customer": True,
                    "vat_number": vat,
                    "street": street,
                    "postcode": cap,
                    "city": city,
                    "province": province,
                    "sdi_code": sdi,
                    "payment_terms_id": terms["RB3060"].id if index == 0 else terms["BB30FM"].id,
                }
            )
            for index, (name, vat, street, cap, city, province, sdi) in enumerate(
                profile["customers"]
            )
        ]
        name, vat, street, cap, city, province = profile["supplier"]
        supplier = catalog.create_party(
            {
                "legal_name": name,
                "is_supplier": True,
                "vat_number": vat,
                "street": street,
                "postcode": cap,
                "city": city,
                "province": province,
            }
        )
        products = []
        for code, description, unit, price, cost, vat_code in profile["products"]:
            rate = catalog.vat_rate_by_code(vat_code)
            service = unit == "h"
            products.append(
                catalog.create_product(
                    {
                        "code": code,
                        "description": description,
                        "unit": unit,
                        "sale_price": price,
                        "purchase_cost": cost,
                        "vat_rate_id": rate.id,
                        "is_service": service,
                        "stocked": not service,
                        "reorder_point": "20" if not service else "0",
                    }
                )
            )
        stocked = [p for p in products if p.stocked]
        inventory.receive(
            lines=[(p.id, Decimal("150"), Decimal(p.purchase_cost), None) for p in stocked],
            party_id=supplier.id,
            receipt_date=date.today() - timedelta(days=20),
        )
        custom = dict(profile["custom"])

        def order(customer: Any, quantities: list[tuple[Any, str]]) -> Any:
            return orders.create_order(
                "sale",
                {
                    "party_id": customer.id,
                    "custom": custom,
                    "lines": [{"product_id": p.id, "quantity": q} for p, q in quantities],
                },
            )

        delivered = order(customers[0], [(stocked[0], "40"), (stocked[1], "25")])
        _advance(delivered, workflow)
        workflow.apply(delivered, "sales_order", "ship", role=workflow.SYSTEM)
        invoice = invoicing.invoice_from_orders([delivered.id], deferred=True)
        workflow.apply(invoice, "invoice", "issue", role=workflow.SYSTEM)
        confirmed = order(customers[1], [(stocked[-1], "60"), (products[0], "10")])
        _advance(confirmed, workflow)
        order(customers[0], [(products[-1], "8")])  # a draft
        purchase = orders.create_order(
            "purchase",
            {"party_id": supplier.id, "lines": [{"product_id": stocked[0].id, "quantity": "100"}]},
        )
        workflow.apply(purchase, "purchase_order", "send", role=workflow.SYSTEM)
        db.session.flush()
        notes.append(
            f"  {len(customers)} customers, 1 supplier, {len(products)} products, 4 orders, "
            f"transport document and invoice {invoice.number}"
        )
    return notes


def _advance(order: Any, workflow: Any) -> None:
    """Confirm an order whatever the firm's workflow calls the steps on the way."""
    for step in ("confirm", "request_approval", "approve", "start_production", "pass_quality"):
        _row, definition = workflow.engine.definition_of(order)
        transition = definition.transition(step)
        if transition is not None and order.state in transition.sources:
            workflow.apply(order, "sales_order", step, role=workflow.SYSTEM, comment="demo")
