"""The workflow engine (see :mod:`distretto.platform.workflow.engine`)."""

from distretto.platform.workflow.definitions import Definition, DefinitionError, label_text
from distretto.platform.workflow.engine import (
    SYSTEM,
    TransitionRefused,
    WorkflowDefinition,
    WorkflowHistory,
    apply,
    available_transitions,
    current_definition,
    history,
    migrate_documents,
    publish,
    start,
)

__all__ = [
    "SYSTEM",
    "Definition",
    "DefinitionError",
    "TransitionRefused",
    "WorkflowDefinition",
    "WorkflowHistory",
    "apply",
    "available_transitions",
    "current_definition",
    "history",
    "label_text",
    "migrate_documents",
    "publish",
    "start",
]
