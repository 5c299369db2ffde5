"""List views: a module declares a list once and gets the whole list page.

A module describes a list (its key, base query, columns with labels,
formatters and sort expressions, filters, search) as a :class:`ListView` and
calls :func:`render` from its view function. The platform then gives the firm:

* search, filters (the module's own and one per custom field of the document
  type), sorting on the columns that allow it, pagination;
* a choice of columns, the firm's custom fields included, remembered per user
  and per list;
* saved views: a named filter (query string) and columns, private to the user
  or shared with the whole firm;
* CSV and XLSX export of the current filter with the chosen columns (numbers
  as numbers and dates as dates in XLSX);
* partial updates with htmx (the filter form replaces the list body only) while
  every state stays in the URL, so a list is bookmarkable.

Large lists stay fast: the page reads ``per_page`` rows through an indexed sort
(every sort ends with a unique tiebreak), and the count stops at
:data:`COUNT_CAP` (a firm with 100,000 orders sees "more than 1,000") rather
than counting every row on every page.

The chosen columns of a user are kept as that user's unnamed :class:`SavedView`
of the list, so one query loads both the user's columns and the views offered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, Select, String, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform import customfields
from distretto.platform.context import current_actor_id
from distretto.platform.db import BigId, TenantOwned, db, utcnow
from distretto.platform.workflow.conditions import coerce

COUNT_CAP = 1_000
EXPORT_MAX_ROWS = 100_000
PER_PAGE_CHOICES = (25, 50, 100)
#: Query arguments that are not part of a saved filter.
NOT_SAVED = frozenset({"page", "view", "cols"})
KINDS = ("text", "number", "money", "date", "bool")


class SavedView(TenantOwned, db.Model):
    """A named filter and set of columns of one list; ``user_id`` None: shared with the firm.

    A user's row with an empty ``name`` holds the columns that user chose for
    the list (not offered as a view).
    """

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_list", "tenant_id", "list_key", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    list_key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120), default="")
    query: Mapped[str] = mapped_column(String(2000), default="")
    columns: Mapped[list | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def shared(self) -> bool:
        return self.user_id is None


@dataclass(frozen=True)
class Column:
    """One column: ``value(row, related)`` returns the typed value (Decimal, date, str, bool).

    ``kind`` says how to show and export it: ``text``, ``number``, ``money``,
    ``date`` or ``bool``. ``sort`` is the SQL expression (or a list of them) to
    sort by, None when the column cannot be sorted. ``link(row)`` makes the cell
    a link. Columns with ``default=False`` are offered but not shown at first.
    """

    key: str
    label: Any
    value: Callable[[Any, Mapping[str, Any]], Any]
    kind: str = "text"
    sort: Any = None
    default: bool = True
    link: Callable[[Any], str] | None = None

    @property
    def sortable(self) -> bool:
        return self.sort is not None


@dataclass(frozen=True)
class Filter:
    """A filter of the list: ``?<key>=value`` applied by ``apply(query, value)``.

    ``choices()`` returns ``(value, label)`` pairs for a select; without it the
    filter is a text box (``kind="date"``: a date box). ``default`` applies
    when the argument is absent (an empty argument means "all").
    """

    key: str
    label: Any
    apply: Callable[[Select[Any], str], Select[Any]]
    choices: Callable[[], Sequence[tuple[str, Any]]] | None = None
    kind: str = "text"
    default: str = ""


@dataclass(frozen=True)
class ListView:
    """A list a module offers; ``key`` is ``<module>.<list>`` (``orders.sales``).

    ``query()`` builds the base SELECT of the model; ``search(query, text)``
    applies the search box; ``related(rows)`` loads, in a few queries, what the
    rows show besides their own columns (their parties, say) and returns it as
    the mapping every ``Column.value`` receives. ``model`` and
    ``document_type`` turn on the firm's custom fields (the model's ``custom``
    JSON column) as columns and filters. ``tiebreak`` is a unique column ending
    every sort, so pages never overlap. ``endpoint`` is the page's own view.
    """

    key: str
    endpoint: str
    title: Any
    permission: str
    query: Callable[[], Select[Any]]
    columns: Sequence[Column]
    default_sort: str
    tiebreak: Any
    filters: Sequence[Filter] = ()
    search: Callable[[Select[Any], str], Select[Any]] | None = None
    search_placeholder: Any = None
    related: Callable[[Sequence[Any]], Mapping[str, Any]] | None = None
    model: Any = None
    document_type: str | None = None
    export_name: str = "list"
    empty_text: Any = None

    @property
    def module(self) -> str:
        return self.key.split(".", 1)[0]


_registry: dict[str, ListView] = {}


def register(view: ListView) -> ListView:
    """Make the list known to the platform's shared routes (export, saved views, columns)."""
    _registry[view.key] = view
    return view


