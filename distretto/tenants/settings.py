"""The firm-admin settings pages: modules, workflows, custom fields, numbering, customisation.

Every page is under ``/<tenant>/settings/`` and needs ``firm.settings`` (owners
and administrators). The rules live in the kernel services; these views parse
the request, call one service and render. A refused change answers 4xx, so the
request boundary rolls back and nothing of it is kept.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select

from distretto.platform import customfields, numbering
from distretto.platform.auth.models import User
from distretto.platform.customisation import BundleError, apply_bundle, export_bundle
from distretto.platform.db import db
from distretto.platform.documents import DocumentType
from distretto.platform.modules import (
    Module,
    ModuleError,
    available_actions,
    disable_module,
    enable_module,
    enabled_modules,
    registry,
)
from distretto.platform.permissions import all_permissions, permission_required
from distretto.platform.web import tenant_blueprint
from distretto.platform.workflow import conditions, engine
from distretto.platform.workflow.definitions import (
    STATE_KINDS,
    Definition,
    DefinitionError,
    diff,
    label_text,
    parse,
)
from distretto.tenants import workflow_editor as editor
from distretto.tenants.forms import EmptyForm
from distretto.tenants.models import role_label
from distretto.tenants.settings_forms import (
    OPERATOR_LABELS,
    STATE_KIND_LABELS,
    CustomFieldForm,
    ImportForm,
    MigrateVersionsForm,
    NumberingForm,
    WorkflowJsonForm,
    WorkflowTablesForm,
)

bp = tenant_blueprint("settings", __name__, "/settings")

PERMISSION = "firm.settings"

_SECTIONS = {
    "index": "modules",
    "modules": "modules",
    "enable": "modules",
    "disable": "modules",
    "fields": "fields",
    "document_fields": "fields",
    "add_field": "fields",
    "edit_field": "fields",
    "update_field": "fields",
    "deactivate_field": "fields",
    "numbering_rules": "numbering",
    "numbering_rule": "numbering",
    "save_numbering": "numbering",
    "numbering_preview": "numbering",
    "customisation": "customisation",
    "export_customisation": "customisation",
    "import_customisation": "customisation",
}


@bp.context_processor
def _settings_section() -> dict[str, Any]:
    """Which tab of the settings sub-navigation is the current page."""
    view = (request.endpoint or "").rpartition(".")[2]
    return {"settings_section": _SECTIONS.get(view, "workflows" if "workflow" in view else "")}


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _see_other(endpoint: str, **values: Any) -> Any:
    return redirect(url_for(endpoint, **values), 303)


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "it")


@bp.get("/")
@permission_required(PERMISSION)
def index() -> Any:
    return _see_other("settings.modules")


# --- modules ------------------------------------------------------------------------------


def _module_label(name: str) -> str:
    module = registry.modules.get(name)
    return str(module.label) if module is not None else name


def _modules_page(error: str | None = None, status: int = 200) -> Any:
    enabled = {m.name for m in enabled_modules()}
    rows = []
    for module in sorted(registry.modules.values(), key=lambda m: str(m.label).lower()):
        rows.append(
            {
                "module": module,
                "enabled": module.name in enabled,
                "requires": [_module_label(dep) for dep in module.requires],
                "needed_by": [
                    str(other.label)
                    for other in registry.modules.values()
                    if module.name in other.requires and other.name in enabled
                ],
                "missing": [_module_label(dep) for dep in module.requires if dep not in enabled],
            }
        )
    page = render_template(
        "settings/modules.html",
        rows=rows,
        broken=sorted(registry.errors.items()),
        form=EmptyForm(),
        error=error,
    )
    return page, status


@bp.get("/modules")
@permission_required(PERMISSION)
def modules() -> Any:
    return _modules_page()


@bp.post("/modules/<name>/enable")
@permission_required(PERMISSION)
def enable(name: str) -> Any:
    if name not in registry.modules and name not in registry.errors:
        abort(404)
    before = {m.name for m in enabled_modules()}
    try:
        enable_module(name)
    except ModuleError:
        reason = registry.errors.get(name, "")
        return _modules_page(
            _("%(module)s cannot be enabled: %(reason)s", module=name, reason=reason), 409
        )
    also = [_module_label(n) for n in {m.name for m in enabled_modules()} - before - {name}]
    if also:
        flash(
            _(
                "%(module)s enabled, together with what it needs: %(others)s.",
                module=_module_label(name),
                others=", ".join(sorted(also)),
            ),
            "success",
        )
    else:
        flash(_("%(module)s enabled.", module=_module_label(name)), "success")
    return _see_other("settings.modules")


@bp.post("/modules/<name>/disable")
@permission_required(PERMISSION)
def disable(name: str) -> Any:
    if name not in registry.modules:
        abort(404)
    enabled = {m.name for m in enabled_modules()}
    try:
        disable_module(name)
    except ModuleError:
        needed_by = sorted(
            str(m.label)
            for m in registry.modules.values()
            if name in m.requires and m.name in enabled
        )
        if needed_by:
            message = _(
                "%(module)s cannot be disabled while %(others)s need it: disable them first.",
                module=_module_label(name),
                others=", ".join(needed_by),
            )
        else:
            message = _("%(module)s is not enabled.", module=_module_label(name))
        return _modules_page(message, 409)
    flash(
        _(
            "%(module)s disabled. Its data is kept and comes back if you enable it again.",
            module=_module_label(name),
        ),
        "success",
    )
    return _see_other("settings.modules")


# --- document types ----------------------------------------------------------------------


def _document_types(*, with_workflow: bool = False) -> list[tuple[Module, DocumentType]]:
    return [
        (module, doc_type)
        for module in enabled_modules()
        for doc_type in module.document_types
        if doc_type.default_workflow or not with_workflow
    ]


def _document_type_or_404(name: str, *, with_workflow: bool = False) -> DocumentType:
    """Only document types of the firm's enabled modules exist on its pages."""
    for _module, doc_type in _document_types(with_workflow=with_workflow):
        if doc_type.name == name:
            return doc_type
    abort(404)


