"""Italian-first formatting of money, numbers and dates in templates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal


def money(value: Decimal | int | float | None, currency: str = "EUR") -> str:
    if value is None:
        return ""
    return f"{format_decimal(Decimal(value), format='#,##0.00')} {currency}"


def short_date(value: Any) -> str:
    """A date (or a datetime's date) in the reader's short format: 05/03/26 in Italian."""
    return _date(value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = lambda v: "" if v is None else format_decimal(v)
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["svg_chart"] = _svg_chart


def _svg_chart(chart: Any, element_id: str | None = None) -> Any:
    from distretto.platform.charts import render_svg

    return render_svg(chart, element_id)


def _date(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "short") if isinstance(value, date) else str(value)


def _datetime(value: Any) -> str:
    if value is None:
        return ""
    return format_datetime(value, "short")
