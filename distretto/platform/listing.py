"""Server-side lists: search, filters, sort and pagination with a bounded query count.

A list page runs exactly two queries for its rows (a count and a page) no
matter how many rows the firm has; relationships shown in the list must be
eager-loaded by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from distretto.platform.db import db

PER_PAGE_CHOICES = (25, 50, 100)


@dataclass
class Page:
    items: Sequence[Any]
    total: int
    page: int
    per_page: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(
    query: Select[Any],
    args: Mapping[str, Any],
    sorts: Mapping[str, Any],
    default_sort: str,
) -> Page:
    """Apply ``?sort=`` (a key of ``sorts``, ``-`` prefix for descending) and ``?page=``."""
    sort = str(args.get("sort") or default_sort)
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = default_sort, default_sort.lstrip("-")
    column = sorts[key]
    columns = column if isinstance(column, (list, tuple)) else [column]
    order = [c.desc() if sort.startswith("-") else c.asc() for c in columns]
    try:
        per_page = int(args.get("per_page") or PER_PAGE_CHOICES[0])
    except (TypeError, ValueError):
        per_page = PER_PAGE_CHOICES[0]
    if per_page not in PER_PAGE_CHOICES:
        per_page = PER_PAGE_CHOICES[0]
    try:
        page = max(1, int(args.get("page") or 1))
    except (TypeError, ValueError):
        page = 1
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = (
        db.session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
        .unique()
        .scalars()
        .all()
    )
    return Page(items=items, total=total, page=page, per_page=per_page, sort=sort)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
