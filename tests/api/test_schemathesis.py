"""Schemathesis, in-process (WSGI), over every operation of a firm's OpenAPI document.

A firm holding data (customers, products, stock, orders, shipments, invoices issued
and paid, custom fields) and a token with every permission; for each operation
Schemathesis generates valid requests (path ids drawn from the firm's real rows as
well as random ones, so answers with real data are checked too) and invalid ones.
Every answer must not be a 5xx and must match the document: status code documented,
content type, response schema and headers. Bounded: a few examples per operation,
derandomized so a run repeats exactly.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as sc

from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.api.conftest import vat_rate
from tests.api.erp import (
    Erp,
    all_permissions,
    confirmed_order,
    draft_invoice,
    fiscal_data,
    make_erp,
    ok,
    product,
    receive,
    shipped_order,
    supplier,
)

EXAMPLES = 12  # per operation and kind (random ids, real ids, invalid input)
CHECKS = [
    sc.not_a_server_error,
    sc.status_code_conformance,
    sc.content_type_conformance,
    sc.response_schema_conformance,
    sc.response_headers_conformance,
]
TRANSITIONS = ["confirm", "send", "cancel", "ship", "issue", "mark_sent", "complete"]


class Isolated:
    """The app as a server runs it: each request in its own context and database session
    (the test's own transaction ends first, as another process's would)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        _settle()
        try:
            return contextvars.Context().run(self.app, environ, start_response)
        finally:
            _settle()


def _settle() -> None:
    session = db.session()
    if session.in_transaction():
        session.commit()


def _firm_with_data(erp: Erp) -> dict[str, list[Any]]:
    """Everything the modules hold, built through the API; the ids per path parameter."""
    from distretto.platform import customfields

    api = erp.api
    with tenant_context(erp.firm.tenant, erp.firm.owner.id):
        for document_type in ("sales_order", "invoice", "transport_document"):
            customfields.define(
                document_type, {"name": "commessa", "label": "Commessa", "type": "text"}
            )
        customfields.define(
            "invoice",
            {"name": "priorita", "label": "Priorità", "type": "choice", "choices": ["alta"]},
        )
        db.session.commit()
    fiscal_data(erp)
    party, order, shipment = shipped_order(api)
    vendor = supplier(api)
    other = product(api, "BU-8", reorder_point="50")
    receive(api, other["id"], "30")
    open_order = confirmed_order(api, party["id"], other["id"], "2")
    purchase = ok(
        api.post(
            "/orders/purchases",
            {"party_id": vendor["id"], "lines": [{"product_id": other["id"], "quantity": "4"}]},
        ),
        201,
    )
    draft_shipment = ok(
        api.post(
            "/inventory/shipments",
            {"source": {"document_type": "sales_order", "document_id": open_order["id"]}},
        ),
        201,
    )
    invoice = ok(api.post("/invoicing/invoices/from-orders", {"order_ids": [order["id"]]}), 201)
    ok(api.post(f"/invoicing/invoices/{invoice['id']}/transitions/issue", {}))
    ok(api.post(f"/invoicing/invoices/{invoice['id']}/payments", {"amount": "10"}), 201)
    note = ok(api.post(f"/invoicing/invoices/{invoice['id']}/credit-note", {}), 201)
    draft = draft_invoice(api, party["id"], custom={"commessa": "C-12", "priorita": "alta"})
    count = ok(api.post("/inventory/counts", {}), 201)
    terms = ok(api.get("/catalog/payment-terms?per_page=100"))["items"]
    rates = ok(api.get("/catalog/vat-rates?per_page=100"))["items"]
    receipts = ok(api.get("/inventory/receipts"))["items"]
    assert vat_rate(api)
    return {
        "party_id": [party["id"], vendor["id"]],
        "product_id": [shipment["lines"][0]["product_id"], other["id"]],
        "order_id": [order["id"], open_order["id"], purchase["id"]],
        "shipment_id": [shipment["id"], draft_shipment["id"]],
        "receipt_id": [r["id"] for r in receipts],
        "count_id": [count["id"]],
        "invoice_id": [invoice["id"], note["id"], draft["id"]],
        "terms_id": [t["id"] for t in terms[:3]],
        "rate_id": [r["id"] for r in rates[:3]],
        "name": TRANSITIONS,
    }


def _known(operation: Any, ids: dict[str, list[Any]]) -> Iterable[dict[str, Any]]:
    """Path parameters of ``operation`` taken from the firm's rows (none if it has no ids)."""
    names = [p.name for p in operation.path_parameters if p.name != "tenant"]
    if not names or not all(name in ids for name in names):
        return []
    combos: list[dict[str, Any]] = [{}]
    for name in names:
        combos = [{**c, name: value} for c in combos for value in ids[name]]
    return combos


def _strategy(operation: Any, slug: str, ids: dict[str, list[Any]]) -> Any:
    fixed = {"tenant": slug}
    kinds = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)]
    for combo in _known(operation, ids):
        path = {**fixed, **combo}
        kinds.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path))
        kinds.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path))
    if len(kinds) == 1:
        kinds.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed))
    return st.one_of(kinds)


def _fuzz(
    operation: Any,
    strategy: Any,
    auth: dict[str, str],
    failures: dict[str, str],
    statuses: dict[str, set[int]],
) -> None:
    """Run ``operation``'s examples; the first failure of each operation is kept."""

    @given(case=strategy, if_match=st.booleans())
    @settings(
        max_examples=EXAMPLES * 3,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, if_match: bool) -> None:
        if operation.label in failures:
            return
        headers = dict(auth)
        if if_match and operation.method.upper() == "PATCH":
            headers["If-Match"] = "*"  # an update based on the current version
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - every failure is reported by the test
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:1500]
            return
        statuses.setdefault(operation.label, set()).add(response.status_code)

    run()


def test_every_operation_answers_as_documented(
    app: Any, make_tenant: Any, make_user: Any, make_token: Any
) -> None:
    erp = make_erp(app, make_tenant, make_user, make_token, api_requests_per_minute=0)
    ids = _firm_with_data(erp)
    auth = {"Authorization": f"Bearer {make_token(erp.firm, all_permissions())}"}
    wsgi = Isolated(app)
    schema = schemathesis.openapi.from_wsgi(
        f"/api/v1/{erp.firm.slug}/openapi.json", wsgi, headers=auth
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # the drafts are used first
    modules = {op.path.split("/")[4] for op in operations}
    assert modules == {"catalog", "orders", "inventory", "invoicing"}, modules
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    started = time.monotonic()

    for operation in operations:
        _fuzz(operation, _strategy(operation, erp.firm.slug, ids), auth, failures, statuses)

    elapsed = time.monotonic() - started
    report = "\n\n".join(f"{label}\n{text}" for label, text in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations fail ({elapsed:.0f}s):\n{report}"
    # the real rows were reached: every GET with ids answered 200 at least once
    for operation in operations:
        if operation.method.upper() == "GET" and _known(operation, ids):
            assert 200 in statuses.get(operation.label, set()), (operation.label, statuses)
