"""The full sales cycle through the services: order -> confirmation -> shipment -> invoice.

Target: well over 100 orders per second on SQLite. Each cycle is what a clerk
does for one order, each step in its own transaction as the pages do it:

1. create a sales order of two products for a customer (gapless number);
2. confirm it (workflow transition; reserves the stock);
3. ship it (workflow transition; the inventory module writes the transport
   document with its gapless DDT number and moves the stock);
4. invoice the shipped order (deferred invoice, TD24) and issue it (gapless
   invoice number, payment schedule, FatturaPA XML validated against the XSD).

The baseline, measured in the same run, is step 1 alone: the ratio says what
the rest of the cycle costs relative to taking an order.

    .venv/bin/python bench/cycle.py [--orders 500]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from harness import bench_app, database_label, table

MODULES = ["catalog", "orders", "inventory", "invoicing"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument(
        "--batch",
        type=int,
        default=50,
        help="orders per transaction in the batched run (an end-of-day confirmation, "
        "picking wave and invoicing run)",
    )
    args = parser.parse_args()

    with bench_app("cycle", LOG_LEVEL="ERROR") as (app, database):
        from distretto.modules.catalog import services as catalog
        from distretto.modules.inventory import services as inventory
        from distretto.modules.invoicing import services as invoicing
        from distretto.modules.orders import services as orders
        from distretto.platform import workflow
        from distretto.platform.context import tenant_context
        from distretto.platform.db import db
        from distretto.tenants import services as tenants

        tenant = tenants.create_tenant("ciclo", "Ciclo S.r.l.", "03777120167", modules=MODULES)
        db.session.commit()
        with tenant_context(tenant):
            invoicing.update_fiscal_settings(
                {
                    "street": "Via Roma 1",
                    "postcode": "24100",
                    "city": "Bergamo",
                    "province": "BG",
                    "regime": "RF01",
                    "iban": "IT60X0542811101000000123456",
                }
            )
            rate = catalog.vat_rate_by_code("22")
            customer = catalog.create_party(
                {
                    "legal_name": "Cliente S.r.l.",
                    "is_customer": True,
                    "vat_number": "02712350947",
                    "street": "Via Bergamo 5",
                    "postcode": "24035",
                    "city": "Curno",
                    "province": "BG",
                    "sdi_code": "M5UXCR1",
                }
            )
            products = [
                catalog.create_product(
                    {
                        "code": f"P-{n}",
                        "description": f"Prodotto {n}",
                        "sale_price": "12,50",
                        "purchase_cost": "4",
                        "vat_rate_id": rate.id,
                    }
                )
                for n in range(2)
            ]
            stock = Decimal(args.orders * 10 + 100)
            inventory.receive(lines=[(p.id, stock, Decimal("4"), None) for p in products])
            db.session.commit()

            def take_order() -> object:
                order = orders.create_order(
                    "sale",
                    {
                        "party_id": customer.id,
                        "lines": [
                            {"product_id": products[0].id, "quantity": "3"},
                            {"product_id": products[1].id, "quantity": "2"},
                        ],
                    },
                )
                db.session.commit()
                return order

            def full_cycle() -> None:
                order = take_order()
                workflow.apply(order, "sales_order", "confirm", role="staff")
                db.session.commit()
                workflow.apply(order, "sales_order", "ship", role="staff")
                db.session.commit()
                invoice = invoicing.invoice_from_orders([order.id], deferred=True)
                db.session.commit()
                workflow.apply(invoice, "invoice", "issue", role="admin")
                db.session.commit()
                if invoice.number is None or order.state != "shipped":
                    raise SystemExit(f"cycle did not complete: {order.state} {invoice.state}")

            full_cycle()  # warm-up
            take_order()

            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.orders):
                take_order()
            baseline = time.perf_counter() - start
            baseline_cpu = time.process_time() - cpu

            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.orders):
                full_cycle()
            cycle = time.perf_counter() - start
            cycle_cpu = time.process_time() - cpu

            def batched_cycle(size: int) -> None:
                batch = [take_order() for _ in range(size)]  # clerks take orders one by one
                for order in batch:
                    workflow.apply(order, "sales_order", "confirm", role="staff")
                db.session.commit()
                for order in batch:
                    workflow.apply(order, "sales_order", "ship", role="staff")
                db.session.commit()
                invoices = [invoicing.invoice_from_orders([o.id], deferred=True) for o in batch]
                for invoice in invoices:
                    workflow.apply(invoice, "invoice", "issue", role="admin")
                db.session.commit()
                if any(i.number is None for i in invoices):
                    raise SystemExit("batched cycle did not complete")

            start, cpu = time.perf_counter(), time.process_time()
            done = 0
            while done < args.orders:
                size = min(args.batch, args.orders - done)
                batched_cycle(size)
                done += size
            batched = time.perf_counter() - start
            batched_cpu = time.process_time() - cpu
            problems = inventory.ledger_check()

        print(f"Sales cycle through the services on {database_label(database)}, "
              f"{args.orders} orders")
        table(
            [
                (
                    "order -> ship -> invoice",
                    f"{args.orders / cycle:7.1f} orders/s  "
                    f"({cycle / args.orders * 1000:.1f} ms each)",
                ),
                (
                    "baseline: take the order",
                    f"{args.orders / baseline:7.1f} orders/s  "
                    f"({baseline / args.orders * 1000:.1f} ms each)",
                ),
                (
                    f"same, {args.batch} orders per transaction",
                    f"{args.orders / batched:7.1f} orders/s  "
                    f"({batched / args.orders * 1000:.1f} ms each, "
                    f"CPU {batched_cpu / args.orders * 1000:.1f} ms)",
                ),
                ("ratio cycle / baseline", f"{cycle / baseline:5.2f}x the time"),
                (
                    "CPU per order (less noisy)",
                    f"cycle {cycle_cpu / args.orders * 1000:.1f} ms, "
                    f"baseline {baseline_cpu / args.orders * 1000:.1f} ms",
                ),
                ("stock ledger check", "consistent" if not problems else f"{problems}"),
            ]
        )
        print("Target: well over 100 orders per second on SQLite.")


if __name__ == "__main__":
    main()
