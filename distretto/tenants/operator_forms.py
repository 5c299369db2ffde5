"""Forms of the operator console's quotas and district-template pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

#: Upper bounds that catch a slip of the keyboard (an extra zero or three).
MAX_USERS_LIMIT = 100_000
MAX_STORAGE_MB_LIMIT = 10_000_000  # 10 TB
MAX_API_RATE_LIMIT = 100_000

#: A template file is a small JSON document.
MAX_TEMPLATE_BYTES = 1024 * 1024


class QuotaForm(FlaskForm):
    """Empty means the platform default; 0 means no limit."""

    max_users = IntegerField(
        _l("Users (members and pending invitations)"),
        validators=[Optional(), NumberRange(min=0, max=MAX_USERS_LIMIT)],
    )
    max_storage_mb = IntegerField(
        _l("Storage (MB)"),
        validators=[Optional(), NumberRange(min=0, max=MAX_STORAGE_MB_LIMIT)],
    )
    api_requests_per_minute = IntegerField(
        _l("API requests per minute"),
        validators=[Optional(), NumberRange(min=0, max=MAX_API_RATE_LIMIT)],
    )


class TemplateUploadForm(FlaskForm):
    file = FileField(
        _l("Template file (JSON)"),
        validators=[FileRequired(_l("Choose the template's JSON file."))],
    )
