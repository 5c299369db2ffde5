"""Global search within a firm: each module searches its own records.

A module contributes through its :class:`~distretto.platform.modules.Module`
object: ``search`` is a callable ``(query, limit) -> list[SearchGroup]``, called
only for the firms that enabled the module, inside the firm's context (the
tenant guard scopes every ORM query, so another firm's rows cannot come back).
Each group holds at most ``limit`` results of one kind (customers, sales
orders, ...); ``more_url`` leads to the full list filtered by the same words.
A provider should run one query per group, skip what the member may not see
(:func:`~distretto.platform.permissions.can`), and match case-insensitively
with :func:`contains_pattern` (``ilike(..., escape="\\\\")``), putting prefix
matches first with :func:`starts_first`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case

logger = logging.getLogger("distretto.search")

MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 5


@dataclass(frozen=True)
class SearchResult:
    label: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class SearchGroup:
    """Results of one kind. ``name`` is unique and starts with the module's name."""

    name: str
    title: Any
    results: Sequence[SearchResult]
    more_url: str | None = None
    has_more: bool = False
    order: int = 100

    @property
    def html_id(self) -> str:
        return "search-" + self.name.replace(".", "-")


def normalise(query: str | None) -> str:
    """The words to look for: trimmed, inner spaces collapsed, at most 100 characters."""
    return " ".join((query or "").split())[:MAX_QUERY_LENGTH]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (use with ``escape="\\\\"``)."""
    return f"%{_escape(text)}%"


def prefix_pattern(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` (use with ``escape="\\\\"``)."""
    return f"{_escape(text)}%"


def starts_first(column: Any, text: str) -> Any:
    """An ORDER BY term putting values that start with ``text`` before the others."""
    return case((column.ilike(prefix_pattern(text), escape="\\"), 0), else_=1)


def search(query: str, limit: int = DEFAULT_LIMIT) -> list[SearchGroup]:
    """What the current firm's enabled modules find for ``query``, non-empty groups only."""
    from distretto.platform.db import db
    from distretto.platform.modules import enabled_modules

    words = normalise(query)
    if not words:
        return []
    groups: list[SearchGroup] = []
    for module in enabled_modules():
        if module.search is None:
            continue
        try:
            found = list(module.search(words, limit))
        except Exception:  # noqa: BLE001 - one module's failure must not hide the others
            logger.exception("search of module %s failed", module.name)
            db.session.rollback()  # a failed statement aborts the transaction (PostgreSQL)
            continue
        for group in found:
            if not group.name.startswith(f"{module.name}."):
                logger.error("group %r of %s is outside its namespace", group.name, module.name)
                continue
            if group.results:
                groups.append(group)
    return sorted(groups, key=lambda g: (g.order, g.name))
