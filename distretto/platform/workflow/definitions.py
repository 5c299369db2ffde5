"""Workflow definitions: states and transitions of one document type, as JSON.

A definition is data a firm edits, so it is validated before it is saved and
every error names the offending part (``transitions[2] 'approve': unknown
state 'approoved'``)::

    {
      "states": [
        {"name": "draft", "label": {"it": "Bozza", "en": "Draft"}, "kind": "initial",
         "locked_fields": []},
        {"name": "confirmed", "label": "Confirmed", "kind": "normal", "locked_fields": ["lines"]},
        {"name": "done", "label": "Done", "kind": "final"}
      ],
      "transitions": [
        {"name": "confirm", "label": "Confirm", "from": ["draft"], "to": "confirmed",
         "permission": "orders.confirm",
         "conditions": {"field": "total", "op": ">", "value": "0"},
         "actions": [{"name": "inventory.reserve_stock", "params": {}}],
         "comment_required": false}
      ]
    }
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from distretto.platform.workflow import conditions

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STATE_KINDS = ("initial", "normal", "final")
#: Names the engine writes into the history itself (document created, migrated).
RESERVED_TRANSITIONS = ("create", "migrate")
#: Button styles a transition may ask for (Bootstrap's, so pages can use them as is).
TRANSITION_STYLES = (
    "primary",
    "secondary",
    "success",
    "danger",
    "warning",
    "info",
    "light",
    "dark",
)


class DefinitionError(ValueError):
    """The definition is invalid; ``problems`` lists every fault, each naming its part."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class State:
    name: str
    label: Any
    kind: str = "normal"
    locked_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionCall:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    sources: tuple[str, ...]
    target: str
    permission: str | None = None
    conditions: Any = None
    actions: tuple[ActionCall, ...] = ()
    comment_required: bool = False
    style: str = "primary"
    automatic: bool = False  # taken by the platform (e.g. when goods ship), never by a person


@dataclass(frozen=True)
class Definition:
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]

    @property
    def initial(self) -> State:
        return next(s for s in self.states if s.kind == "initial")

    def state(self, name: str) -> State | None:
        return next((s for s in self.states if s.name == name), None)

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def is_final(self, state: str) -> bool:
        found = self.state(state)
        return found is not None and found.kind == "final"


def label_text(label: Any, locale: str = "it") -> str:
    """A label may be a plain string or ``{"it": ..., "en": ...}``."""
    if isinstance(label, dict):
        return str(
            label.get(locale)
            or label.get("en")
            or label.get("it")
            or next(iter(label.values()), "")
        )
    return str(label or "")


def _label_problem(label: Any) -> str | None:
    if label is None or (isinstance(label, str) and len(label) <= 120):
        return None
    if (
        isinstance(label, dict)
        and label
        and all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 120 for k, v in label.items()
        )
    ):
        return None
    return "label must be text, or an object of texts by language (up to 120 characters)"


def _hashable_text(value: Any) -> bool:
    return isinstance(value, str)


def parse(data: Any) -> Definition:
    """Build a :class:`Definition` from JSON that already passed :func:`validate`."""
    states = tuple(
        State(
            name=s["name"],
            label=s.get("label") or s["name"],
            kind=s.get("kind", "normal"),
            locked_fields=tuple(s.get("locked_fields") or ()),
        )
        for s in data["states"]
    )
    transitions = tuple(
        Transition(
            name=t["name"],
            label=t.get("label") or t["name"],
            sources=tuple(t["from"] if isinstance(t["from"], list) else [t["from"]]),
            target=t["to"],
            permission=t.get("permission"),
            conditions=t.get("conditions"),
            actions=tuple(
                ActionCall(a["name"], dict(a.get("params") or {})) for a in t.get("actions") or ()
            ),
            comment_required=bool(t.get("comment_required", False)),
            automatic=bool(t.get("automatic", False)),
            style=t.get("style", "primary"),
        )
        for t in data["transitions"]
    )
    return Definition(states, transitions)


