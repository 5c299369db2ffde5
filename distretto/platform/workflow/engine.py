"""The workflow engine: versions per firm, guarded transitions, history.

* A firm's documents of one type follow the firm's *current* definition when
  they start, and keep that version to the end (``workflow_id``), unless the
  firm migrates them explicitly with a state mapping.
* Until a firm customises a document type it follows the module's default; the
  default is copied into the firm's versions the first time it is needed, so
  every document points at an immutable row.
* A transition checks the source state, the member's permission, the
  declarative conditions and the comment; then runs its actions in order in a
  savepoint: if one fails, nothing of the transition remains and the user is
  told why.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from distretto.platform import audit, events
from distretto.platform.context import current_actor_id
from distretto.platform.db import BigId, TenantOwned, db, tenant_ref, utcnow
from distretto.platform.documents import ActionContext, ActionError, DocumentType
from distretto.platform.workflow import conditions
from distretto.platform.workflow.definitions import (
    Definition,
    DefinitionError,
    Transition,
    diff,
    label_text,
    parse,
    validate,
)


class WorkflowDefinition(TenantOwned, db.Model):
    """One published, immutable version of a firm's workflow for a document type."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_type", "version"),
        Index("ix_workflow_definitions_current", "tenant_id", "document_type", "is_current"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column()
    definition: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(80), default="default")
    base_default: Mapped[dict | None] = mapped_column(JSON)
    base_default_hash: Mapped[str | None] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class WorkflowHistory(TenantOwned, db.Model):
    """Every move of every document: who, when, from, to, why."""

    __tablename__ = "workflow_history"
    __table_args__ = (
        Index("ix_workflow_history_document", "tenant_id", "document_type", "document_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_type: Mapped[str] = mapped_column(String(60))
    document_id: Mapped[int] = mapped_column(BigId)
    workflow_id: Mapped[int] = tenant_ref("workflow_definitions")
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransitionRefused(Exception):
    """The transition cannot happen; the message says why, for the user."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AvailableTransition:
    transition: Transition
    allowed: bool
    reason: str | None

    @property
    def name(self) -> str:
        return self.transition.name


SYSTEM = object()  # pass as ``role`` to act as the platform (no permission check)


def definition_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _copy(data: Any) -> Any:
    """A private JSON copy, so a caller (or a module's default) mutated later changes nothing."""
    return json.loads(json.dumps(data))


@lru_cache(maxsize=4096)
def _parsed(definition_id: int, tenant_id: int, payload: str) -> Definition:
    return parse(json.loads(payload))


def parsed(row: WorkflowDefinition) -> Definition:
    """Definitions are immutable, so their parsed form is cached by id."""
    return _parsed(row.id, row.tenant_id, json.dumps(row.definition, sort_keys=True))


# --- which definitions exist ---------------------------------------------------


def document_type(name: str) -> DocumentType:
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get(name)
    if doc_type is None:
        raise LookupError(f"unknown document type {name!r}")
    return doc_type


def _current_row(doc_type_name: str) -> WorkflowDefinition | None:
    return (
        db.session.execute(
            select(WorkflowDefinition)
            .where(
                WorkflowDefinition.document_type == doc_type_name,
                WorkflowDefinition.is_current.is_(True),
            )
            .order_by(WorkflowDefinition.version.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def current_definition(doc_type_name: str, *, _attempts: int = 3) -> WorkflowDefinition:
    """The firm's current version; the module default is copied in on first use.

    A firm that never customised the document type follows the module's
    default as it evolves: a changed default becomes the firm's next version.
    Raises LookupError for a document type with no workflow at all.
    """
    doc_type = document_type(doc_type_name)
    row = _current_row(doc_type_name)
    default = doc_type.default_workflow
    if row is not None and (
        row.source != "default" or not default or definition_hash(default) == row.base_default_hash
    ):
        return row
    if row is None and not default:
        raise LookupError(f"document type {doc_type_name!r} has no workflow")
    try:
        with db.session.begin_nested():
            return _insert_version(doc_type_name, default, source="default", base_default=default)
    except IntegrityError:  # another request copied the same version a moment ago
        if _attempts <= 1:
            raise
        return current_definition(doc_type_name, _attempts=_attempts - 1)


def pending_default_change(doc_type_name: str) -> dict[str, list[str]] | None:
    """For a firm that customised: what the module changed in its default since.

    None when nothing changed (or the firm follows the default).
    """
    row = current_definition(doc_type_name)
    default = document_type(doc_type_name).default_workflow
    if row.source == "default" or not default or not row.base_default:
        return None
    if definition_hash(default) == row.base_default_hash:
        return None
    return diff(row.base_default, default)


def versions(doc_type_name: str) -> list[WorkflowDefinition]:
    return list(
        db.session.execute(
            select(WorkflowDefinition)
            .where(WorkflowDefinition.document_type == doc_type_name)
            .order_by(WorkflowDefinition.version.desc())
        ).scalars()
    )


# --- validation and publishing -----------------------------------------------


def validation_context(doc_type_name: str) -> dict[str, Any]:
    """Fields, actions and permissions a definition of this type may use, for this firm.

    Actions of every installed module count, not only the firm's enabled ones:
    a step whose action belongs to a module the firm has switched off simply
    does without it (see :func:`apply`), so a district template or a module
    default can name ``inventory.reserve_stock`` for firms with and without
    inventory.
    """
    from distretto.platform import customfields
    from distretto.platform.modules import registry
    from distretto.platform.permissions import all_permissions

    doc_type = document_type(doc_type_name)
    fields = dict(doc_type.condition_fields())
    fields.update(customfields.condition_fields(doc_type_name))
    lockable = set(doc_type.lockable_fields) | set(fields)
    return {
        "fields": fields,
        "actions": [
            a.name
            for a in registry.actions.values()
            if not a.document_types or doc_type_name in a.document_types
        ],
        "permissions": list(all_permissions()),
        "lockable_fields": lockable,
    }


def check_definition(doc_type_name: str, data: Any) -> list[str]:
    return validate(data, **validation_context(doc_type_name))


def publish(
    doc_type_name: str,
    data: Any,
    *,
    source: str = "custom",
    note: str | None = None,
    adopt_default: bool = False,
) -> WorkflowDefinition:
    """Validate and publish a new version; documents already started keep theirs.

    The new version remembers which module default it was based on, so that
    :func:`pending_default_change` can show what the module changed since.
    ``adopt_default=True`` says the firm has taken the module's current default
    into account (it merged the diff), which clears the pending change.
    """
    problems = check_definition(doc_type_name, data)
    if problems:
        raise DefinitionError(problems)
    default = document_type(doc_type_name).default_workflow
    current = current_definition(doc_type_name) if default else _current_row(doc_type_name)
    if adopt_default or current is None:
        base_default = default
    else:
        base_default = current.base_default
    row = _insert_version(doc_type_name, data, source=source, base_default=base_default, note=note)
    audit.record(
        "workflow.published",
        row,
        summary={"document_type": doc_type_name, "version": row.version, "source": source},
    )
    return row


def _insert_version(
    doc_type_name: str,
    data: Any,
    *,
    source: str,
    base_default: Any,
    note: str | None = None,
) -> WorkflowDefinition:
    last = db.session.execute(
        select(func.max(WorkflowDefinition.version)).where(
            WorkflowDefinition.document_type == doc_type_name
        )
    ).scalar_one()
    db.session.execute(
        update(WorkflowDefinition)
        .where(WorkflowDefinition.document_type == doc_type_name)
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    row = WorkflowDefinition(
        document_type=doc_type_name,
        version=(last or 0) + 1,
        definition=_copy(data),
        source=source,
        base_default=_copy(base_default) if base_default else None,
        base_default_hash=definition_hash(base_default) if base_default else None,
        is_current=True,
        note=note,
        published_by_id=current_actor_id(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def reset_to_default(doc_type_name: str) -> WorkflowDefinition:
    """Go back to following the module's default (a new version, not a rewrite)."""
    default = document_type(doc_type_name).default_workflow
    if not default:
        raise LookupError(f"document type {doc_type_name!r} has no default workflow")
    row = _insert_version(doc_type_name, default, source="default", base_default=default)
    audit.record(
        "workflow.reset", row, summary={"document_type": doc_type_name, "version": row.version}
    )
    return row


# --- documents ------------------------------------------------------------------------


def start(document: Any, doc_type_name: str) -> None:
    """Put a new document on the firm's current workflow, in its initial state.

    Adds the document to the session and flushes it (it needs its id for the history).
    """
    row = current_definition(doc_type_name)
    definition = parsed(row)
    document.workflow_id = row.id
    document.state = definition.initial.name
    db.session.add(document)
    db.session.flush()
    db.session.add(
        WorkflowHistory(
            document_type=doc_type_name,
            document_id=document.id,
            workflow_id=row.id,
            transition="create",
            from_state=None,
            to_state=definition.initial.name,
            user_id=current_actor_id(),
        )
    )


def definition_of(document: Any) -> tuple[WorkflowDefinition, Definition]:
    row = db.session.get(WorkflowDefinition, document.workflow_id)
    if row is None:
        raise LookupError("the document's workflow version is missing")
    return row, parsed(row)


def document_values(document: Any, doc_type: DocumentType) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in doc_type.fields.items():
        values[name] = spec.getter(document) if spec.getter else getattr(document, name, None)
    for name, value in (getattr(document, "custom", None) or {}).items():
        values.setdefault(name, value)
    return values


def _refusal(
    document: Any,
    doc_type: DocumentType,
    transition: Transition,
    role: Any,
    fields: dict[str, str],
) -> str | None:
    from flask_babel import gettext as _

    from distretto.platform.permissions import role_has

    if document.state not in transition.sources:
        return _("Not possible from the state %(state)s.", state=document.state)
    if role is not SYSTEM and transition.permission:
        try:
            allowed = role_has(role, transition.permission)
        except KeyError:  # the module that declared the permission is gone
            allowed = False
        if not allowed:
            return _("Your role does not allow this step.")
    if transition.conditions is not None and not conditions.evaluate(
        transition.conditions, document_values(document, doc_type), fields
    ):
        return _(
            "Condition not met: %(condition)s.",
            condition=conditions.describe(transition.conditions, _field_labels(doc_type)),
        )
    return None


def _field_labels(doc_type: DocumentType) -> dict[str, str]:
    from distretto.platform import customfields

    labels = {
        name: str(spec.label) for name, spec in doc_type.fields.items() if spec.label is not None
    }
    for field in customfields.definitions(doc_type.name, include_inactive=True):
        labels.setdefault(field.name, field.label)
    return labels


def available_transitions(
    document: Any, doc_type_name: str, role: Any
) -> list[AvailableTransition]:
    """The transitions out of the document's state, each with whether it is allowed now."""
    _row, definition = definition_of(document)
    doc_type = document_type(doc_type_name)
    fields = _all_fields(doc_type_name)
    result = []
    for transition in definition.transitions_from(document.state):
        if transition.automatic:
            continue
        reason = _refusal(document, doc_type, transition, role, fields)
        result.append(AvailableTransition(transition, reason is None, reason))
    return result


def _all_fields(doc_type_name: str) -> dict[str, str]:
    from distretto.platform import customfields

    fields = dict(document_type(doc_type_name).condition_fields())
    fields.update(customfields.condition_fields(doc_type_name, include_inactive=True))
    return fields


def apply(
    document: Any,
    doc_type_name: str,
    transition_name: str,
    *,
    role: Any,
    comment: str | None = None,
) -> WorkflowHistory:
    """Move the document along ``transition_name`` or raise :class:`TransitionRefused`.

    ``role`` is the member's role (permission checked) or :data:`SYSTEM`.
    """
    from flask_babel import gettext as _

    row, definition = definition_of(document)
    doc_type = document_type(doc_type_name)
    transition = definition.transition(transition_name)
    if transition is None:
        raise TransitionRefused(_("Unknown step %(name)s.", name=transition_name), code="unknown")
    reason = _refusal(document, doc_type, transition, role, _all_fields(doc_type_name))
    if reason:
        raise TransitionRefused(reason)
    comment = (comment or "").strip() or None
    if transition.comment_required and not comment:
        raise TransitionRefused(_("This step needs a comment."), code="comment_required")
    if transition.automatic and role is not SYSTEM:
        raise TransitionRefused(_("This step happens automatically."), code="automatic")
    from_state = document.state
    busy_key = (doc_type_name, id(document))
    _in_progress.add(busy_key)
    try:
        with db.session.begin_nested():
            for call in transition.actions:
                if not _action_enabled(call.name):
                    continue  # the offering module is off for this firm: the step does without it
                action = _action(call.name)
                action.run(
                    ActionContext(
                        document=document,
                        document_type=doc_type,
                        transition=transition.name,
                        params=call.params,
                        comment=comment,
                        user_id=current_actor_id(),
                    )
                )
            document.state = transition.target
            record = WorkflowHistory(
                document_type=doc_type_name,
                document_id=document.id,
                workflow_id=row.id,
                transition=transition.name,
                from_state=from_state,
                to_state=transition.target,
                user_id=current_actor_id(),
                comment=comment,
            )
            db.session.add(record)
            db.session.flush()
            events.emit(
                f"{doc_type_name}.{transition.name}",
                document=document,
                from_state=from_state,
                to_state=transition.target,
            )
            events.emit(
                "workflow.transitioned",
                document=document,
                document_type=doc_type_name,
                transition=transition.name,
                from_state=from_state,
                to_state=transition.target,
            )
    except ActionError as exc:
        db.session.expire(document)
        raise TransitionRefused(str(exc), code="action_failed") from exc
    finally:
        _in_progress.discard(busy_key)
    audit.record(
        f"{doc_type_name}.{transition.name}",
        document,
        summary={"state": [from_state, transition.target], "comment": comment},
    )
    return record


_in_progress: set[tuple[str, int]] = set()


def in_transition(document: Any) -> bool:
    """Whether ``document`` is in the middle of a transition (its actions are running).

    Event handlers use it to leave the state alone while a transition will set it.
    """
    return any(key[1] == id(document) for key in _in_progress)


def _action_enabled(name: str) -> bool:
    from distretto.platform.modules import enabled_modules

    module_name = name.split(".", 1)[0]
    return any(m.name == module_name for m in enabled_modules())


def _action(name: str) -> Any:
    from distretto.platform.modules import registry

    action = registry.actions.get(name)
    if action is None:
        raise ActionError(f"the action {name!r} is not available")
    return action


def history(document: Any, doc_type_name: str) -> list[WorkflowHistory]:
    return list(
        db.session.execute(
            select(WorkflowHistory)
            .where(
                WorkflowHistory.document_type == doc_type_name,
                WorkflowHistory.document_id == document.id,
            )
            .order_by(WorkflowHistory.id)
        ).scalars()
    )


def state_label(document: Any, locale: str = "it") -> str:
    _row, definition = definition_of(document)
    state = definition.state(document.state)
    return label_text(state.label, locale) if state else document.state


def locked_fields(document: Any) -> frozenset[str]:
    """Fields the document's current state locks (``"*"`` means every field)."""
    _row, definition = definition_of(document)
    state = definition.state(document.state)
    return frozenset(state.locked_fields) if state else frozenset()


def is_locked(document: Any, field: str) -> bool:
    locked = locked_fields(document)
    return "*" in locked or field in locked


def accepts_delivery(document: Any) -> bool:
    """Whether goods may move for ``document`` in its current state.

    Only in a state that one of the document type's ``delivery_transitions``
    leaves: what the firm's workflow says comes next is shipping or receiving
    (an order awaiting approval, or still in production, does not ship unless
    the firm's workflow says it may). Never in a final state. A workflow that
    names none of those transitions falls back to "the lines are locked".
    """
    _row, definition = definition_of(document)
    if definition.is_final(document.state):
        return False
    names = document_type(document.document_type).delivery_transitions
    declared = [t for t in (definition.transition(n) for n in names) if t is not None]
    if declared:
        return any(document.state in t.sources for t in declared)
    return is_locked(document, "lines")


# --- migrating documents between versions ------------------------------------------


def version_row(doc_type_name: str, version: int) -> WorkflowDefinition | None:
    return db.session.execute(
        select(WorkflowDefinition).where(
            WorkflowDefinition.document_type == doc_type_name,
            WorkflowDefinition.version == version,
        )
    ).scalar_one_or_none()


def states_in_use(doc_type_name: str, version: int) -> dict[str, int]:
    """In-progress documents on ``version``, counted by state: what a migration must map.

    Documents in a final state are finished and stay on the version they ran on.
    """
    row = version_row(doc_type_name, version)
    if row is None:
        return {}
    model = document_type(doc_type_name).model
    finals = [s.name for s in parsed(row).states if s.kind == "final"]
    query = (
        select(model.state, func.count())
        .where(model.workflow_id == row.id)
        .group_by(model.state)
        .order_by(model.state)
    )
    if finals:
        query = query.where(model.state.not_in(finals))
    return {state: count for state, count in db.session.execute(query).all()}


def migrate_documents(
    doc_type_name: str, from_version: int, to_version: int, mapping: dict[str, str]
) -> int:
    """Move the in-progress documents on ``from_version`` to ``to_version``, mapping states.

    Finished documents (in a final state) keep the version they ran on. The
    documents are locked and checked first: every state in use must be mapped
    to a state of the target version, and every mapped state must exist on the
    source. Any problem raises :class:`DefinitionError` (each message names the
    state) and nothing moves; otherwise all move together, in a savepoint of
    the caller's transaction. Returns how many moved.
    """
    doc_type = document_type(doc_type_name)
    model = doc_type.model
    source = version_row(doc_type_name, from_version)
    target = version_row(doc_type_name, to_version)
    problems = []
    if source is None:
        problems.append(f"version {from_version} does not exist")
    if target is None:
        problems.append(f"version {to_version} does not exist")
    if not problems and from_version == to_version:
        problems.append("the documents are already on that version")
    if not isinstance(mapping, dict):
        problems.append("the mapping must be an object: state on the old version -> new state")
    if problems or source is None or target is None:
        raise DefinitionError(problems)
    source_definition, target_definition = parsed(source), parsed(target)
    source_states = {s.name for s in source_definition.states}
    target_states = {s.name for s in target_definition.states}
    finals = [s.name for s in source_definition.states if s.kind == "final"]
    query = (
        select(model)
        .where(model.workflow_id == source.id)
        .order_by(model.id)
        .with_for_update(of=model)
    )
    if finals:
        query = query.where(model.state.not_in(finals))
    documents = list(db.session.execute(query).scalars())
    in_use = sorted({d.state for d in documents})
    for state in sorted(set(mapping) - source_states, key=str):
        problems.append(f"state {state!r} is mapped but version {from_version} has no such state")
    for state in in_use:
        if state not in mapping:
            problems.append(f"state {state!r} is in use on version {from_version} but not mapped")
        elif mapping[state] not in target_states:
            problems.append(
                f"state {state!r} maps to {mapping[state]!r}, which version {to_version} lacks"
            )
    if problems:
        raise DefinitionError(problems)
    with db.session.begin_nested():
        for document in documents:
            old_state = document.state
            document.workflow_id = target.id
            document.state = mapping[old_state]
            db.session.add(
                WorkflowHistory(
                    document_type=doc_type_name,
                    document_id=document.id,
                    workflow_id=target.id,
                    transition="migrate",
                    from_state=old_state,
                    to_state=document.state,
                    user_id=current_actor_id(),
                    comment=f"v{from_version} -> v{to_version}",
                )
            )
        db.session.flush()
    audit.record(
        "workflow.migrated",
        target,
        summary={
            "document_type": doc_type_name,
            "from": from_version,
            "to": to_version,
            "documents": len(documents),
            "mapping": mapping,
        },
    )
    return len(documents)
