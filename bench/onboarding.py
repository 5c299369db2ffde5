"""Onboarding a firm: time and database growth, and whether they hold with thousands of firms.

Target: under 100 ms and under 50 KB per firm (peers that give each firm its own
database take tens of seconds and megabytes). Measured three ways, all in one run:

- through the operator console (a real POST /operator/firms: firm, every module,
  a district template, the first owner invited), as a district IT person does it;
- through the services the console calls, without HTTP;
- the baseline: a firm with no module, no template and no invitation.

Then the same onboarding again after ``--firms`` firms exist, to show that the
cost does not grow with the district.

    .venv/bin/python bench/onboarding.py [--firms 2000] [--sample 100]
    DISTRETTO_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/onboarding.py
"""

from __future__ import annotations

import argparse
import itertools
import time

from harness import (
    PASSWORD,
    bench_app,
    client_for,
    database_bytes,
    database_label,
    median_ms,
    p95_ms,
    table,
)

MODULES = ["catalog", "orders", "inventory", "invoicing"]
_numbers = itertools.count(1)


def _vat() -> str:
    """A valid Italian VAT number (Luhn check digit), different each call."""
    from stdnum import luhn

    body = f"{next(_numbers):07d}" + "001"
    return body + luhn.calc_check_digit(body)


def onboard_by_service(template: str | None, modules: list[str], invite: bool) -> None:
    from distretto.platform.db import db
    from distretto.tenants import district_templates, services
    from distretto.tenants.models import Role

    n = next(_numbers)
    tenant = services.create_tenant(f"firm-{n}", f"Firm {n} S.r.l.", _vat(), modules=modules)
    if template:
        district_templates.apply(tenant, template)
    if invite:
        services.invite(tenant, f"owner{n}@example.com", Role.OWNER)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=2000, help="firms in the district (scale)")
    parser.add_argument("--sample", type=int, default=100, help="firms timed per measurement")
    args = parser.parse_args()

    with bench_app("onboarding", LOG_LEVEL="ERROR") as (app, database):
        from distretto.platform.db import db
        from distretto.tenants import district_templates, services

        district_templates.publish_builtins()
        operator = services.create_user("ops@example.com", PASSWORD, "Ops", operator=True)
        db.session.commit()
        client = client_for(app, "ops@example.com")
        token = _csrf(client)

        def by_console() -> None:
            n = next(_numbers)
            response = client.post(
                "/operator/firms",
                data={
                    "csrf_token": token,
                    "slug": f"console-{n}",
                    "legal_name": f"Console {n} S.r.l.",
                    "vat_number": _vat(),
                    "default_locale": "it",
                    "modules": MODULES,
                    "template": "meccanica-contoterzi",
                    "admin_email": f"admin{n}@example.com",
                },
            )
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]

        def measure(label: str, func, sample: int) -> tuple[float, float, float]:
            func()  # warm-up: first-use caches are not what a firm waits for
            before = database_bytes(database)
            times = []
            for _ in range(sample):
                start = time.perf_counter()
                func()
                times.append(time.perf_counter() - start)
            grown = (database_bytes(database) - before) / sample
            return median_ms(times), p95_ms(times), grown

        rows = {}
        rows["console"] = measure("console", by_console, args.sample)
        rows["services"] = measure(
            "services",
            lambda: onboard_by_service("meccanica-contoterzi", MODULES, True),
            args.sample,
        )
        rows["baseline"] = measure(
            "baseline", lambda: onboard_by_service(None, [], False), args.sample
        )

        existing = 3 * (args.sample + 1)
        start = time.perf_counter()
        while existing < args.firms:
            onboard_by_service(None, ["catalog"], False)
            existing += 1
        filled = time.perf_counter() - start
        rows["console, district full"] = measure("console-full", by_console, args.sample)
        del operator

        print(f"Onboarding on {database_label(database)} ({args.sample} firms per row)")
        table(
            [
                (
                    label,
                    f"median {median:7.1f} ms   p95 {p95:7.1f} ms   "
                    f"growth {grown / 1024:6.1f} KB/firm",
                )
                for label, (median, p95, grown) in rows.items()
            ]
        )
        base = rows["baseline"][0]
        print("Ratios (median time):")
        table(
            [
                ("console / baseline", f"{rows['console'][0] / base:5.2f}x"),
                ("services / baseline", f"{rows['services'][0] / base:5.2f}x"),
                (
                    f"console with {existing} firms / with {3 * (args.sample + 1)}",
                    f"{rows['console, district full'][0] / rows['console'][0]:5.2f}x",
                ),
            ]
        )
        print(f"  (filling the district to {existing} firms took {filled:.1f} s)")
        print("Targets: under 100 ms and under 50 KB per firm.")


def _csrf(client) -> str:
    from distretto.testing.plugin import csrf_token

    return csrf_token(client, "/operator/")


if __name__ == "__main__":
    main()