def validate(
    data: Any,
    *,
    fields: Mapping[str, str],
    actions: Collection[str],
    permissions: Collection[str],
    lockable_fields: Collection[str] | None = None,
) -> list[str]:
    """Every fault of ``data``; empty means valid.

    ``fields`` are the condition fields (name -> type) including the firm's
    custom fields; ``actions`` the action names the firm's enabled modules
    offer for this document type; ``permissions`` the known permission names.
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["the definition must be a JSON object with 'states' and 'transitions'"]
    unknown_keys = set(data) - {"states", "transitions", "document_type", "label", "description"}
    if unknown_keys:
        problems.append(f"unknown keys {sorted(unknown_keys)}")
    states = data.get("states")
    transitions = data.get("transitions")
    if not isinstance(states, list) or not states:
        return problems + ["'states' must be a non-empty list"]
    if not isinstance(transitions, list):
        return problems + ["'transitions' must be a list"]
    lockable = set(lockable_fields) if lockable_fields is not None else set(fields)

    names: list[str] = []
    kinds: dict[str, str] = {}
    for index, state in enumerate(states):
        where = f"states[{index}]"
        if not isinstance(state, dict):
            problems.append(f"{where}: must be an object")
            continue
        name = state.get("name")
        where = f"{where} {name!r}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append(f"{where}: name must be lower-case letters, digits and _ (max 40)")
            continue
        if name in names:
            problems.append(f"{where}: duplicate state name")
        names.append(name)
        kind = state.get("kind", "normal")
        if not isinstance(kind, str) or kind not in STATE_KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(STATE_KINDS)}")
        kinds.setdefault(name, kind)
        extra = set(state) - {"name", "label", "kind", "locked_fields", "description"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        label_problem = _label_problem(state.get("label"))
        if label_problem:
            problems.append(f"{where}: {label_problem}")
        locked = state.get("locked_fields") or []
        if not isinstance(locked, list):
            problems.append(f"{where}: locked_fields must be a list")
        else:
            for item in locked:
                if item != "*" and (not _hashable_text(item) or item not in lockable):
                    problems.append(f"{where}: cannot lock unknown field {item!r}")
    initial = [n for n, k in kinds.items() if k == "initial"]
    if not initial:
        problems.append("no initial state: exactly one state must have kind 'initial'")
    elif len(initial) > 1:
        problems.append(
            f"{len(initial)} initial states ({', '.join(map(repr, initial))}): "
            "exactly one state must have kind 'initial'"
        )

    transition_names: set[str] = set()
    edges: dict[str, set[str]] = {n: set() for n in names}
    for index, transition in enumerate(transitions):
        where = f"transitions[{index}]"
        if not isinstance(transition, dict):
            problems.append(f"{where}: must be an object")
            continue
        name = transition.get("name")
        where = f"{where} {name!r}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append(f"{where}: name must be lower-case letters, digits and _ (max 40)")
        elif name in RESERVED_TRANSITIONS:
            problems.append(f"{where}: the name {name!r} is reserved for the history")
        elif name in transition_names:
            problems.append(f"{where}: duplicate transition name")
        else:
            transition_names.add(name)
        label_problem = _label_problem(transition.get("label"))
        if label_problem:
            problems.append(f"{where}: {label_problem}")
        style = transition.get("style", "primary")
        if style not in TRANSITION_STYLES:
            problems.append(f"{where}: style must be one of {', '.join(TRANSITION_STYLES)}")
        extra = set(transition) - {
            "name",
            "label",
            "from",
            "to",
            "permission",
            "conditions",
            "actions",
            "comment_required",
            "style",
            "description",
            "automatic",
        }
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        sources = transition.get("from")
        sources = sources if isinstance(sources, list) else [sources]
        if not sources or sources == [None]:
            problems.append(f"{where}: 'from' must name at least one state")
            sources = []
        target = transition.get("to")
        for source in sources:
            if not _hashable_text(source) or source not in kinds:
                problems.append(f"{where}: unknown state {source!r} in 'from'")
            elif kinds[source] == "final":
                problems.append(f"{where}: cannot leave the final state {source!r}")
        if not _hashable_text(target) or target not in kinds:
            problems.append(f"{where}: unknown state {target!r} in 'to'")
        else:
            for source in sources:
                if _hashable_text(source) and source in edges:
                    edges[source].add(target)
        permission = transition.get("permission")
        if permission is not None and (
            not _hashable_text(permission) or permission not in permissions
        ):
            problems.append(f"{where}: unknown permission {permission!r}")
        problems += conditions.validate(transition.get("conditions"), fields, f"{where}.conditions")
        calls = transition.get("actions") or []
        if not isinstance(calls, list):
            problems.append(f"{where}: actions must be a list")
            calls = []
        for a_index, call in enumerate(calls):
            a_where = f"{where}.actions[{a_index}]"
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                problems.append(f"{a_where}: must be an object with a 'name'")
            elif call["name"] not in actions:
                problems.append(f"{a_where}: unknown action {call['name']!r}")
            elif not isinstance(call.get("params", {}), dict):
                problems.append(f"{a_where}: params must be an object")
        if not isinstance(transition.get("automatic", False), bool):
            problems.append(f"{where}: automatic must be true or false")
        if not isinstance(transition.get("comment_required", False), bool):
            problems.append(f"{where}: comment_required must be true or false")

    if len(initial) == 1:
        reachable = {initial[0]}
        frontier = [initial[0]]
        while frontier:
            current = frontier.pop()
            for nxt in edges.get(current, ()):
                if nxt not in reachable:
                    reachable.add(nxt)
                    frontier.append(nxt)
        for name in dict.fromkeys(names):
            if name not in reachable:
                problems.append(f"state {name!r} cannot be reached from the initial state")
    return problems


def diff(old: Any, new: Any) -> dict[str, list[str]]:
    """What changed between two definitions, by state and transition name."""

    def index(data: Any, key: str) -> dict[str, Any]:
        items = data.get(key) if isinstance(data, dict) else None
        return {
            item["name"]: item
            for item in items or []
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }

    result: dict[str, list[str]] = {
        "states_added": [],
        "states_removed": [],
        "states_changed": [],
        "transitions_added": [],
        "transitions_removed": [],
        "transitions_changed": [],
    }
    for key in ("states", "transitions"):
        before, after = index(old, key), index(new, key)
        result[f"{key}_added"] = sorted(set(after) - set(before))
        result[f"{key}_removed"] = sorted(set(before) - set(after))
        result[f"{key}_changed"] = sorted(
            name for name in set(before) & set(after) if before[name] != after[name]
        )
    return result