def lookup(key: str) -> ListView | None:
    return _registry.get(key)


@dataclass
class ListPage:
    items: Sequence[Any]
    total: int
    capped: bool
    page: int
    per_page: int
    sort: str
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def pages(self) -> int | None:
        return None if self.capped else max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


@dataclass
class ListState:
    """A list as the current request asks for it: filters, sort, columns, views."""

    view: ListView
    args: dict[str, str]
    available: list[Column]
    columns: list[Column]
    definitions: list[Any]
    saved: list[SavedView]
    current: SavedView | None
    filter_values: dict[str, str]
    query: Select[Any]
    sort: str
    errors: list[str] = field(default_factory=list)

    @property
    def saved_query(self) -> str:
        """The filter as a saved view keeps it (no page, view or columns)."""
        return urlencode([(k, v) for k, v in self.args.items() if k not in NOT_SAVED and v != ""])

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def link_args(self, **changes: Any) -> dict[str, Any]:
        """The current query arguments with ``changes`` (a None value drops the argument)."""
        args: dict[str, Any] = dict(self.args)
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return args

    def view_link_args(self, saved: SavedView) -> dict[str, Any]:
        from urllib.parse import parse_qsl

        args = dict(parse_qsl(saved.query))
        args["view"] = saved.id
        return args


# --- custom fields as columns and filters --------------------------------------------


_FIELD_KINDS = {"integer": "number", "decimal": "number", "date": "date", "boolean": "bool"}


def _custom_value(name: str, field_type: str) -> Callable[[Any, Mapping[str, Any]], Any]:
    def value(row: Any, related: Mapping[str, Any]) -> Any:  # noqa: ARG001
        raw = (getattr(row, "custom", None) or {}).get(name)
        try:
            return coerce(raw, field_type)
        except ValueError:
            return raw

    return value


def custom_columns(definitions: Sequence[Any]) -> list[Column]:
    return [
        Column(
            key=f"cf.{d.name}",
            label=d.label,
            value=_custom_value(d.name, d.field_type),
            kind=_FIELD_KINDS.get(d.field_type, "text"),
            default=False,
        )
        for d in definitions
    ]


# --- workflow states --------------------------------------------------------------------------


def workflow_states(documents: Sequence[Any]) -> dict[tuple[int, str], str]:
    """The label of each (workflow version, state) the documents use, in the reader's
    language, read in one query: put it in ``related["states"]`` for :func:`state_label`."""
    from flask_babel import get_locale

    from distretto.platform.workflow import label_text
    from distretto.platform.workflow.engine import WorkflowDefinition, parsed

    ids = {d.workflow_id for d in documents if getattr(d, "workflow_id", None) is not None}
    if not ids:
        return {}
    locale = str(get_locale() or "it")
    labels: dict[tuple[int, str], str] = {}
    rows = db.session.execute(select(WorkflowDefinition).where(WorkflowDefinition.id.in_(ids)))
    for row in rows.scalars():
        for state in parsed(row).states:
            labels[(row.id, state.name)] = label_text(state.label, locale)
    return labels


def state_label(document: Any, related: Mapping[str, Any]) -> str:
    """A Column value: the document's state as its workflow version names it."""
    states = related.get("states") or {}
    return states.get((document.workflow_id, document.state), document.state)


# --- state --------------------------------------------------------------------------------


def _visible_views(view: ListView) -> list[SavedView]:
    me = current_actor_id()
    condition = SavedView.user_id.is_(None)
    if me is not None:
        condition = or_(condition, SavedView.user_id == me)
    return list(
        db.session.execute(
            select(SavedView)
            .where(SavedView.list_key == view.key, condition)
            .order_by(SavedView.name, SavedView.id)
        ).scalars()
    )


def _arg_dict(args: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in args.items()}


