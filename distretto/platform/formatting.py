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


def number(value: Any) -> str:
    """A number in the reader's format (1.234,5 in Italian); text holding a number too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except ArithmeticError:
            return value
    return format_decimal(value)


def input_number(value: Any) -> str:
    """A number to put in an input for editing: the reader's decimal mark, no grouping.

    ``1234.5`` becomes ``1234,5`` in Italian: the forms read both marks, but a
    grouped ``1.234`` would read back as one point two three four.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except ArithmeticError:
            return value
    return format_decimal(Decimal(value), format="0.######")


def field_value(value: Any, field_type: str | None = None) -> str:
    """A custom field's value for reading: numbers, dates and yes/no in the reader's language.

    Values come from JSON, so a date may be ISO text and a decimal a string:
    ``field_type`` (the field's declared type) says how to read them.
    """
    from flask_babel import gettext

    if value is None or value == "":
        return "—"
    if field_type == "boolean" or isinstance(value, bool):
        if isinstance(value, str):
            value = value.strip().lower() in ("true", "1", "yes", "si", "sì")
        return gettext("yes") if value else gettext("no")
    if field_type == "date" or isinstance(value, date):
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return value
        return _date(value)
    if field_type in ("decimal", "integer") or isinstance(value, Decimal | int | float):
        return number(value if not isinstance(value, float) else str(value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def short_date(value: Any) -> str:
    """A date (or a datetime's date) in the reader's short format: 05/03/26 in Italian."""
    return _date(value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["field_value"] = field_value
    app.jinja_env.filters["input_number"] = input_number
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
