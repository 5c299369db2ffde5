"""The rules of conto lavoro. Services flush and never commit: the request (or CLI) commits.

Every refusal is a :class:`ContoLavoroError` naming the form field at fault
(``lines-2-quantity`` for the third line), so pages can show it inline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from distretto.sdk import audit, db, events, numbering, workflow
from flask_babel import gettext as _
from sqlalchemy import func, select
from stdnum.eu import vat as eu_vat
from stdnum.it import iva

from distretto_conto_lavoro.models import (
    Dispatch,
    DispatchLine,
    GoodsReturn,
    Item,
    ReturnLine,
    Subcontractor,
)

DOCUMENT_TYPE = "cl_dispatch"
ZERO = Decimal("0.000")
QUANTUM = Decimal("0.001")
MAX_QUANTITY = Decimal("99999999999")
#: Emitted after a return is recorded (other modules may listen: inventory, costing...).
RETURN_RECORDED = "conto_lavoro.return_recorded"


class ContoLavoroError(ValueError):
    """A refusal; ``field`` names the form field at fault, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def show(quantity: Decimal) -> str:
    """A quantity for a message: ``4`` rather than ``4.000``, ``2.5`` rather than ``2.500``."""
    return f"{quantity.normalize():f}"


# --- input ------------------------------------------------------------------------------