def resolve(view: ListView, args: Mapping[str, Any] | None = None) -> ListState:
    """Read the request's arguments (or ``args``) into the list's state and filtered query."""
    raw = _arg_dict(request.args if args is None else args)
    definitions = customfields.definitions(view.document_type) if view.document_type else []
    available = [*view.columns, *custom_columns(definitions)]
    by_key = {c.key: c for c in available}
    views = _visible_views(view)
    me = current_actor_id()
    preference = next((v for v in views if v.name == "" and v.user_id == me), None)
    saved = [v for v in views if v.name != ""]
    current = None
    if raw.get("view", "").isdigit():
        current = next((v for v in saved if v.id == int(raw["view"])), None)
    chosen: list[str] | None = None
    if raw.get("cols"):
        chosen = raw["cols"].split(",")
    elif current is not None and current.columns:
        chosen = list(current.columns)
    elif preference is not None and preference.columns:
        chosen = list(preference.columns)
    columns = [by_key[k] for k in (chosen or []) if k in by_key]
    if not columns:
        columns = [c for c in view.columns if c.default]

    query = view.query()
    errors: list[str] = []
    text = raw.get("q", "").strip()
    if text and view.search is not None:
        query = view.search(query, text)
    values: dict[str, str] = {}
    for flt in view.filters:
        value = raw.get(flt.key, flt.default).strip()
        if not value:
            continue
        if flt.choices is not None and value not in {str(v) for v, _label in flt.choices()}:
            errors.append(
                _("%(field)s: %(value)s is not a valid filter.", field=flt.label, value=value)
            )
            continue
        try:
            query = flt.apply(query, value)
        except ValueError:
            errors.append(
                _("%(field)s: %(value)s is not a valid filter.", field=flt.label, value=value)
            )
            continue
        values[flt.key] = value
    for definition in definitions:
        key = f"cf_{definition.name}"
        value = raw.get(key, "").strip()
        if not value:
            continue
        try:
            query = query.where(customfields.filter_clause(view.model, definition, value))
        except ValueError:
            errors.append(
                _(
                    "%(field)s: %(value)s is not a valid filter.",
                    field=definition.label,
                    value=value,
                )
            )
            continue
        values[key] = value

    sort = raw.get("sort") or view.default_sort
    if sort.lstrip("-") not in by_key or not by_key[sort.lstrip("-")].sortable:
        sort = view.default_sort
    return ListState(
        view=view,
        args=raw,
        available=available,
        columns=columns,
        definitions=definitions,
        saved=saved,
        current=current,
        filter_values=values,
        query=query,
        sort=sort,
        errors=errors,
    )


def _ordered(state: ListState) -> Select[Any]:
    column = next(c for c in state.available if c.key == state.sort.lstrip("-"))
    exprs = column.sort if isinstance(column.sort, (list, tuple)) else [column.sort]
    descending = state.sort.startswith("-")
    order = [e.desc() if descending else e.asc() for e in [*exprs, state.view.tiebreak]]
    return state.query.order_by(*order)


