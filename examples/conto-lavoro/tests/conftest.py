"""Helpers for conto lavoro's tests. The app, firms, people and signed-in clients come
from the distretto pytest plugin (``tenant_client``, ``make_tenant``...)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from distretto.sdk import db, tenant_context, workflow
from flask_babel import force_locale
from stdnum import luhn

from distretto_conto_lavoro import services

MODULE = "conto_lavoro"
_numbers = itertools.count(1)


def _valid_vat() -> str:
    base = f"{(next(_numbers) * 104729) % 10_000_000:07d}002"
    return base + luhn.calc_check_digit(base)


@contextmanager
def _as_firm(tenant: Any) -> Iterator[None]:
    """Run service calls as ``tenant``, then commit, as a request would.

    The commit first ends the test's read transaction, so work that requests
    committed meanwhile is seen (and SQLite lets this transaction write).
    Messages are in English, whatever the platform's default language.
    """
    db.session.commit()
    with tenant_context(tenant), force_locale("en"):
        yield
        db.session.commit()


@dataclass
class Firm:
    client: Any
    tenant: Any
    subcontractor_id: int
    bar_id: int
    flange_id: int

    @property
    def base(self) -> str:
        return f"/{self.tenant.slug}/{MODULE}"

    def dispatch(self, lines: list[tuple[int, str]], *, send: bool = True, to: int | None = None):
        """A dispatch (sent unless ``send=False``); returns its id and line ids."""
        with _as_firm(self.tenant):
            dispatch = services.create_dispatch(to or self.subcontractor_id, "Zinc plating", lines)
            if send:
                workflow.apply(dispatch, services.DOCUMENT_TYPE, "send", role="staff")
            result = dispatch.id, [line.id for line in dispatch.lines]
        return result


@pytest.fixture
def valid_vat():
    """``valid_vat()`` -> a fresh, valid Italian partita IVA."""
    return _valid_vat


@pytest.fixture
def as_firm(app):
    """``with as_firm(tenant):`` runs service calls as that firm and commits at the end."""
    return _as_firm


@pytest.fixture
def firm(tenant_client) -> Firm:
    """A staff member's client and a firm using conto lavoro, with a subcontractor and items."""
    client, tenant, _user = tenant_client("staff", modules=[MODULE])
    with _as_firm(tenant):
        subcontractor = services.create_subcontractor("Zincatura Rossi", _valid_vat(), "Lumezzane")
        bar = services.create_item("BAR-01", "Steel bar 20 mm", "kg")
        flange = services.create_item("FL-100", "Flange DN100", "pz")
        ids = subcontractor.id, bar.id, flange.id
    return Firm(client, tenant, *ids)
