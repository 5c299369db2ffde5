"""A workflow definition drawn as a standalone, accessible SVG.

The firm-admin pages show the workflow being edited (and a document page can
show where the document stands) without JavaScript and without a layout
engine: states are laid out left to right by their distance from the initial
state (breadth-first depth), one column per depth, and each transition is an
arrow labelled with its name in the user's language.

The output is deterministic (same definition, same bytes), uses presentation
attributes only (no ``<style>`` and no script, so a strict Content Security
Policy is fine when the SVG is inlined), and escapes every label, which a firm
admin typed and which must never become markup.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from html import escape
from typing import Any

from distretto.platform.workflow.conditions import describe
from distretto.platform.workflow.definitions import (
    Definition,
    State,
    Transition,
    label_text,
    parse,
)

BOX_HEIGHT = 44
MIN_BOX_WIDTH = 110
MAX_BOX_WIDTH = 240
CHAR_WIDTH = 7.5  # average width of a 13px sans-serif character, for sizing boxes
COLUMN_GAP = 150
ROW_GAP = 46
MARGIN = 30
START_RADIUS = 7
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

COLOURS = {
    "box_fill": "#ffffff",
    "box_stroke": "#495057",
    "final_fill": "#e9ecef",
    "final_stroke": "#212529",
    "current_fill": "#fff3cd",
    "current_stroke": "#b35c00",
    "text": "#212529",
    "edge": "#6c757d",
    "edge_label": "#343a40",
    "label_background": "#ffffff",
}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _text(value: Any) -> str:
    """Escape for XML text and attributes; drop characters XML 1.0 forbids."""
    return escape(_CONTROL_CHARS.sub("", str(value)), quote=True)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


@dataclass(frozen=True)
class _Box:
    state: State
    label: str
    depth: int
    row: int
    rows: int
    x: float
    y: float
    width: float

    @property
    def centre_y(self) -> float:
        return self.y + BOX_HEIGHT / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + BOX_HEIGHT


def depths(definition: Definition) -> dict[str, int]:
    """Breadth-first distance of every state from the initial state.

    States that cannot be reached (a definition being edited may have some)
    go in one column after the last.
    """
    names = [s.name for s in definition.states]
    initial = next((s.name for s in definition.states if s.kind == "initial"), None)
    result: dict[str, int] = {}
    if initial is not None:
        result[initial] = 0
        queue = deque([initial])
        while queue:
            current = queue.popleft()
            for transition in definition.transitions:
                if current in transition.sources and transition.target in names:
                    if transition.target not in result:
                        result[transition.target] = result[current] + 1
                        queue.append(transition.target)
    unreachable = max(result.values(), default=-1) + 1
    for name in names:
        result.setdefault(name, unreachable)
    return result


def _layout(definition: Definition, locale: str) -> tuple[dict[str, _Box], float, float]:
    depth_of = depths(definition)
    columns: dict[int, list[State]] = {}
    for state in definition.states:
        columns.setdefault(depth_of[state.name], []).append(state)
    labels = {s.name: label_text(s.label, locale) or s.name for s in definition.states}
    ordered = sorted(columns)
    widths = {
        depth: min(
            MAX_BOX_WIDTH,
            max(
                MIN_BOX_WIDTH,
                max(_text_width(labels[s.name]) + 28 for s in columns[depth]),
            ),
        )
        for depth in ordered
    }
    tallest = max(len(states) for states in columns.values())
    content_height = tallest * BOX_HEIGHT + (tallest - 1) * ROW_GAP
    top = MARGIN + 44  # room for loops and arcs drawn above the boxes
    left = MARGIN + 3 * START_RADIUS + 26  # room for the start marker
    boxes: dict[str, _Box] = {}
    x = left
    for depth in ordered:
        states = columns[depth]
        height = len(states) * BOX_HEIGHT + (len(states) - 1) * ROW_GAP
        y = top + (content_height - height) / 2
        for row, state in enumerate(states):
            boxes[state.name] = _Box(
                state, labels[state.name], depth, row, len(states), x, y, widths[depth]
            )
            y += BOX_HEIGHT + ROW_GAP
        x += widths[depth] + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    height = top + content_height + MARGIN + 60  # room for arcs drawn below the boxes
    return boxes, width, height


def _edge_path(
    source: _Box, target: _Box, lane: int, top: float, bottom: float
) -> tuple[str, float, float]:
    """SVG path data for one arrow and the point where its label goes."""
    offset = lane * 18
    if source.state.name == target.state.name:  # a loop on the state itself
        x1, x2 = source.x + source.width * 0.35, source.x + source.width * 0.65
        y = source.y
        lift = 34 + offset
        path = (
            f"M {_num(x1)} {_num(y)} C {_num(x1)} {_num(y - lift)} "
            f"{_num(x2)} {_num(y - lift)} {_num(x2)} {_num(y)}"
        )
        return path, (x1 + x2) / 2, y - lift * 0.75 - 4
    if target.depth > source.depth:  # forward: right side to left side
        x1, y1 = source.right, source.centre_y
        x2, y2 = target.x, target.centre_y
        bend = (x2 - x1) / 2
        c1y, c2y = y1 + offset, y2 + offset
        path = (
            f"M {_num(x1)} {_num(y1)} C {_num(x1 + bend)} {_num(c1y)} "
            f"{_num(x2 - bend)} {_num(c2y)} {_num(x2)} {_num(y2)}"
        )
        mid_x = (x1 + x2) / 2
        mid_y = (y1 + y2) / 2 + offset * 0.75
        return path, mid_x, mid_y - 6
    # backward or within a column: an arc around the boxes, above them when the
    # source is in the upper half of its column (so it crosses no box below it)
    if source.row < source.rows / 2 and source.rows > 1:
        x1, y1 = source.x + source.width / 2 + 8, source.y
        x2, y2 = target.x + target.width / 2 - 8, target.y
        high = top - 28 - offset
        path = (
            f"M {_num(x1)} {_num(y1)} C {_num(x1)} {_num(high)} "
            f"{_num(x2)} {_num(high)} {_num(x2)} {_num(y2)}"
        )
        return path, (x1 + x2) / 2, high + 18
    x1, y1 = source.x + source.width / 2 + 8, source.bottom
    x2, y2 = target.x + target.width / 2 - 8, target.bottom
    low = bottom + 28 + offset
    path = (
        f"M {_num(x1)} {_num(y1)} C {_num(x1)} {_num(low)} "
        f"{_num(x2)} {_num(low)} {_num(x2)} {_num(y2)}"
    )
    return path, (x1 + x2) / 2, low - 10


def _transition_title(transition: Transition, label: str, boxes: dict[str, _Box]) -> str:
    sources = ", ".join(boxes[s].label for s in transition.sources if s in boxes)
    target = boxes[transition.target].label if transition.target in boxes else transition.target
    parts = [f"{label}: {sources} \u2192 {target}"]
    if transition.permission:
        parts.append(f"needs {transition.permission}")
    if transition.conditions is not None:
        parts.append(f"when {describe(transition.conditions)}")
    if transition.actions:
        parts.append("runs " + ", ".join(a.name for a in transition.actions))
    if transition.comment_required:
        parts.append("comment required")
    if getattr(transition, "automatic", False):
        parts.append("automatic")
    return "; ".join(parts)


def render_svg(
    definition: Definition | dict[str, Any],
    *,
    locale: str = "it",
    current_state: str | None = None,
    title: str | None = None,
    id_prefix: str = "wf",
) -> str:
    """The definition as an SVG document (a string, ready to inline or serve).

    ``current_state`` is highlighted (distinct fill, ``aria-current="step"``).
    ``id_prefix`` keeps element ids unique when a page shows several diagrams.
    ``definition`` may also be the JSON of a valid definition, or a
    :class:`~distretto.platform.workflow.engine.WorkflowDefinition` row.
    """
    if isinstance(getattr(definition, "definition", None), dict):  # a WorkflowDefinition row
        definition = definition.definition  # type: ignore[union-attr]
    if isinstance(definition, dict):
        definition = parse(definition)  # JSON that passed validation
    prefix = _ID_UNSAFE.sub("-", id_prefix) or "wf"
    boxes, width, height = _layout(definition, locale)
    top = min((b.y for b in boxes.values()), default=MARGIN)
    bottom = max((b.bottom for b in boxes.values()), default=MARGIN)
    heading = title or "Workflow"
    state_names = {s.name for s in definition.states}

    summary_states = []
    for state in definition.states:
        kind = {"initial": "start", "final": "end"}.get(state.kind)
        words = boxes[state.name].label + (f" ({kind})" if kind else "")
        if state.name == current_state:
            words += " (current)"
        summary_states.append(words)
    summary_transitions = [
        _transition_title(t, label_text(t.label, locale) or t.name, boxes)
        for t in definition.transitions
    ]
    description = (
        "States: "
        + "; ".join(summary_states)
        + ". Transitions: "
        + (". ".join(summary_transitions) if summary_transitions else "none")
        + "."
    )

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" class="workflow-diagram" '
        f'font-family="{_text(FONT)}" font-size="13">',
        f'<title id="{prefix}-title">{_text(heading)}</title>',
        f'<desc id="{prefix}-desc">{_text(description)}</desc>',
        "<defs>",
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{COLOURS["edge"]}"/></marker>',
        "</defs>",
    ]

    # transitions first, so that boxes are drawn over the arrows' ends
    out.append('<g class="wf-transitions">')
    lanes: dict[tuple[str, str], int] = {}
    for transition in definition.transitions:
        label = label_text(transition.label, locale) or transition.name
        title_text = _transition_title(transition, label, boxes)
        for source_name in transition.sources:
            if source_name not in state_names or transition.target not in state_names:
                continue
            source, target = boxes[source_name], boxes[transition.target]
            key = (source_name, transition.target)
            lane = lanes.get(key, 0)
            lanes[key] = lane + 1
            path, label_x, label_y = _edge_path(source, target, lane, top, bottom)
            label_width = _text_width(label) + 10
            classes = "wf-transition"
            if transition.conditions is not None:
                classes += " wf-transition--guarded"
            if getattr(transition, "automatic", False):
                classes += " wf-transition--automatic"
            out.append(
                f'<g class="{classes}" data-transition="{_text(transition.name)}" '
                f'data-from="{_text(source_name)}" data-to="{_text(transition.target)}">'
            )
            out.append(f"<title>{_text(title_text)}</title>")
            dash = ""
            if getattr(transition, "automatic", False):
                dash = ' stroke-dasharray="2 3"'  # dotted: the platform takes this step
            elif transition.conditions is not None:
                dash = ' stroke-dasharray="5 3"'  # dashed: only when the condition holds
            out.append(
                f'<path d="{path}" fill="none" stroke="{COLOURS["edge"]}" stroke-width="1.5"'
                f'{dash} marker-end="url(#{prefix}-arrow)"/>'
            )
            out.append(
                f'<rect x="{_num(label_x - label_width / 2)}" y="{_num(label_y - 13)}" '
                f'width="{_num(label_width)}" height="18" rx="3" '
                f'fill="{COLOURS["label_background"]}" fill-opacity="0.9"/>'
            )
            out.append(
                f'<text x="{_num(label_x)}" y="{_num(label_y)}" text-anchor="middle" '
                f'fill="{COLOURS["edge_label"]}" font-size="12">{_text(label)}</text>'
            )
            out.append("</g>")
    out.append("</g>")

    out.append('<g class="wf-states">')
    for state in definition.states:
        box = boxes[state.name]
        current = state.name == current_state
        final = state.kind == "final"
        classes = f"wf-state wf-state--{_text(state.kind)}"
        fill, stroke = COLOURS["box_fill"], COLOURS["box_stroke"]
        if final:
            fill, stroke = COLOURS["final_fill"], COLOURS["final_stroke"]
        if current:
            classes += " wf-state--current"
            fill, stroke = COLOURS["current_fill"], COLOURS["current_stroke"]
        kind_words = {"initial": "start", "final": "end"}.get(state.kind)
        accessible = box.label + (f" ({kind_words})" if kind_words else "")
        aria_current = ' aria-current="step"' if current else ""
        out.append(
            f'<g class="{classes}" id="{prefix}-state-{_text(state.name)}" '
            f'data-state="{_text(state.name)}"{aria_current}>'
        )
        out.append(f"<title>{_text(accessible)}</title>")
        stroke_width = "2.5" if current else "1.5"
        out.append(
            f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}" '
            f'height="{BOX_HEIGHT}" rx="{4 if final else 10}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{stroke_width}"/>'
        )
        if final:  # a double border marks an end state
            out.append(
                f'<rect x="{_num(box.x + 4)}" y="{_num(box.y + 4)}" '
                f'width="{_num(box.width - 8)}" height="{BOX_HEIGHT - 8}" rx="2" fill="none" '
                f'stroke="{stroke}" stroke-width="1"/>'
            )
        weight = ' font-weight="bold"' if current or state.kind == "initial" else ""
        out.append(
            f'<text x="{_num(box.x + box.width / 2)}" y="{_num(box.centre_y + 4.5)}" '
            f'text-anchor="middle" fill="{COLOURS["text"]}"{weight}>{_text(box.label)}</text>'
        )
        out.append("</g>")
        if state.kind == "initial":  # the start marker: a dot with an arrow into the state
            cx = box.x - 2 * START_RADIUS - 20
            out.append('<g class="wf-start" aria-hidden="true">')
            out.append(
                f'<circle cx="{_num(cx)}" cy="{_num(box.centre_y)}" r="{START_RADIUS}" '
                f'fill="{COLOURS["final_stroke"]}"/>'
            )
            out.append(
                f'<path d="M {_num(cx + START_RADIUS)} {_num(box.centre_y)} L {_num(box.x)} '
                f'{_num(box.centre_y)}" stroke="{COLOURS["final_stroke"]}" stroke-width="1.5" '
                f'marker-end="url(#{prefix}-arrow)"/>'
            )
            out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_document(document: Any, *, locale: str = "it", title: str | None = None) -> str:
    """The workflow version ``document`` runs on, with its current state highlighted."""
    from distretto.platform.workflow.engine import definition_of

    _row, definition = definition_of(document)
    return render_svg(
        definition,
        locale=locale,
        current_state=document.state,
        title=title,
        id_prefix=f"wf-{type(document).__name__.lower()}-{document.id}",
    )
