"""Charts drawn on the server as accessible SVG: no JavaScript library, nothing to vendor.

A :class:`Chart` is data (labels and values) plus words (title, description);
:func:`render_svg` draws it as a bar chart with ``role="img"``, a ``<title>`` and
a ``<desc>`` for screen readers and a tooltip per bar. Templates show it with the
``chart`` macro of ``platform/charts.html``, which adds the same figures as a table
for whoever cannot see the picture (and for copying the numbers). Every text the
chart writes is escaped, so customer names in a chart are safe.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

_ids = itertools.count(1)

ACCENT = "#0b5f7a"
NEGATIVE = "#a4262c"


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: Decimal
    url: str | None = None  # where a click on the bar (or its row in the table) leads


@dataclass(frozen=True)
class Chart:
    """What a chart shows. ``orientation`` "vertical" suits months; "horizontal" long names.

    ``value_format`` turns a value into the text shown in tooltips and in the table
    (the ``money`` filter's function for amounts, say).
    """

    title: Any
    points: Sequence[ChartPoint]
    description: Any = ""
    orientation: str = "vertical"
    label_heading: Any = ""
    value_heading: Any = ""
    value_format: Callable[[Decimal], str] = field(default=lambda value: str(value))

    @property
    def empty(self) -> bool:
        return not self.points or all(point.value == 0 for point in self.points)

    @property
    def total(self) -> Decimal:
        return sum((Decimal(point.value) for point in self.points), Decimal(0))


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def render_svg(chart: Chart, element_id: str | None = None) -> Markup:
    """The chart as an inline ``<svg>`` element (escaped, safe to embed)."""
    base = element_id or f"chart-{next(_ids)}"
    if chart.orientation == "horizontal":
        body, width, height = _horizontal(chart)
    else:
        body, width, height = _vertical(chart)
    description = chart.description or chart.title
    # what is inside an image is hidden from screen readers, so a chart whose bars are
    # links (to a customer, a product) is a group instead (axe-core: nested-interactive)
    role = "group" if any(p.url for p in chart.points) else "img"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="{role}" id="{escape(base)}" '
        f'aria-labelledby="{escape(base)}-title {escape(base)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" class="chart" '
        f'preserveAspectRatio="xMinYMin meet" font-family="system-ui, sans-serif">'
        f'<title id="{escape(base)}-title">{escape(chart.title)}</title>'
        f'<desc id="{escape(base)}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text above went through escape()


def _bar(x: float, y: float, w: float, h: float, point: ChartPoint, text: str) -> str:
    colour = NEGATIVE if point.value < 0 else ACCENT
    rect = (
        f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" '
        f'fill="{colour}"><title>{escape(point.label)}: {escape(text)}</title></rect>'
    )
    if point.url:
        return f'<a href="{escape(point.url)}">{rect}</a>'
    return rect


def _vertical(chart: Chart) -> tuple[str, int, int]:
    count = max(len(chart.points), 1)
    slot = 60
    width, height, top, bottom = max(count * slot + 20, 500), 236, 16, 190
    values = [Decimal(p.value) for p in chart.points]
    highest = max([v for v in values if v > 0] + [Decimal(0)])
    lowest = max([-v for v in values if v < 0] + [Decimal(0)])
    span = (highest + lowest) or Decimal(1)
    scale = float(bottom - top) / float(span)
    baseline = top + float(highest) * scale if highest or lowest else bottom
    parts = [
        f'<line x1="10" y1="{_fmt(baseline)}" x2="{width - 10}" y2="{_fmt(baseline)}" '
        'stroke="#6c757d" stroke-width="1"/>'
    ]
    for index, point in enumerate(chart.points):
        h = abs(float(point.value)) * scale
        x = 10 + index * slot + 10
        y = baseline - h if point.value >= 0 else baseline
        parts.append(_bar(x, y, slot - 20, h, point, chart.value_format(point.value)))
        parts.append(
            f'<text x="{_fmt(x + (slot - 20) / 2)}" y="{bottom + 22}" font-size="13" '
            f'text-anchor="middle" fill="#212529">{escape(point.label)}</text>'
        )
    return "".join(parts), width, height


def _horizontal(chart: Chart) -> tuple[str, int, int]:
    row, label_width, bar_width = 34, 215, 290
    width = label_width + bar_width + 110
    height = max(len(chart.points), 1) * row + 10
    values = [Decimal(p.value) for p in chart.points]
    peak = max([abs(v) for v in values] + [Decimal(0)]) or Decimal(1)
    scale = bar_width / float(peak)
    parts = []
    for index, point in enumerate(chart.points):
        y = 5 + index * row
        w = abs(float(point.value)) * scale
        label = point.label if len(point.label) <= 22 else point.label[:21] + "…"
        text = chart.value_format(point.value)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 21}" font-size="14" text-anchor="end" '
            f'fill="#212529">{escape(label)}</text>'
        )
        parts.append(_bar(label_width, y + 4, max(w, 1), row - 10, point, text))
        parts.append(
            f'<text x="{_fmt(label_width + max(w, 1) + 6)}" y="{y + 21}" font-size="14" '
            f'fill="#212529">{escape(text)}</text>'
        )
    return "".join(parts), width, height
