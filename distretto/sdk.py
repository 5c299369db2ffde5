"""The public module API: everything a module (built-in or third-party) may use.

Modules import from here and nowhere else in ``distretto``; names here stay
stable across minor versions of the platform, while the kernel's internals may
move. Built-in modules follow the same rule as third-party ones.
"""

from distretto.platform import (
    audit,
    customfields,
    events,
    imports,
    listviews,
    numbering,
    outbox,
    webhooks,
    workflow,
)
from distretto.platform.api import (
    ApiBlueprint,
    CustomFields,
    DecimalString,
    Problem,
    TransitionIn,
    UtcDateTime,
    api_blueprint,
    check_if_match,
    custom_field_filters,
    etag_of,
    json_body,
    list_args,
    locked,
    merge_patch,
    page_schema,
    paginate,
    respond,
    transition_input,
    workflow_step,
)
from distretto.platform.charts import Chart, ChartPoint
from distretto.platform.context import current_tenant, current_tenant_id, tenant_context
from distretto.platform.dashboard import Widget, WidgetItem
from distretto.platform.db import BigId, TenantOwned, db, tenant_ref, utcnow
from distretto.platform.documents import (
    ActionContext,
    ActionError,
    DocumentType,
    FieldSpec,
    NumberingDefault,
    StockLine,
    WorkflowAction,
    WorkflowDocument,
)
from distretto.platform.formatting import money, short_date
from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls
from distretto.platform.modules import MenuEntry, Module
from distretto.platform.permissions import can, current_role, permission_required
from distretto.platform.search import (
    SearchGroup,
    SearchResult,
    contains_pattern,
    prefix_pattern,
    starts_first,
)
from distretto.platform.web import tenant_blueprint
from distretto.platform.webhooks import WebhookEvent

__all__ = [
    "ActionContext",
    "ActionError",
    "ApiBlueprint",
    "CustomFields",
    "DecimalString",
    "UtcDateTime",
    "Problem",
    "api_blueprint",
    "check_if_match",
    "transition_input",
    "workflow_step",
    "TransitionIn",
    "custom_field_filters",
    "etag_of",
    "json_body",
    "list_args",
    "locked",
    "merge_patch",
    "page_schema",
    "paginate",
    "respond",
    "BigId",
    "Chart",
    "ChartPoint",
    "DocumentType",
    "FieldSpec",
    "MenuEntry",
    "Module",
    "NumberingDefault",
    "SearchGroup",
    "SearchResult",
    "StockLine",
    "TenantOwned",
    "WebhookEvent",
    "WorkflowAction",
    "Widget",
    "WidgetItem",
    "WorkflowDocument",
    "audit",
    "can",
    "contains_pattern",
    "current_role",
    "current_tenant",
    "current_tenant_id",
    "customfields",
    "db",
    "disable_tenant_rls",
    "enable_tenant_rls",
    "money",
    "events",
    "imports",
    "listviews",
    "numbering",
    "outbox",
    "permission_required",
    "prefix_pattern",
    "short_date",
    "starts_first",
    "tenant_blueprint",
    "tenant_context",
    "tenant_ref",
    "utcnow",
    "webhooks",
    "workflow",
]