def _page_numbers(args: Mapping[str, str]) -> tuple[int, int]:
    try:
        per_page = int(args.get("per_page") or PER_PAGE_CHOICES[0])
    except ValueError:
        per_page = PER_PAGE_CHOICES[0]
    if per_page not in PER_PAGE_CHOICES:
        per_page = PER_PAGE_CHOICES[0]
    try:
        page = max(1, min(int(args.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    return page, per_page


def fetch_page(state: ListState) -> ListPage:
    """One page of rows (``per_page + 1`` read, to know whether a next page exists)
    and a count that stops at :data:`COUNT_CAP`."""
    page, per_page = _page_numbers(state.args)
    rows = (
        db.session.execute(_ordered(state).limit(per_page + 1).offset((page - 1) * per_page))
        .unique()
        .scalars()
        .all()
    )
    counted = db.session.execute(
        select(func.count()).select_from(
            state.query.order_by(None)
            .with_only_columns(state.view.tiebreak)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
    ).scalar_one()
    return ListPage(
        items=rows[:per_page],
        total=min(counted, COUNT_CAP),
        capped=counted > COUNT_CAP,
        page=page,
        per_page=per_page,
        sort=state.sort,
        has_next=len(rows) > per_page,
    )


def cell(column: Column, row: Any, related: Mapping[str, Any]) -> Any:
    return column.value(row, related)


def render(view: ListView, template: str = "platform/listview.html", **context: Any) -> Any:
    """The list page (or, for the filter form's htmx request, only the list body)."""
    state = resolve(view)
    page = fetch_page(state)
    related = view.related(page.items) if view.related else {}
    if request.headers.get("HX-Target") == "list-body":
        template = "platform/_listview_body.html"
    return render_template(
        template, listview=view, state=state, page=page, related=related, cell=cell, **context
    )


# --- export ------------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    if text[:1] in ("=", "+", "-", "@") and not _numeric(text):
        return "'" + text  # a spreadsheet would run it as a formula
    return text


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def export_rows(state: ListState) -> Any:
    """Each exported row as a list of typed values, in batches (related rows loaded per batch)."""
    query = _ordered(state).limit(EXPORT_MAX_ROWS).execution_options(yield_per=1000)
    for batch in db.session.execute(query).scalars().partitions():
        related = state.view.related(batch) if state.view.related else {}
        for row in batch:
            yield [c.value(row, related) for c in state.columns]


def export_csv(state: ListState) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([str(c.label) for c in state.columns])
    for values in export_rows(state):
        writer.writerow([_plain(v) for v in values])
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{state.view.export_name}.csv"'},
    )


def _xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, Decimal | int | float):
        return value
    if kind in ("number", "money"):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return str(value)
    return str(value)


def export_xlsx(state: ListState) -> Response:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(state.view.title)[:31] or "List")
    bold = Font(bold=True)
    header = []
    for column in state.columns:
        c = WriteOnlyCell(sheet, value=str(column.label))
        c.font = bold
        header.append(c)
    sheet.append(header)
    formats = {"money": "#,##0.00", "date": "DD/MM/YYYY"}
    for values in export_rows(state):
        row = []
        for column, value in zip(state.columns, values, strict=True):
            c = WriteOnlyCell(sheet, value=_xlsx_value(value, column.kind))
            if c.data_type == "f":  # text that looks like a formula stays text
                c.data_type = "s"
            number_format = formats.get(column.kind)
            if isinstance(value, datetime):
                number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(value, date):
                number_format = "DD/MM/YYYY"
            if number_format:
                c.number_format = number_format
            row.append(c)
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return Response(
        output.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{state.view.export_name}.xlsx"'},
    )


# --- saved views and columns -----------------------------------------------------------------


class ViewError(ValueError):
    """A view that cannot be saved as asked (no name, too long, unknown columns)."""


def _clean_columns(view: ListView, keys: Sequence[str]) -> list[str]:
    definitions = customfields.definitions(view.document_type) if view.document_type else []
    known = {c.key for c in [*view.columns, *custom_columns(definitions)]}
    return [k for k in dict.fromkeys(keys) if k in known]


def save_columns(view: ListView, keys: Sequence[str]) -> SavedView:
    """Remember the columns the current user chose for the list."""
    me = current_actor_id()
    if me is None:
        abort(403)
    columns = _clean_columns(view, keys)
    row = db.session.execute(
        select(SavedView).where(
            SavedView.list_key == view.key, SavedView.user_id == me, SavedView.name == ""
        )
    ).scalar_one_or_none()
    if row is None:
        row = SavedView(list_key=view.key, user_id=me, name="", created_by_id=me)
        db.session.add(row)
    row.columns = columns or None
    db.session.flush()
    return row


def save_view(
    view: ListView, name: str, query: str, columns: Sequence[str], *, shared: bool
) -> SavedView:
    """Save a named view of the list, private to the user or (``shared``) for the whole firm.

    A view of the same name and owner is replaced, so saving again updates it.
    """
    from urllib.parse import parse_qsl

    me = current_actor_id()
    name = (name or "").strip()
    if not name:
        raise ViewError(_("Give the view a name."))
    if len(name) > 120 or len(query) > 2000:
        raise ViewError(_("The name or the filter is too long."))
    query = urlencode([(k, v) for k, v in parse_qsl(query) if k not in NOT_SAVED])
    owner = None if shared else me
    condition = SavedView.user_id.is_(None) if owner is None else SavedView.user_id == owner
    row = db.session.execute(
        select(SavedView).where(SavedView.list_key == view.key, SavedView.name == name, condition)
    ).scalar_one_or_none()
    if row is None:
        row = SavedView(list_key=view.key, user_id=owner, name=name, created_by_id=me)
        db.session.add(row)
    row.query = query
    row.columns = _clean_columns(view, columns) or None
    db.session.flush()
    return row


def visible_view(view: ListView, view_id: int) -> SavedView | None:
    """A named view of the list the current user may see (their own or a shared one)."""
    return next((v for v in _visible_views(view) if v.id == view_id and v.name), None)


def delete_view(saved: SavedView, *, may_manage_shared: bool) -> None:
    me = current_actor_id()
    if saved.user_id is None and not (may_manage_shared or saved.created_by_id == me):
        abort(403)
    db.session.delete(saved)
    db.session.flush()
