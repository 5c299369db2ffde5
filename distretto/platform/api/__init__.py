"""The REST API foundations (``/api/v1``): what module authors build their endpoints with.

Module authors import these names from :mod:`distretto.sdk`; see
docs/modules.md ("Adding API endpoints") and docs/api.md.
"""

from distretto.platform.api.core import ApiBlueprint, api_blueprint, init_app
from distretto.platform.api.problems import Problem
from distretto.platform.api.resources import (
    CustomFields,
    DecimalString,
    TransitionIn,
    UtcDateTime,
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

__all__ = [
    "ApiBlueprint",
    "CustomFields",
    "DecimalString",
    "UtcDateTime",
    "Problem",
    "TransitionIn",
    "api_blueprint",
    "check_if_match",
    "custom_field_filters",
    "etag_of",
    "init_app",
    "json_body",
    "list_args",
    "locked",
    "merge_patch",
    "page_schema",
    "paginate",
    "respond",
    "transition_input",
    "workflow_step",
]
