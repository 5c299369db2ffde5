"""List pages with 100,000 orders in the firm, among thousands of firms.

Target: list pages under 25 ms with 100,000 orders in the firm, a bounded number
of queries per page, and no slowdown from the other firms in the database.

The big firm's orders are copies of one order made through the services
(inserted in bulk, since 100,000 orders through the services would take the
benchmark's whole budget); the other firms hold ``--orders-per-firm`` orders
each. Pages are fetched through the real app (test client, full request:
session, tenant scope, permission, query, template), signed in as a clerk.
The baseline, in the same database and run, is the same page of a firm with
100 orders: the ratio says what 100,000 orders cost.

    .venv/bin/python bench/lists.py [--orders 100000] [--firms 1000]
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from harness import (
    PASSWORD,
    QueryCounter,
    bench_app,
    client_for,
    database_label,
    median_ms,
    p95_ms,
    table,
    timed,
)

MODULES = ["catalog", "orders", "inventory", "invoicing"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the big firm")
    parser.add_argument("--firms", type=int, default=1000, help="other firms in the database")
    parser.add_argument("--orders-per-firm", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40, help="requests timed per page")
    args = parser.parse_args()

    with bench_app("lists", LOG_LEVEL="ERROR") as (app, database):
        from sqlalchemy import func, insert, select, text

        from distretto.modules.catalog import services as catalog
        from distretto.modules.orders import services as orders
        from distretto.modules.orders.models import Order
        from distretto.platform.context import tenant_context
        from distretto.platform.db import db
        from distretto.tenants import services as tenants

        def firm(slug: str, count: int, vat: str, clerk: str | None = None):
            tenant = tenants.create_tenant(slug, f"{slug.title()} S.r.l.", vat, modules=MODULES)
            if clerk:
                user = tenants.create_user(clerk, PASSWORD, "Clerk")
                tenants.grant(tenant, user, "staff")
            db.session.commit()
            with tenant_context(tenant):
                rate = catalog.vat_rate_by_code("22")
                customers = [
                    catalog.create_party(
                        {"legal_name": f"Cliente {n} {slug}", "is_customer": True,
                         "country": "DE", "vat_number": f"DE12345678{n}"}
                    )
                    for n in range(5)
                ]
                product = catalog.create_product(
                    {"code": "P1", "description": "Prodotto", "sale_price": "10",
                     "vat_rate_id": rate.id}
                )
                model = orders.create_order(
                    "sale",
                    {"party_id": customers[0].id,
                     "lines": [{"product_id": product.id, "quantity": "2"}]},
                )
                db.session.flush()
                row = {
                    c.key: getattr(model, c.key)
                    for c in Order.__table__.columns
                    if c.key not in ("id",)
                }
                batch = []
                start = date.today()
                for n in range(1, count):
                    batch.append(
                        {
                            **row,
                            "number": f"OV-B{n:07d}",
                            "order_date": start - timedelta(days=n % 700),
                            "party_id": customers[n % 5].id,
                            "state": ("draft", "confirmed", "shipped")[n % 3],
                        }
                    )
                    if len(batch) == 5000:
                        db.session.execute(insert(Order), batch)
                        batch = []
                if batch:
                    db.session.execute(insert(Order), batch)
                db.session.commit()
            return tenant

        print(f"Seeding on {database_label(database)}: one firm with {args.orders} orders, "
              f"{args.firms} firms with {args.orders_per_firm}, one with 100 ...", flush=True)
        started = time.perf_counter()
        big = firm("grande", args.orders, "03777120167", clerk="big@example.com")
        small = firm("piccola", 100, "02712350947", clerk="small@example.com")
        from stdnum import luhn

        for n in range(args.firms):
            body = f"{n + 10:07d}001"
            firm(f"altra-{n}", args.orders_per_firm, body + luhn.calc_check_digit(body))
        with database.owner_engine.connect() as conn:  # the owner sees every firm's rows
            conn.execute(text("ANALYZE"))
            conn.commit()
            total = conn.execute(select(func.count()).select_from(Order.__table__)).scalar()
        print(f"  seeded in {time.perf_counter() - started:.0f} s ({total} orders in all)")

        pages = [
            ("sales orders, first page", "/{slug}/orders/sales"),
            ("page 40", "/{slug}/orders/sales?page=40"),
            ("sorted by number", "/{slug}/orders/sales?sort=-number"),
            ("filtered by state", "/{slug}/orders/sales?state=confirmed"),
            ("searched by customer", "/{slug}/orders/sales?q=Cliente+3"),
        ]
        rows = []
        clients = {
            "grande": client_for(app, "big@example.com"),
            "piccola": client_for(app, "small@example.com"),
        }
        for label, url in pages:
            results = {}
            for slug, client in clients.items():
                path = url.format(slug=slug)

                def fetch(client=client, path=path) -> None:
                    response = client.get(path)
                    if response.status_code != 200:
                        raise SystemExit(f"{path}: {response.status_code}")

                fetch()
                with QueryCounter(db.engine) as counter:
                    fetch()
                times = timed(fetch, args.repeat)
                results[slug] = (median_ms(times), p95_ms(times), counter.count)
            (big_median, big_p95, big_queries) = results["grande"]
            (small_median, _, small_queries) = results["piccola"]
            rows.append(
                (
                    label,
                    f"{args.orders} orders: median {big_median:6.1f} ms  p95 {big_p95:6.1f} ms  "
                    f"{big_queries} queries | 100 orders: {small_median:6.1f} ms  "
                    f"{small_queries} queries | ratio {big_median / small_median:4.2f}x",
                )
            )
        del big, small
        print(f"List pages on {database_label(database)} ({args.repeat} requests each)")
        table(rows)
        print("Target: under 25 ms with 100,000 orders; queries bounded; ratio near 1.")


if __name__ == "__main__":
    main()