def _field_labels(doc_type: DocumentType) -> dict[str, str]:
    labels = {name: str(spec.label or name) for name, spec in doc_type.fields.items()}
    for name in doc_type.lockable_fields:
        labels.setdefault(name, name)
    for definition in customfields.definitions(doc_type.name, include_inactive=True):
        labels.setdefault(definition.name, definition.label)
    return labels


# --- workflows -----------------------------------------------------------------------------


@bp.get("/workflows")
@permission_required(PERMISSION)
def workflows() -> Any:
    rows = []
    for module, doc_type in _document_types(with_workflow=True):
        current = engine.current_definition(doc_type.name)
        rows.append(
            {
                "module": module,
                "doc_type": doc_type,
                "current": current,
                "pending": engine.pending_default_change(doc_type.name),
            }
        )
    return render_template("settings/workflows.html", rows=rows)


def _editor_options(doc_type: DocumentType) -> dict[str, Any]:
    """What the tables offer to choose from, for this firm and document type."""
    context = engine.validation_context(doc_type.name)
    labels = _field_labels(doc_type)
    fields = sorted(context["fields"].items(), key=lambda item: labels.get(item[0], item[0]))
    groups: dict[str, list[dict[str, str]]] = {}
    for name, roles in sorted(all_permissions().items()):
        prefix = name.partition(".")[0]
        groups.setdefault(prefix, []).append(
            {
                "name": name,
                "roles": ", ".join(role_label(r) for r in sorted(roles, key=_role_order)),
            }
        )
    own = doc_type.module

    def group_label(prefix: str) -> str:
        return _("This firm") if prefix == "firm" else _module_label(prefix)

    permission_groups = [
        (group_label(prefix), groups[prefix])
        for prefix in sorted(groups, key=lambda p: (p != own, p != "firm", group_label(p)))
    ]
    return {
        "kinds": [(kind, STATE_KIND_LABELS[kind]) for kind in STATE_KINDS],
        "lockable": [("*", _("every field"))]
        + sorted(((n, labels.get(n, n)) for n in context["lockable_fields"]), key=lambda x: x[1]),
        "fields": [
            {"name": name, "label": labels.get(name, name), "type": field_type}
            for name, field_type in fields
        ],
        "operators": list(OPERATOR_LABELS.items()),
        "permission_groups": permission_groups,
        "permissions": [p for _label, group in permission_groups for p in group],
        "actions": [
            {"name": a.name, "label": str(a.label), "description": a.description}
            for a in available_actions(doc_type.name)
        ],
        "field_labels": labels,
    }


def _role_order(role: str) -> int:
    from distretto.tenants.models import Role

    return Role.ALL.index(role) if role in Role.ALL else len(Role.ALL)


