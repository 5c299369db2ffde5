"""The firm's home page: what modules put on it ("today's work" cards and charts).

A module contributes through its :class:`~distretto.platform.modules.Module`
object: ``dashboard`` is a callable that returns a list of :class:`Widget`. It
runs inside the firm's context at each visit of the home page, only for the
firms that enabled the module, so a firm without inventory never sees (nor pays
the queries of) stock cards. It should skip what the member may not see (check
:func:`~distretto.platform.permissions.can`) and keep its queries few and
aggregated in SQL: the home page's statement count is asserted in the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distretto.platform.charts import Chart

logger = logging.getLogger("distretto.dashboard")


@dataclass(frozen=True)
class WidgetItem:
    """One line of a card's short list: a label linking to the page, and a detail."""

    label: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Widget:
    """A card on the home page: a count with a short list, or a chart.

    ``name`` is unique and starts with the module's name (``orders.to_confirm``);
    it becomes the card's HTML id (``widget-orders-to_confirm``). ``link`` leads
    to the full list behind the count. ``tone`` ("primary", "warning", "danger")
    colours a non-zero count: overdue payments are "danger".
    """

    name: str
    title: Any
    count: int | None = None
    items: Sequence[WidgetItem] = ()
    link: str | None = None
    link_label: Any = None
    chart: Chart | None = None
    order: int = 100
    tone: str = "primary"
    empty_text: Any = ""
    permission: str | None = None

    @property
    def html_id(self) -> str:
        return "widget-" + self.name.replace(".", "-")

    @property
    def is_chart(self) -> bool:
        return self.chart is not None


def widgets() -> list[Widget]:
    """Every widget the current firm's enabled modules offer the current member, in order.

    A module whose dashboard fails is left out (and logged): the home page of the
    firm still opens.
    """
    from distretto.platform.db import db
    from distretto.platform.modules import enabled_modules
    from distretto.platform.permissions import can

    found: list[Widget] = []
    for module in enabled_modules():
        if module.dashboard is None:
            continue
        try:
            offered = list(module.dashboard())
        except Exception:  # noqa: BLE001 - one module's card must not close the home page
            logger.exception("dashboard of module %s failed", module.name)
            db.session.rollback()  # a failed statement aborts the transaction (PostgreSQL)
            continue
        for widget in offered:
            if not widget.name.startswith(f"{module.name}."):
                logger.error("widget %r of %s is outside its namespace", widget.name, module.name)
                continue
            if widget.permission is None or can(widget.permission):
                found.append(widget)
    return sorted(found, key=lambda w: (w.is_chart, w.order, w.name))
