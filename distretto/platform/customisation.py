"""A firm's whole customisation as one JSON bundle: export, check, apply.

The same format serves three purposes: a firm exports and re-imports its
customisation, the district publishes templates, and onboarding applies one::

    {
      "format": "distretto.customisation/1",
      "workflows": {"sales_order": {"states": [...], "transitions": [...]}},
      "custom_fields": {"sales_order": [{"name": "drawing_no", "label": "...", "type": "text"}]},
      "numbering": {"sales_order": {"format": "OV-{year}-{seq:04}", "yearly_reset": true}}
    }

Applying is all or nothing: every part is checked before anything is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from distretto.platform import audit, customfields, numbering
from distretto.platform.db import db
from distretto.platform.workflow import engine
from distretto.platform.workflow.definitions import validate

FORMAT = "distretto.customisation/1"


class BundleError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def export_bundle() -> dict[str, Any]:
    """Everything the current firm changed from the modules' defaults."""
    from distretto.platform.modules import enabled_modules

    bundle: dict[str, Any] = {
        "format": FORMAT,
        "workflows": {},
        "custom_fields": {},
        "numbering": {},
    }
    for module in enabled_modules():
        for doc_type in module.document_types:
            if doc_type.default_workflow:
                current = db.session.execute(
                    select(engine.WorkflowDefinition).where(
                        engine.WorkflowDefinition.document_type == doc_type.name,
                        engine.WorkflowDefinition.is_current.is_(True),
                    )
                ).scalar_one_or_none()
                if current is not None and current.source != "default":
                    bundle["workflows"][doc_type.name] = current.definition
            fields = [
                d.as_dict() for d in customfields.definitions(doc_type.name, include_inactive=True)
            ]
            if fields:
                bundle["custom_fields"][doc_type.name] = fields
            rule = db.session.execute(
                select(numbering.NumberingRule).where(
                    numbering.NumberingRule.document_type == doc_type.name
                )
            ).scalar_one_or_none()
            if rule is not None:
                bundle["numbering"][doc_type.name] = {
                    "format": rule.format,
                    "yearly_reset": rule.yearly_reset,
                }
    return bundle


def check_bundle(bundle: Any, *, skip_unavailable: bool = False) -> tuple[list[str], list[str]]:
    """(problems, skipped document types). With ``skip_unavailable`` a document type
    whose module the firm has not enabled is skipped instead of refused."""
    from distretto.platform.modules import enabled_modules

    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        return [f'not a customisation bundle (expected "format": "{FORMAT}")'], []
    available = {d.name for m in enabled_modules() for d in m.document_types}
    problems: list[str] = []
    skipped: set[str] = set()
    for section in ("workflows", "custom_fields", "numbering"):
        part = bundle.get(section, {})
        if not isinstance(part, dict):
            problems.append(f"{section}: must be an object keyed by document type")
            continue
        for doc_type in part:
            if doc_type not in available:
                if skip_unavailable:
                    skipped.add(doc_type)
                else:
                    problems.append(
                        f"{section}.{doc_type}: no enabled module offers this document type"
                    )
    if problems:
        return problems, sorted(skipped)
    for doc_type, fields in bundle.get("custom_fields", {}).items():
        if doc_type in skipped:
            continue
        if not isinstance(fields, list):
            problems.append(f"custom_fields.{doc_type}: must be a list")
            continue
        reserved = set(engine.document_type(doc_type).fields)
        seen: set[str] = set()
        for index, field in enumerate(fields):
            try:
                values = customfields._check(field if isinstance(field, dict) else {}, reserved)
            except customfields.CustomFieldError as exc:
                problems.append(f"custom_fields.{doc_type}[{index}]: {exc}")
                continue
            if values["name"] in seen:
                problems.append(
                    f"custom_fields.{doc_type}[{index}]: duplicate name {values['name']!r}"
                )
            seen.add(values["name"])
    for doc_type, definition in bundle.get("workflows", {}).items():
        if doc_type in skipped:
            continue
        context = engine.validation_context(doc_type)
        new_fields = {
            f["name"]: f.get("type") or f.get("field_type")
            for f in bundle.get("custom_fields", {}).get(doc_type, [])
            if isinstance(f, dict) and f.get("name")
        }
        context["fields"] = {**context["fields"], **new_fields}
        context["lockable_fields"] = set(context["lockable_fields"]) | set(new_fields)
        for problem in validate(definition, **context):
            problems.append(f"workflows.{doc_type}: {problem}")
    for doc_type, rule in bundle.get("numbering", {}).items():
        if doc_type in skipped:
            continue
        if not isinstance(rule, dict):
            problems.append(f"numbering.{doc_type}: must be an object")
            continue
        try:
            numbering.check_format(rule.get("format", ""))
        except numbering.NumberingError as exc:
            problems.append(f"numbering.{doc_type}: {exc}")
    return problems, sorted(skipped)


def apply_bundle(
    bundle: Any, *, source: str = "import", skip_unavailable: bool = False
) -> list[str]:
    """Check, then apply in the caller's transaction. Returns skipped document types."""
    problems, skipped = check_bundle(bundle, skip_unavailable=skip_unavailable)
    if problems:
        raise BundleError(problems)
    for doc_type, fields in bundle.get("custom_fields", {}).items():
        if doc_type not in skipped:
            for field in fields:
                customfields.define(doc_type, field)
    for doc_type, definition in bundle.get("workflows", {}).items():
        if doc_type not in skipped:
            engine.publish(doc_type, definition, source=source)
    for doc_type, rule in bundle.get("numbering", {}).items():
        if doc_type not in skipped:
            numbering.set_rule(doc_type, rule["format"], bool(rule.get("yearly_reset", True)))
    audit.record(
        "customisation.applied",
        None,
        object_type="customisation",
        summary={"source": source, "skipped": skipped},
    )
    return skipped
