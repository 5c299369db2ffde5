"""The structured workflow editor's model: a definition as table rows, and back.

The firm-admin page edits a workflow definition (see
:mod:`distretto.platform.workflow.definitions`) as tables a person fills in:
states, transitions, and per transition rows of conditions and actions. This
module turns a definition into those rows, reads the rows back from a posted
form, applies the editor's buttons (add a row, remove a row) and builds the
definition JSON again. It checks nothing about the workflow itself: that is
``engine.check_definition``'s job, whose messages name the part at fault.

Whatever the tables do not show (a state's ``description``, a transition's
``style``, conditions nested deeper than one all/any list) travels in hidden
fields, so saving through the tables never drops it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

STATE_KEYS = ("name", "label", "kind", "locked_fields")
TRANSITION_KEYS = (
    "name",
    "label",
    "from",
    "to",
    "permission",
    "conditions",
    "actions",
    "comment_required",
)
LIST_OPERATORS = ("in", "not_in")
UNARY_OPERATORS = ("is_empty", "is_not_empty")
MATCHES = ("all", "any")

_ROW_RE = re.compile(r"^(states|transitions)-(\d{1,3})-(.+)$")
_SUB_RE = re.compile(r"^(conditions|actions)-(\d{1,3})-(.+)$")
MAX_ROWS = 200


class EditorProblem(ValueError):
    """The posted rows cannot become a definition (bad parameters JSON); names the part."""


# --- definition -> rows ---------------------------------------------------------------


def split_label(label: Any, preferred: str = "it") -> tuple[str, str]:
    """(Italian, English) of a label; a plain string goes to the ``preferred`` language."""
    if isinstance(label, dict):
        return str(label.get("it") or ""), str(label.get("en") or "")
    text = "" if label is None else str(label)
    return (text, "") if preferred == "it" else ("", text)


def join_label(label_it: str, label_en: str) -> Any:
    label_it, label_en = label_it.strip(), label_en.strip()
    if label_it and label_en:
        return {"it": label_it, "en": label_en}
    return label_it or label_en or None


def _flat_condition(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and "field" in condition
        and not (set(condition) - {"field", "op", "value"})
    )


def _condition_rows(condition: Any) -> tuple[str, list[dict[str, str]], str]:
    """(match, rows, advanced JSON): what the tables can show, or the JSON they cannot."""
    if condition is None:
        return "all", [], ""
    if _flat_condition(condition):
        return "all", [_condition_row(condition)], ""
    if isinstance(condition, dict) and len(condition) == 1:
        match = next(iter(condition))
        items = condition[match]
        if match in MATCHES and isinstance(items, list) and all(map(_flat_condition, items)):
            return match, [_condition_row(c) for c in items], ""
    return "all", [], json.dumps(condition, ensure_ascii=False)


def _condition_row(condition: dict[str, Any]) -> dict[str, str]:
    value = condition.get("value")
    if isinstance(value, list):
        shown = ", ".join("" if v is None else str(v) for v in value)
    elif value is None:
        shown = ""
    elif isinstance(value, bool):
        shown = "true" if value else "false"
    else:
        shown = str(value)
    return {
        "field": str(condition.get("field") or ""),
        "op": str(condition.get("op") or ""),
        "value": shown,
    }


def _extra(item: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in known}


def model_from_definition(data: Any, preferred_language: str = "it") -> dict[str, Any]:
    """The editor rows of a definition (assumed roughly well-formed; odd parts are kept)."""
    data = data if isinstance(data, dict) else {}
    states = []
    for state in data.get("states") or []:
        if not isinstance(state, dict):
            continue
        label_it, label_en = split_label(state.get("label"), preferred_language)
        locked = state.get("locked_fields") or []
        states.append(
            {
                "original": str(state.get("name") or ""),
                "name": str(state.get("name") or ""),
                "label_it": label_it,
                "label_en": label_en,
                "kind": str(state.get("kind") or "normal"),
                "locked_fields": [str(f) for f in locked] if isinstance(locked, list) else [],
                "extra": _extra(state, STATE_KEYS),
            }
        )
    transitions = []
    for transition in data.get("transitions") or []:
        if not isinstance(transition, dict):
            continue
        label_it, label_en = split_label(transition.get("label"), preferred_language)
        sources = transition.get("from")
        sources = sources if isinstance(sources, list) else ([sources] if sources else [])
        match, rows, advanced = _condition_rows(transition.get("conditions"))
        actions = []
        for call in transition.get("actions") or []:
            if isinstance(call, dict):
                params = call.get("params")
                actions.append(
                    {
                        "name": str(call.get("name") or ""),
                        "params": json.dumps(params, ensure_ascii=False) if params else "",
                    }
                )
        transitions.append(
            {
                "original": str(transition.get("name") or ""),
                "name": str(transition.get("name") or ""),
                "label_it": label_it,
                "label_en": label_en,
                "sources": [str(s) for s in sources],
                "target": str(transition.get("to") or ""),
                "permission": str(transition.get("permission") or ""),
                "match": match,
                "conditions": rows,
                "advanced_conditions": advanced,
                "actions": actions,
                "comment_required": transition.get("comment_required") is True,
                "extra": _extra(transition, TRANSITION_KEYS),
            }
        )
    return {
        "extra": _extra(data, ("states", "transitions")),
        "states": states,
        "transitions": transitions,
    }


# --- posted form -> rows ----------------------------------------------------------------


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def model_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """Read the rows back from a posted form (field names ``states-0-name`` and so on)."""
    rows: dict[str, dict[int, dict[str, Any]]] = {"states": {}, "transitions": {}}
    for key in form:
        match = _ROW_RE.match(key)
        if not match:
            continue
        kind, index, rest = match.group(1), int(match.group(2)), match.group(3)
        if index >= MAX_ROWS:
            continue
        row = rows[kind].setdefault(index, {})
        sub = _SUB_RE.match(rest) if kind == "transitions" else None
        if sub:
            sub_rows = row.setdefault(sub.group(1), {})
            sub_index = int(sub.group(2))
            if sub_index < MAX_ROWS:
                sub_rows.setdefault(sub_index, {})[sub.group(3)] = form.get(key, "")
        elif rest in ("locked_fields", "sources"):
            row[rest] = form.getlist(key)
        else:
            row[rest] = form.get(key, "")

    states = [
        {
            "original": str(row.get("original", "")).strip(),
            "name": str(row.get("name", "")).strip(),
            "label_it": str(row.get("label_it", "")),
            "label_en": str(row.get("label_en", "")),
            "kind": str(row.get("kind", "normal")),
            "locked_fields": [f for f in row.get("locked_fields", []) if f],
            "extra": _json_object(row.get("extra")),
        }
        for _index, row in sorted(rows["states"].items())
    ]
    transitions = []
    for _index, row in sorted(rows["transitions"].items()):
        conditions = [
            {
                "field": str(c.get("field", "")),
                "op": str(c.get("op", "")),
                "value": str(c.get("value", "")),
            }
            for _j, c in sorted(row.get("conditions", {}).items())
        ]
        actions = [
            {"name": str(a.get("name", "")), "params": str(a.get("params", ""))}
            for _j, a in sorted(row.get("actions", {}).items())
        ]
        transitions.append(
            {
                "original": str(row.get("original", "")).strip(),
                "name": str(row.get("name", "")).strip(),
                "label_it": str(row.get("label_it", "")),
                "label_en": str(row.get("label_en", "")),
                "sources": [s for s in row.get("sources", []) if s],
                "target": str(row.get("target", "")),
                "permission": str(row.get("permission", "")),
                "match": row.get("match") if row.get("match") in MATCHES else "all",
                "conditions": conditions,
                "advanced_conditions": str(row.get("advanced_conditions", "")),
                "actions": actions,
                "comment_required": row.get("comment_required") in ("y", "on", "true", "1"),
                "extra": _json_object(row.get("extra")),
            }
        )
    model = {"extra": _json_object(form.get("extra")), "states": states, "transitions": transitions}
    follow_renames(model)
    return model


def follow_renames(model: dict[str, Any]) -> None:
    """A state renamed in its row is renamed in every transition that names it."""
    renames = {
        s["original"]: s["name"]
        for s in model["states"]
        if s["original"] and s["name"] and s["original"] != s["name"]
    }
    for transition in model["transitions"]:
        transition["sources"] = [renames.get(s, s) for s in transition["sources"]]
        transition["target"] = renames.get(transition["target"], transition["target"])
    for state in model["states"]:
        state["original"] = state["name"]
    for transition in model["transitions"]:
        transition["original"] = transition["name"]


# --- the editor's buttons -------------------------------------------------------------------


def blank_state() -> dict[str, Any]:
    return {
        "original": "",
        "name": "",
        "label_it": "",
        "label_en": "",
        "kind": "normal",
        "locked_fields": [],
        "extra": {},
    }


def blank_transition() -> dict[str, Any]:
    return {
        "original": "",
        "name": "",
        "label_it": "",
        "label_en": "",
        "sources": [],
        "target": "",
        "permission": "",
        "match": "all",
        "conditions": [],
        "advanced_conditions": "",
        "actions": [],
        "comment_required": False,
        "extra": {},
    }


def apply_operation(model: dict[str, Any], operation: str) -> str | None:
    """Apply one editor button (``add_state``, ``remove_transition:2``, ``add_condition:0``...).

    Returns the id of the input to focus afterwards (the new row's first input),
    or None. Unknown operations and indexes out of range change nothing.
    """
    name, _sep, args = (operation or "").partition(":")
    try:
        indexes = [int(a) for a in args.split(":")] if args else []
    except ValueError:
        return None
    states, transitions = model["states"], model["transitions"]

    def transition(i: int) -> dict[str, Any] | None:
        return transitions[i] if 0 <= i < len(transitions) else None

    if name == "add_state" and len(states) < MAX_ROWS:
        states.append(blank_state())
        return f"states-{len(states) - 1}-name"
    if name == "remove_state" and len(indexes) == 1 and 0 <= indexes[0] < len(states):
        del states[indexes[0]]
        return "add-state"
    if name == "add_transition" and len(transitions) < MAX_ROWS:
        transitions.append(blank_transition())
        return f"transitions-{len(transitions) - 1}-name"
    if name == "remove_transition" and len(indexes) == 1 and transition(indexes[0]):
        del transitions[indexes[0]]
        return "add-transition"
    if name in ("add_condition", "add_action") and len(indexes) == 1:
        row = transition(indexes[0])
        if row is None:
            return None
        key = "conditions" if name == "add_condition" else "actions"
        if len(row[key]) >= MAX_ROWS:
            return None
        if key == "conditions":
            row["advanced_conditions"] = ""
            row["conditions"].append({"field": "", "op": "==", "value": ""})
            return f"transitions-{indexes[0]}-conditions-{len(row[key]) - 1}-field"
        row["actions"].append({"name": "", "params": ""})
        return f"transitions-{indexes[0]}-actions-{len(row[key]) - 1}-name"
    if name in ("remove_condition", "remove_action") and len(indexes) == 2:
        row = transition(indexes[0])
        key = "conditions" if name == "remove_condition" else "actions"
        if row is not None and 0 <= indexes[1] < len(row[key]):
            del row[key][indexes[1]]
            return f"add-{key[:-1]}-{indexes[0]}"
        return None
    if name in ("action_up", "action_down") and len(indexes) == 2:
        row = transition(indexes[0])
        if row is None:
            return None
        i = indexes[1]
        j = i - 1 if name == "action_up" else i + 1
        if 0 <= i < len(row["actions"]) and 0 <= j < len(row["actions"]):
            row["actions"][i], row["actions"][j] = row["actions"][j], row["actions"][i]
            return f"transitions-{indexes[0]}-actions-{j}-name"
    if name == "clear_advanced" and len(indexes) == 1:
        row = transition(indexes[0])
        if row is not None:
            row["advanced_conditions"] = ""
            return f"add-condition-{indexes[0]}"
    return None


# --- rows -> definition ---------------------------------------------------------------------


def _condition_value(op: str, text: str) -> Any:
    if op in LIST_OPERATORS:
        return [part.strip() for part in text.split(",") if part.strip()]
    return text.strip()


def definition_from_model(model: dict[str, Any]) -> dict[str, Any]:
    """The definition JSON of the rows; raises :class:`EditorProblem` listing what cannot
    be read (parameters that are not a JSON object). Rows left entirely blank are skipped.
    """
    problems: list[str] = []
    states = []
    for state in model["states"]:
        if not (state["name"] or state["label_it"].strip() or state["label_en"].strip()):
            continue
        item: dict[str, Any] = {"name": state["name"]}
        label = join_label(state["label_it"], state["label_en"])
        if label is not None:
            item["label"] = label
        if state["kind"] != "normal":
            item["kind"] = state["kind"]
        if state["locked_fields"]:
            item["locked_fields"] = list(state["locked_fields"])
        item.update(state["extra"])
        states.append(item)
    transitions = []
    for transition in model["transitions"]:
        if not (
            transition["name"]
            or transition["label_it"].strip()
            or transition["label_en"].strip()
            or transition["sources"]
            or transition["target"]
        ):
            continue
        where = f"transitions[{len(transitions)}] {transition['name']!r}"
        item = {"name": transition["name"]}
        label = join_label(transition["label_it"], transition["label_en"])
        if label is not None:
            item["label"] = label
        item["from"] = list(transition["sources"])
        item["to"] = transition["target"]
        if transition["permission"]:
            item["permission"] = transition["permission"]
        rows = [c for c in transition["conditions"] if c["field"] or c["value"].strip()]
        if rows:
            leaves = []
            for row in rows:
                leaf: dict[str, Any] = {"field": row["field"], "op": row["op"]}
                if row["op"] not in UNARY_OPERATORS:
                    leaf["value"] = _condition_value(row["op"], row["value"])
                leaves.append(leaf)
            item["conditions"] = leaves[0] if len(leaves) == 1 else {transition["match"]: leaves}
        elif transition["advanced_conditions"].strip():
            try:
                item["conditions"] = json.loads(transition["advanced_conditions"])
            except ValueError:
                problems.append(f"{where}.conditions: not valid JSON")
        calls = []
        for a_index, action in enumerate(transition["actions"]):
            if not action["name"]:
                continue
            call: dict[str, Any] = {"name": action["name"]}
            if action["params"].strip():
                try:
                    params = json.loads(action["params"])
                except ValueError:
                    params = None
                if not isinstance(params, dict):
                    problems.append(
                        f"{where}.actions[{a_index}]: parameters must be a JSON object, "
                        'such as {"note": "done"}'
                    )
                    params = {}
                if params:
                    call["params"] = params
            calls.append(call)
        if calls:
            item["actions"] = calls
        if transition["comment_required"]:
            item["comment_required"] = True
        item.update(transition["extra"])
        transitions.append(item)
    if problems:
        raise EditorProblem("; ".join(problems))
    definition: dict[str, Any] = dict(model["extra"])
    definition["states"] = states
    definition["transitions"] = transitions
    return definition


def normalised(data: Any) -> Any:
    """A definition with its defaults spelled out, so that comparing two shows real changes."""
    if not isinstance(data, dict):
        return data
    result = dict(data)
    result["states"] = [
        {"kind": "normal", "locked_fields": [], "label": s.get("name"), **s}
        if isinstance(s, dict)
        else s
        for s in data.get("states") or []
    ]
    transitions = []
    for t in data.get("transitions") or []:
        if isinstance(t, dict):
            t = {
                "permission": None,
                "conditions": None,
                "actions": [],
                "comment_required": False,
                "label": t.get("name"),
                **t,
            }
            if not isinstance(t.get("from"), list):
                t["from"] = [t.get("from")]
            t["actions"] = [
                {"params": {}, **a} if isinstance(a, dict) else a for a in t["actions"] or []
            ]
        transitions.append(t)
    result["transitions"] = transitions
    return result
