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
from distretto.platform.db import db, utcnow
from distretto.platform.workflow import engine
from distretto.platform.workflow.definitions import DefinitionError, validate

FORMAT = "distretto.customisation/1"
SECTIONS = ("workflows", "custom_fields", "numbering")
METADATA = ("format", "exported_at", "description")


class BundleError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _document_types() -> list[Any]:
    from distretto.platform.modules import enabled_modules

    return [doc_type for module in enabled_modules() for doc_type in module.document_types]


def export_bundle() -> dict[str, Any]:
    """Everything the current firm changed from the modules' defaults.

    Workflows the firm never customised are left out (the receiving firm keeps
    following its own module default); custom fields are all there, the
    deactivated ones too, so that values stored under them keep their meaning.
    """
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": utcnow().replace(microsecond=0).isoformat() + "Z",
        "workflows": {},
        "custom_fields": {},
        "numbering": {},
    }
    for doc_type in _document_types():
        current = db.session.execute(
            select(engine.WorkflowDefinition)
            .where(
                engine.WorkflowDefinition.document_type == doc_type.name,
                engine.WorkflowDefinition.is_current.is_(True),
            )
            .order_by(engine.WorkflowDefinition.version.desc())
            .limit(1)
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
    """(problems, skipped document types); each problem names its place in the bundle.

    With ``skip_unavailable`` a document type whose module the firm has not
    enabled is skipped instead of refused. The bundle is checked against the
    firm as it is: a custom field may not change the type of one the firm has.
    """
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        return [f'not a customisation bundle (expected "format": "{FORMAT}")'], []
    problems: list[str] = []
    unknown = sorted(set(bundle) - set(SECTIONS) - set(METADATA), key=str)
    if unknown:
        problems.append(f"unknown sections {unknown} (a bundle has {', '.join(SECTIONS)})")
    available = {d.name for d in _document_types()}
    skipped: set[str] = set()
    for section in SECTIONS:
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
    bundle_fields: dict[str, dict[str, dict[str, Any]]] = {}
    for doc_type, fields in bundle.get("custom_fields", {}).items():
        if doc_type in skipped:
            continue
        if not isinstance(fields, list):
            problems.append(f"custom_fields.{doc_type}: must be a list")
            continue
        reserved = customfields.reserved_names(doc_type)
        existing = {d.name: d for d in customfields.definitions(doc_type, include_inactive=True)}
        checked: dict[str, dict[str, Any]] = {}
        for index, field in enumerate(fields):
            where = f"custom_fields.{doc_type}[{index}]"
            try:
                values = customfields._check(field, reserved)
            except customfields.CustomFieldError as exc:
                problems.append(f"{where}: {exc}")
                continue
            name = values["name"]
            if name in checked:
                problems.append(f"{where}: duplicate name {name!r}")
            elif name in existing and existing[name].field_type != values["field_type"]:
                problems.append(
                    f"{where}: the firm's field {name!r} is {existing[name].field_type}; "
                    f"its type cannot change to {values['field_type']}"
                )
            checked[name] = values
        bundle_fields[doc_type] = checked
    for doc_type, definition in bundle.get("workflows", {}).items():
        if doc_type in skipped:
            continue
        context = engine.validation_context(doc_type)
        fields = dict(context["fields"])
        for name, values in bundle_fields.get(doc_type, {}).items():
            if values["active"]:
                fields[name] = values["field_type"]
            else:
                fields.pop(name, None)
        context["fields"] = fields
        context["lockable_fields"] = set(context["lockable_fields"]) | set(fields)
        for problem in validate(definition, **context):
            problems.append(f"workflows.{doc_type}: {problem}")
    for doc_type, rule in bundle.get("numbering", {}).items():
        if doc_type in skipped:
            continue
        if not isinstance(rule, dict):
            problems.append(f"numbering.{doc_type}: must be an object")
            continue
        extra = sorted(set(rule) - {"format", "yearly_reset"}, key=str)
        if extra:
            problems.append(f"numbering.{doc_type}: unknown keys {extra}")
        try:
            numbering.check_format(rule.get("format", ""))
        except numbering.NumberingError as exc:
            problems.append(f"numbering.{doc_type}: {exc}")
        if not isinstance(rule.get("yearly_reset", True), bool):
            problems.append(f"numbering.{doc_type}: yearly_reset must be true or false")
    return problems, sorted(skipped)


def apply_bundle(
    bundle: Any, *, source: str = "import", skip_unavailable: bool = False
) -> list[str]:
    """Check, then apply in the caller's transaction. Returns skipped document types.

    All or nothing: a bundle with any problem raises :class:`BundleError`
    listing every problem before anything is written, and the writes run in a
    savepoint, so a failure half-way leaves the firm as it was.
    """
    problems, skipped = check_bundle(bundle, skip_unavailable=skip_unavailable)
    if problems:
        raise BundleError(problems)
    try:
        with db.session.begin_nested():
            for doc_type, fields in bundle.get("custom_fields", {}).items():
                if doc_type not in skipped:
                    for field in fields:
                        customfields.define(doc_type, field)
            for doc_type, definition in bundle.get("workflows", {}).items():
                if doc_type not in skipped:
                    engine.publish(doc_type, definition, source=source)
            for doc_type, rule in bundle.get("numbering", {}).items():
                if doc_type not in skipped:
                    numbering.set_rule(
                        doc_type, rule["format"], bool(rule.get("yearly_reset", True))
                    )
            audit.record(
                "customisation.applied",
                None,
                object_type="customisation",
                summary={"source": source, "skipped": skipped},
            )
    except (DefinitionError, customfields.CustomFieldError, numbering.NumberingError) as exc:
        raise BundleError(getattr(exc, "problems", None) or [str(exc)]) from exc
    return skipped