def parse_quantity(raw: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A quantity from a form or an API: ``12``, ``12.5``, ``12,5`` or ``1.234,5``.

    At most three decimals; never negative; zero only with ``allow_zero``.
    """
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip().replace(" ", "")
        if not text:
            if allow_zero:
                return ZERO
            raise ContoLavoroError(_("Enter a quantity."), field)
        if "," in text:  # Italian: 1.234,5
            text = text.replace(".", "").replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ContoLavoroError(_("%(value)s is not a number.", value=raw), field) from None
    if not value.is_finite():
        raise ContoLavoroError(_("%(value)s is not a number.", value=raw), field)
    if value != value.quantize(QUANTUM):
        raise ContoLavoroError(_("Use at most three decimals."), field)
    if value < 0:
        raise ContoLavoroError(_("The quantity cannot be negative."), field)
    if value == 0 and not allow_zero:
        raise ContoLavoroError(_("The quantity must be more than zero."), field)
    if value > MAX_QUANTITY:
        raise ContoLavoroError(_("The quantity is too large."), field)
    return value.quantize(QUANTUM)


def normalise_vat(value: str) -> str:
    """An Italian partita IVA (11 digits, stored without ``IT``) or an EU VAT number.

    Foreign EU numbers keep their country prefix (``DE123456788``).
    """
    raw = (value or "").strip().upper().replace(" ", "").replace(".", "").replace("-", "")
    if not raw:
        raise ContoLavoroError(_("Enter the VAT number."), "vat_number")
    if raw[:2].isalpha() and raw[:2] != "IT":
        if eu_vat.is_valid(raw):
            return eu_vat.compact(raw)
    else:
        digits = raw[2:] if raw.startswith("IT") else raw
        if iva.is_valid(digits):
            return iva.compact(digits)
    raise ContoLavoroError(_("%(value)s is not a valid VAT number.", value=value), "vat_number")


def _required_text(value: str | None, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ContoLavoroError(_("This field is required."), field)
    if len(text) > max_length:
        raise ContoLavoroError(_("At most %(n)s characters.", n=max_length), field)
    return text


# --- master data ------------------------------------------------------------------------


def create_subcontractor(name: str, vat_number: str, city: str | None = None) -> Subcontractor:
    name = _required_text(name, "name", 200)
    vat = normalise_vat(vat_number)
    taken = db.session.execute(
        select(Subcontractor.id).where(Subcontractor.vat_number == vat)
    ).first()
    if taken:
        raise ContoLavoroError(
            _("A subcontractor with VAT number %(vat)s already exists.", vat=vat), "vat_number"
        )
    subcontractor = Subcontractor(name=name, vat_number=vat, city=(city or "").strip() or None)
    db.session.add(subcontractor)
    db.session.flush()
    audit.record("conto_lavoro.subcontractor_created", subcontractor, summary={"vat": vat})
    return subcontractor


def create_item(code: str, description: str, unit: str = "pz") -> Item:
    code = _required_text(code, "code", 40).upper()
    description = _required_text(description, "description", 200)
    unit = _required_text(unit, "unit", 10).lower()
    if db.session.execute(select(Item.id).where(Item.code == code)).first():
        raise ContoLavoroError(_("The code %(code)s is already used.", code=code), "code")
    item = Item(code=code, description=description, unit=unit)
    db.session.add(item)
    db.session.flush()
    audit.record("conto_lavoro.item_created", item, summary={"code": code})
    return item


def subcontractors() -> list[Subcontractor]:
    return list(db.session.execute(select(Subcontractor).order_by(Subcontractor.name)).scalars())


def items() -> list[Item]:
    return list(db.session.execute(select(Item).order_by(Item.code)).scalars())


# --- dispatches -------------------------------------------------------------------------


def create_dispatch(
    subcontractor_id: int | None,
    processing: str,
    lines: Sequence[tuple[Any, Any]],
    notes: str | None = None,
) -> Dispatch:
    """A draft dispatch; ``lines`` are ``(item_id, quantity)``, blank rows skipped."""
    subcontractor = db.session.get(Subcontractor, subcontractor_id) if subcontractor_id else None
    if subcontractor is None:
        raise ContoLavoroError(_("Choose the subcontractor."), "subcontractor_id")
    processing = _required_text(processing, "processing", 200)
    dispatch = Dispatch(
        subcontractor_id=subcontractor.id,
        processing=processing,
        notes=(notes or "").strip() or None,
    )
    for index, (item_id, raw_quantity) in enumerate(lines):
        if not item_id and not str(raw_quantity or "").strip():
            continue
        item = db.session.get(Item, int(item_id)) if item_id else None
        if item is None:
            raise ContoLavoroError(_("Choose the item."), f"lines-{index}-item_id")
        quantity = parse_quantity(raw_quantity, f"lines-{index}-quantity")
        dispatch.lines.append(
            DispatchLine(item_id=item.id, quantity=quantity, position=len(dispatch.lines) + 1)
        )
    if not dispatch.lines:
        raise ContoLavoroError(_("Add at least one line."), "lines-0-item_id")
    workflow.start(dispatch, DOCUMENT_TYPE)
    audit.record(
        "conto_lavoro.dispatch_created",
        dispatch,
        summary={"subcontractor": subcontractor.name, "lines": len(dispatch.lines)},
    )
    return dispatch


def issue_dispatch(dispatch: Dispatch, on: date | None = None) -> None:
    """Give the dispatch its gapless number and shipping date (once).

    Runs inside the transition's transaction: if anything later refuses the
    transition, the number goes back to the counter.
    """
    if dispatch.issued:
        return
    if not dispatch.lines:
        raise ContoLavoroError(_("A dispatch without lines cannot be sent."))
    on = on or date.today()
    _sequence, number = numbering.next_number(DOCUMENT_TYPE, on=on)
    dispatch.number = number
    dispatch.shipped_on = on
    db.session.flush()


def dispatches() -> list[Dispatch]:
    return list(db.session.execute(select(Dispatch).order_by(Dispatch.id.desc())).scalars())


# --- balances ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineBalance:
    line: DispatchLine
    sent: Decimal
    returned: Decimal
    scrap: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.sent - self.returned - self.scrap


@dataclass
class ItemBalance:
    subcontractor: Subcontractor
    item: Item
    sent: Decimal = ZERO
    returned: Decimal = ZERO
    scrap: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.sent - self.returned - self.scrap


def _returned_by_line(line_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    ids = list(line_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            ReturnLine.dispatch_line_id, func.sum(ReturnLine.quantity), func.sum(ReturnLine.scrap)
        )
        .where(ReturnLine.dispatch_line_id.in_(ids))
        .group_by(ReturnLine.dispatch_line_id)
    ).all()
    return {line_id: (_decimal(returned), _decimal(scrap)) for line_id, returned, scrap in rows}


def _decimal(value: Any) -> Decimal:
    # SQLite sums NUMERIC as floats: back to three exact decimals.
    return Decimal(str(value or 0)).quantize(QUANTUM)


def line_balances(
    *, subcontractor_id: int | None = None, dispatch_id: int | None = None
) -> list[LineBalance]:
    """Sent, returned and scrapped per line of the issued dispatches."""
    query = (
        select(DispatchLine)
        .join(Dispatch, Dispatch.id == DispatchLine.dispatch_id)
        .where(Dispatch.shipped_on.is_not(None))
        .order_by(Dispatch.shipped_on, Dispatch.id, DispatchLine.position)
    )
    if subcontractor_id is not None:
        query = query.where(Dispatch.subcontractor_id == subcontractor_id)
    if dispatch_id is not None:
        query = query.where(Dispatch.id == dispatch_id)
    lines = list(db.session.execute(query).scalars())
    returned = _returned_by_line(line.id for line in lines)
    return [
        LineBalance(line, Decimal(line.quantity), *returned.get(line.id, (ZERO, ZERO)))
        for line in lines
    ]


def outstanding_by_subcontractor() -> list[tuple[Subcontractor, list[ItemBalance]]]:
    """Per subcontractor and item, what is still out: sent - returned - scrap.

    Only subcontractors and items with something still out are listed.
    """
    totals: dict[tuple[int, int], ItemBalance] = {}
    for balance in line_balances():
        dispatch = balance.line.dispatch
        key = (dispatch.subcontractor_id, balance.line.item_id)
        row = totals.setdefault(key, ItemBalance(dispatch.subcontractor, balance.line.item))
        row.sent += balance.sent
        row.returned += balance.returned
        row.scrap += balance.scrap
    grouped: dict[int, tuple[Subcontractor, list[ItemBalance]]] = {}
    for row in totals.values():
        if row.outstanding > 0:
            grouped.setdefault(row.subcontractor.id, (row.subcontractor, []))[1].append(row)
    result = sorted(grouped.values(), key=lambda pair: pair[0].name.lower())
    for _subcontractor, rows in result:
        rows.sort(key=lambda r: r.item.code)
    return result


def outstanding_lines(dispatch: Dispatch) -> list[LineBalance]:
    return [b for b in line_balances(dispatch_id=dispatch.id) if b.outstanding > 0]


# --- returns ----------------------------------------------------------------------------


def record_return(
    subcontractor_id: int | None,
    reference: str,
    lines: Sequence[tuple[Any, Any, Any]],
    received_on: date | None = None,
    notes: str | None = None,
) -> GoodsReturn:
    """Record processed goods back; ``lines`` are ``(dispatch_line_id, quantity, scrap)``.

    Each line must belong to an issued dispatch to the same subcontractor, and
    ``quantity + scrap`` cannot exceed what is still out on that line (counting
    earlier lines of the same return). Rows with neither quantity nor scrap
    are skipped. Dispatch lines are locked while checking (PostgreSQL), so two
    concurrent returns cannot both take the last of a line.
    """
    subcontractor = db.session.get(Subcontractor, subcontractor_id) if subcontractor_id else None
    if subcontractor is None:
        raise ContoLavoroError(_("Choose the subcontractor."), "subcontractor_id")
    reference = _required_text(reference, "reference", 40)
    received_on = received_on or date.today()
    if received_on > date.today():
        raise ContoLavoroError(_("The date cannot be in the future."), "received_on")
    goods_return = GoodsReturn(
        subcontractor_id=subcontractor.id,
        reference=reference,
        received_on=received_on,
        notes=(notes or "").strip() or None,
    )
    taken: dict[int, Decimal] = {}
    for index, (line_id, raw_quantity, raw_scrap) in enumerate(lines):
        quantity = parse_quantity(raw_quantity, f"lines-{index}-quantity", allow_zero=True)
        scrap = parse_quantity(raw_scrap, f"lines-{index}-scrap", allow_zero=True)
        if quantity == 0 and scrap == 0:
            continue
        line = _locked_line(line_id)
        if (
            line is None
            or not line.dispatch.issued
            or (line.dispatch.subcontractor_id != subcontractor.id)
        ):
            raise ContoLavoroError(
                _("This line is not material sent to %(name)s.", name=subcontractor.name),
                f"lines-{index}-quantity",
            )
        balance = line_balances(dispatch_id=line.dispatch_id)
        outstanding = next(b.outstanding for b in balance if b.line.id == line.id)
        outstanding -= taken.get(line.id, ZERO)
        if quantity + scrap > outstanding:
            raise ContoLavoroError(
                _(
                    "Only %(outstanding)s %(unit)s of %(code)s are still out on %(number)s: "
                    "%(quantity)s returned plus %(scrap)s scrap is more.",
                    outstanding=show(outstanding),
                    unit=line.item.unit,
                    code=line.item.code,
                    number=line.dispatch.number,
                    quantity=show(quantity),
                    scrap=show(scrap),
                ),
                f"lines-{index}-quantity",
            )
        taken[line.id] = taken.get(line.id, ZERO) + quantity + scrap
        goods_return.lines.append(
            ReturnLine(dispatch_line_id=line.id, quantity=quantity, scrap=scrap)
        )
    if not goods_return.lines:
        raise ContoLavoroError(_("Enter what came back on at least one line."), "lines-0-quantity")
    db.session.add(goods_return)
    db.session.flush()
    audit.record(
        "conto_lavoro.return_recorded",
        goods_return,
        summary={"subcontractor": subcontractor.name, "reference": reference},
    )
    dispatch_ids = sorted({line.dispatch_line.dispatch_id for line in goods_return.lines})
    events.emit(RETURN_RECORDED, goods_return=goods_return, dispatch_ids=dispatch_ids)
    return goods_return


def _locked_line(line_id: Any) -> DispatchLine | None:
    try:
        line_id = int(line_id)
    except (TypeError, ValueError):
        return None
    return db.session.execute(
        select(DispatchLine).where(DispatchLine.id == line_id).with_for_update()
    ).scalar_one_or_none()


def returns() -> list[GoodsReturn]:
    return list(
        db.session.execute(
            select(GoodsReturn).order_by(GoodsReturn.received_on.desc(), GoodsReturn.id.desc())
        ).scalars()
    )


# --- workflow glue ------------------------------------------------------------------------


def close_if_settled(dispatch: Dispatch) -> bool:
    """Close ``dispatch`` once nothing is out, if the firm's workflow offers ``close`` now.

    Returns whether it was closed. A firm whose workflow has no ``close`` step
    from the current state, or whose conditions refuse it, keeps it open.
    """
    if not dispatch.issued or outstanding_lines(dispatch):
        return False
    for option in workflow.available_transitions(dispatch, DOCUMENT_TYPE, workflow.SYSTEM):
        if option.transition.name == "close" and option.allowed:
            try:
                workflow.apply(
                    dispatch,
                    DOCUMENT_TYPE,
                    "close",
                    role=workflow.SYSTEM,
                    comment=_("Everything came back."),
                )
            except workflow.TransitionRefused:
                return False
            return True
    return False