def _versions(doc_type: DocumentType) -> list[dict[str, Any]]:
    model = doc_type.model
    counts = dict(
        db.session.execute(
            select(model.workflow_id, func.count()).group_by(model.workflow_id)
        ).all()
    )
    rows = engine.versions(doc_type.name)
    people = {
        u.id: u
        for u in db.session.execute(
            select(User).where(User.id.in_({r.published_by_id for r in rows if r.published_by_id}))
        ).scalars()
    }
    return [
        {
            "row": row,
            "documents": counts.get(row.id, 0),
            "by": people.get(row.published_by_id) if row.published_by_id else None,
        }
        for row in rows
    ]


def _states_in_use(doc_type: DocumentType, version: int) -> list[tuple[str, int]]:
    model = doc_type.model
    row = next((r for r in engine.versions(doc_type.name) if r.version == version), None)
    if row is None:
        return []
    return [
        (state, count)
        for state, count in db.session.execute(
            select(model.state, func.count())
            .where(model.workflow_id == row.id)
            .group_by(model.state)
            .order_by(model.state)
        ).all()
    ]


def _migration(
    doc_type: DocumentType,
    versions: list[dict[str, Any]],
    from_version: int | None = None,
    to_version: int | None = None,
    mapping: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    """The "move documents to another version" section."""
    numbers = [v["row"].version for v in versions]
    current = next((v["row"].version for v in versions if v["row"].is_current), None)
    with_documents = [v["row"].version for v in versions if v["documents"]]
    if from_version not in numbers:
        others = [n for n in with_documents if n != current]
        from_version = others[0] if others else (with_documents[0] if with_documents else None)
    if to_version not in numbers:
        to_version = current
    form = MigrateVersionsForm(formdata=None, from_version=from_version, to_version=to_version)
    choices = [(n, _("Version %(number)d", number=n)) for n in numbers]
    form.from_version.choices = choices
    form.to_version.choices = choices
    rows = []
    target_states: list[tuple[str, str]] = []
    if from_version is not None and to_version is not None:
        target = next(v["row"] for v in versions if v["row"].version == to_version)
        target_definition = engine.parsed(target)
        target_states = [(s.name, label_text(s.label, _locale())) for s in target_definition.states]
        target_names = {name for name, _label in target_states}
        for state, count in _states_in_use(doc_type, from_version):
            chosen = (mapping or {}).get(state) or (state if state in target_names else "")
            rows.append({"state": state, "count": count, "chosen": chosen})
    return {
        "form": form,
        "from_version": from_version,
        "to_version": to_version,
        "rows": rows,
        "target_states": target_states,
        "problems": problems or [],
        "has_documents": bool(with_documents),
        "has_versions": len(numbers) > 1,
    }


def _changes(old: Any, new: Any) -> dict[str, list[str]] | None:
    changes = diff(editor.normalised(old), editor.normalised(new))
    return changes if any(changes.values()) else None


def _diagram(definition: Definition, doc_type: DocumentType, id_prefix: str) -> Markup | None:
    """The workflow drawn as SVG (its renderer escapes every label), or None if unavailable."""
    try:
        from distretto.platform.workflow.diagram import render_svg
    except ImportError:  # pragma: no cover - the renderer ships with the kernel
        return None
    try:
        svg = render_svg(
            definition,
            locale=_locale(),
            title=_("Workflow of %(type)s", type=str(doc_type.label)),
            id_prefix=id_prefix,
        )
    except Exception:  # noqa: BLE001 - a drawing problem must not hide the preview
        current_app.logger.exception("workflow diagram failed")
        return None
    return Markup(svg)  # noqa: S704 - render_svg escapes all text it draws


def _preview(
    doc_type: DocumentType, data: Any, problems: list[str], id_prefix: str = "wf-preview"
) -> dict[str, Any]:
    """Problems, or the definition as it would be published: diagram and changes."""
    if not problems:
        problems = engine.check_definition(doc_type.name, data)
    if problems:
        return {"problems": problems}
    definition = parse(data)
    current = engine.current_definition(doc_type.name)
    return {
        "problems": [],
        "definition": definition,
        "diagram": _diagram(definition, doc_type, id_prefix),
        "changes": _changes(current.definition, data),
        "current_version": current.version,
    }


def _editor_page(
    doc_type: DocumentType,
    *,
    model: dict[str, Any] | None = None,
    json_text: str | None = None,
    tables_form: WorkflowTablesForm | None = None,
    json_form: WorkflowJsonForm | None = None,
    tables_preview: dict[str, Any] | None = None,
    json_preview: dict[str, Any] | None = None,
    focus: str | None = None,
    migration: dict[str, Any] | None = None,
    loaded_from: str | None = None,
    status: int = 200,
    fragment: str | None = None,
) -> Any:
    current = engine.current_definition(doc_type.name)
    versions = _versions(doc_type)
    if model is None:
        model = editor.model_from_definition(current.definition, _locale())
    if json_text is None:
        json_text = json.dumps(current.definition, indent=2, ensure_ascii=False)
    tables_form = tables_form or WorkflowTablesForm(formdata=None)
    json_form = json_form or WorkflowJsonForm(formdata=None)
    json_form.definition_json.data = json_text
    context = {
        "doc_type": doc_type,
        "current": current,
        "versions": versions,
        "pending": engine.pending_default_change(doc_type.name),
        "current_diagram": _diagram(engine.parsed(current), doc_type, "wf-current"),
        "default_json": json.dumps(doc_type.default_workflow, indent=2, ensure_ascii=False),
        "model": model,
        "options": _editor_options(doc_type),
        "tables_form": tables_form,
        "json_form": json_form,
        "tables_preview": tables_preview,
        "json_preview": json_preview,
        "focus": focus,
        "migration": migration or _migration(doc_type, versions),
        "loaded_from": loaded_from,
        "reset_form": EmptyForm(formdata=None),
        "label_text": label_text,
        "describe": conditions.describe,
        "locale": _locale(),
    }
    template = fragment or "settings/workflow_editor.html"
    return render_template(template, **context), status


@bp.get("/workflows/<doc_type>")
@permission_required(PERMISSION)
def workflow(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type, with_workflow=True)
    loaded, loaded_from = None, None
    load = request.args.get("load", "")
    if load == "default":
        loaded, loaded_from = dt.default_workflow, _("the module's default")
    elif load.isdigit():
        row = next((r for r in engine.versions(dt.name) if r.version == int(load)), None)
        if row is not None:
            loaded, loaded_from = row.definition, _("version %(number)d", number=row.version)
    migration = None
    if "from_version" in request.args or "to_version" in request.args:
        migration = _migration(
            dt,
            _versions(dt),
            request.args.get("from_version", type=int),
            request.args.get("to_version", type=int),
        )
    model, json_text = None, None
    if loaded is not None:
        model = editor.model_from_definition(loaded, _locale())
        json_text = json.dumps(loaded, indent=2, ensure_ascii=False)
    return _editor_page(
        dt, model=model, json_text=json_text, migration=migration, loaded_from=loaded_from
    )


@bp.post("/workflows/<doc_type>/edit")
@permission_required(PERMISSION)
def workflow_edit(doc_type: str) -> Any:
    """The editor's row buttons: add or remove a row, then show the tables again."""
    dt = _document_type_or_404(doc_type, with_workflow=True)
    form = WorkflowTablesForm()  # CSRFProtect has checked the token; nothing else to check
    model = editor.model_from_form(request.form)
    focus = editor.apply_operation(model, request.form.get("op", ""))
    fragment = "settings/_workflow_tables.html" if _htmx() else None
    return _editor_page(dt, model=model, tables_form=form, focus=focus, fragment=fragment)


def _posted_definition() -> tuple[str, Any, list[str], dict[str, Any] | None, str | None]:
    """(editor, definition or None, problems, tables model, JSON text) of a posted editor."""
    if request.form.get("editor") == "json":
        text = request.form.get("definition_json", "")
        try:
            return "json", json.loads(text), [], None, text
        except ValueError as exc:
            message = _(
                "The JSON is not valid (line %(line)s, column %(column)s): %(error)s",
                line=getattr(exc, "lineno", "?"),
                column=getattr(exc, "colno", "?"),
                error=getattr(exc, "msg", str(exc)),
            )
            return "json", None, [message], None, text
    model = editor.model_from_form(request.form)
    try:
        return "tables", editor.definition_from_model(model), [], model, None
    except editor.EditorProblem as exc:
        return "tables", None, str(exc).split("; "), model, None


@bp.post("/workflows/<doc_type>/preview")
@permission_required(PERMISSION)
def workflow_preview(doc_type: str) -> Any:
    """Check the edited definition and show its problems, or its diagram and changes."""
    dt = _document_type_or_404(doc_type, with_workflow=True)
    which, data, problems, model, text = _posted_definition()
    if which == "json":
        form = WorkflowJsonForm()
        fragment = "settings/_workflow_json.html" if _htmx() else None
        return _editor_page(
            dt,
            json_text=text,
            json_form=form,
            json_preview=_preview(dt, data, problems, "wf-json"),
            fragment=fragment,
        )
    form = WorkflowTablesForm()
    fragment = "settings/_workflow_tables.html" if _htmx() else None
    return _editor_page(
        dt,
        model=model,
        tables_form=form,
        tables_preview=_preview(dt, data, problems),
        focus="workflow-preview",
        fragment=fragment,
    )


@bp.post("/workflows/<doc_type>/publish")
@permission_required(PERMISSION)
def workflow_publish(doc_type: str) -> Any:
    """Publish a new version; refused with every problem listed, and nothing saved."""
    dt = _document_type_or_404(doc_type, with_workflow=True)
    which, data, problems, model, text = _posted_definition()
    form: WorkflowTablesForm | WorkflowJsonForm = (
        WorkflowJsonForm() if which == "json" else WorkflowTablesForm()
    )
    if not form.validate_on_submit():
        if form.errors.get("csrf_token") or not form.errors:
            abort(400)
        problems = problems + [str(e) for errors in form.errors.values() for e in errors]
    if not problems:
        try:
            row = engine.publish(dt.name, data, note=form.note.data or None)
        except DefinitionError as exc:
            problems = exc.problems
        else:
            flash(
                _(
                    "Version %(number)d of the workflow is published: new documents follow it.",
                    number=row.version,
                ),
                "success",
            )
            return _see_other("settings.workflow", doc_type=dt.name)
    preview = _preview(dt, data, problems)
    if which == "json":
        return _editor_page(dt, json_text=text, json_form=form, json_preview=preview, status=400)
    return _editor_page(
        dt,
        model=model,
        tables_form=form,
        tables_preview=preview,
        focus="workflow-preview",
        status=400,
    )


@bp.post("/workflows/<doc_type>/reset")
@permission_required(PERMISSION)
def workflow_reset(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type, with_workflow=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    row = engine.reset_to_default(dt.name)
    flash(
        _(
            "The module's default workflow is back, as version %(number)d.",
            number=row.version,
        ),
        "success",
    )
    return _see_other("settings.workflow", doc_type=dt.name)


@bp.post("/workflows/<doc_type>/migrate")
@permission_required(PERMISSION)
def workflow_migrate(doc_type: str) -> Any:
    """Move the in-progress documents of one version to another, mapping their states."""
    dt = _document_type_or_404(doc_type, with_workflow=True)
    form = MigrateVersionsForm()
    if not form.validate_on_submit():
        abort(400)
    source, target = form.from_version.data, form.to_version.data
    mapping = {
        key.removeprefix("map-"): value
        for key, value in request.form.items()
        if key.startswith("map-") and value
    }
    problems: list[str] = []
    if source == target:
        problems = [_("Choose two different versions.")]
    else:
        try:
            moved = engine.migrate_documents(dt.name, source, target, mapping)
        except DefinitionError as exc:
            problems = exc.problems
        else:
            flash(
                ngettext(
                    "%(num)d document moved from version %(source)d to version %(target)d.",
                    "%(num)d documents moved from version %(source)d to version %(target)d.",
                    moved,
                    source=source,
                    target=target,
                ),
                "success",
            )
            return _see_other("settings.workflow", doc_type=dt.name)
    migration = _migration(dt, _versions(dt), source, target, mapping, problems)
    return _editor_page(dt, migration=migration, status=400)


# --- custom fields --------------------------------------------------------------------------


@bp.get("/fields")
@permission_required(PERMISSION)
def fields() -> Any:
    rows = [
        {
            "module": module,
            "doc_type": doc_type,
            "fields": customfields.definitions(doc_type.name, include_inactive=True),
        }
        for module, doc_type in _document_types()
    ]
    return render_template("settings/fields.html", rows=rows)


def _fields_page(
    doc_type: DocumentType, form: CustomFieldForm, status: int = 200, editing: Any = None
) -> Any:
    if editing is not None:  # name and type are shown as text there: their errors go on top
        for fixed in (form.name, form.field_type):
            form.form_errors.extend(str(e) for e in fixed.errors)
    page = render_template(
        "settings/fields_document.html",
        doc_type=doc_type,
        definitions=customfields.definitions(doc_type.name, include_inactive=True),
        form=form,
        editing=editing,
        type_labels=customfields.TYPE_LABELS,
        action_form=EmptyForm(formdata=None),
    )
    return page, status


def _field_data(form: CustomFieldForm, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": form.label.data,
        "type": form.field_type.data,
        "required": form.required.data,
        "default": form.default.data,
        "help_text": form.help_text.data,
        "choices": form.choice_list(),
        "position": form.position.data or 0,
        "active": form.active.data,
    }


def _show_field_error(form: CustomFieldForm, exc: customfields.CustomFieldError) -> None:
    target = {"type": "field_type"}.get(exc.field or "", exc.field or "")
    field = getattr(form, target, None) if target else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@bp.get("/fields/<doc_type>")
@permission_required(PERMISSION)
def document_fields(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type)
    return _fields_page(dt, CustomFieldForm(formdata=None))


@bp.post("/fields/<doc_type>")
@permission_required(PERMISSION)
def add_field(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type)
    form = CustomFieldForm()
    form.active.data = True  # a new field is active; hiding it is a separate step
    if not form.validate_on_submit():
        return _fields_page(dt, form, 400)
    existing = {d.name for d in customfields.definitions(dt.name, include_inactive=True)}
    if form.name.data in existing:
        form.name.errors = [
            _("There is already a field named %(name)s: edit it instead.", name=form.name.data)
        ]
        return _fields_page(dt, form, 400)
    try:
        row = customfields.define(dt.name, _field_data(form, form.name.data))
    except customfields.CustomFieldError as exc:
        _show_field_error(form, exc)
        return _fields_page(dt, form, 400)
    flash(_("The field %(label)s was added.", label=row.label), "success")
    return _see_other("settings.document_fields", doc_type=dt.name)


def _field_or_404(dt: DocumentType, field_id: int) -> customfields.CustomFieldDefinition:
    row = db.session.get(customfields.CustomFieldDefinition, field_id)
    if row is None or row.document_type != dt.name:
        abort(404)
    return row


def _edit_form(row: customfields.CustomFieldDefinition, formdata: Any = None) -> CustomFieldForm:
    form = CustomFieldForm(
        formdata=formdata,
        data={
            "name": row.name,
            "label": row.label,
            "field_type": row.field_type,
            "required": row.required,
            "default": "" if row.default is None else str(row.default),
            "help_text": row.help_text or "",
            "choices": "\n".join(row.choices or []),
            "position": row.position,
            "active": row.active,
        },
    )
    form.name.data = row.name  # the name cannot change
    form.field_type.data = row.field_type if formdata is None else form.field_type.data
    return form


@bp.get("/fields/<doc_type>/<int:field_id>")
@permission_required(PERMISSION)
def edit_field(doc_type: str, field_id: int) -> Any:
    dt = _document_type_or_404(doc_type)
    row = _field_or_404(dt, field_id)
    return _fields_page(dt, _edit_form(row), editing=row)


@bp.post("/fields/<doc_type>/<int:field_id>")
@permission_required(PERMISSION)
def update_field(doc_type: str, field_id: int) -> Any:
    dt = _document_type_or_404(doc_type)
    row = _field_or_404(dt, field_id)
    form = CustomFieldForm()
    form.name.data, form.field_type.data = row.name, row.field_type  # neither can change
    if not form.validate_on_submit():
        return _fields_page(dt, form, 400, editing=row)
    try:
        customfields.define(dt.name, _field_data(form, row.name))
    except customfields.CustomFieldError as exc:
        _show_field_error(form, exc)
        return _fields_page(dt, form, 400, editing=row)
    flash(_("The field %(label)s was saved.", label=form.label.data), "success")
    return _see_other("settings.document_fields", doc_type=dt.name)


@bp.post("/fields/<doc_type>/<int:field_id>/deactivate")
@permission_required(PERMISSION)
def deactivate_field(doc_type: str, field_id: int) -> Any:
    dt = _document_type_or_404(doc_type)
    row = _field_or_404(dt, field_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    customfields.deactivate(row)
    flash(
        _(
            "The field %(label)s is hidden from now on; values already entered are kept.",
            label=row.label,
        ),
        "success",
    )
    return _see_other("settings.document_fields", doc_type=dt.name)


# --- numbering --------------------------------------------------------------------------------


def _example(fmt: str) -> str:
    return numbering.preview(fmt)


@bp.get("/numbering")
@permission_required(PERMISSION)
def numbering_rules() -> Any:
    rows = []
    for module, doc_type in _document_types():
        rule = numbering.rule_for(doc_type.name)
        rows.append(
            {"module": module, "doc_type": doc_type, "rule": rule, "example": _example(rule.format)}
        )
    return render_template("settings/numbering.html", rows=rows)


def _numbering_page(doc_type: DocumentType, form: NumberingForm, status: int = 200) -> Any:
    rule = numbering.rule_for(doc_type.name)
    example = None
    if form.format.data and not form.format.errors:
        try:
            example = _example(form.format.data)
        except numbering.NumberingError:
            example = None
    page = render_template(
        "settings/numbering_document.html",
        doc_type=doc_type,
        form=form,
        rule=rule,
        example=example,
    )
    return page, status


@bp.get("/numbering/<doc_type>")
@permission_required(PERMISSION)
def numbering_rule(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type)
    rule = numbering.rule_for(dt.name)
    form = NumberingForm(formdata=None, format=rule.format, yearly_reset=rule.yearly_reset)
    return _numbering_page(dt, form)


@bp.post("/numbering/<doc_type>")
@permission_required(PERMISSION)
def save_numbering(doc_type: str) -> Any:
    dt = _document_type_or_404(doc_type)
    form = NumberingForm()
    if not form.validate_on_submit():
        return _numbering_page(dt, form, 400)
    try:
        numbering.set_rule(dt.name, form.format.data, bool(form.yearly_reset.data))
    except numbering.NumberingError as exc:
        form.format.errors = [*form.format.errors, str(exc)]
        return _numbering_page(dt, form, 400)
    flash(_("Numbering of %(type)s saved.", type=str(dt.label)), "success")
    return _see_other("settings.numbering_rules")


@bp.get("/numbering/<doc_type>/preview")
@permission_required(PERMISSION)
def numbering_preview(doc_type: str) -> Any:
    """The live example under the format input (htmx); answers 200 with the problem too."""
    _document_type_or_404(doc_type)
    fmt = request.args.get("format", "")
    try:
        example, problem = _example(fmt), None
    except numbering.NumberingError as exc:
        example, problem = None, str(exc)
    return render_template("settings/_numbering_preview.html", example=example, problem=problem)


# --- customisation (JSON export/import) ---------------------------------------------------------


def _customisation_page(form: ImportForm, problems: list[str] | None = None, status: int = 200):
    page = render_template(
        "settings/customisation.html", form=form, problems=problems or [], bundle=export_bundle()
    )
    return page, status


@bp.get("/customisation")
@permission_required(PERMISSION)
def customisation() -> Any:
    return _customisation_page(ImportForm(formdata=None))


@bp.get("/customisation/export")
@permission_required(PERMISSION)
def export_customisation() -> Any:
    body = json.dumps(export_bundle(), indent=2, ensure_ascii=False, sort_keys=True)
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{g.tenant.slug}-customisation.json"'
    )
    return response


@bp.post("/customisation/import")
@permission_required(PERMISSION)
def import_customisation() -> Any:
    """Apply an exported bundle: every problem listed and nothing changed, or all of it."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _customisation_page(form, status=400)
    raw = form.bundle.data.read()
    try:
        bundle = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        problem = _("The file is not JSON: %(error)s", error=getattr(exc, "msg", str(exc)))
        return _customisation_page(form, [problem], 400)
    problems: list[str] = []
    try:
        skipped = apply_bundle(bundle, source="import", skip_unavailable=form.skip_unavailable.data)
    except BundleError as exc:
        problems = exc.problems
    except (customfields.CustomFieldError, numbering.NumberingError) as exc:
        problems = [str(exc)]
    except DefinitionError as exc:
        problems = exc.problems
    if problems:
        g.rollback_only = True
        return _customisation_page(form, problems, 400)
    if skipped:
        flash(
            _(
                "Customisation imported. Skipped (module not enabled): %(types)s.",
                types=", ".join(skipped),
            ),
            "success",
        )
    else:
        flash(_("Customisation imported."), "success")
    return _see_other("settings.customisation")
