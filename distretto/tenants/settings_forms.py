"""Forms of the firm-admin settings pages (see :mod:`distretto.tenants.settings`).

The workflow editor's tables are read by :mod:`distretto.tenants.workflow_editor`;
its form here carries the CSRF token and the version note only.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from distretto.platform.customfields import FIELD_NAME_RE, TYPE_LABELS
from distretto.tenants.forms import select_choices


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


OPERATOR_LABELS = {
    "==": _l("equals"),
    "!=": _l("differs from"),
    ">": _l("is greater than"),
    ">=": _l("is at least"),
    "<": _l("is less than"),
    "<=": _l("is at most"),
    "in": _l("is one of (comma-separated)"),
    "not_in": _l("is none of (comma-separated)"),
    "contains": _l("contains"),
    "is_empty": _l("is empty"),
    "is_not_empty": _l("is not empty"),
}

STATE_KIND_LABELS = {
    "initial": _l("Initial (start)"),
    "normal": _l("Normal"),
    "final": _l("Final (closed)"),
}


class WorkflowTablesForm(FlaskForm):
    note = StringField(
        _l("Note for this version (optional)"), validators=[Length(max=500)], filters=[_strip]
    )


class WorkflowJsonForm(FlaskForm):
    definition_json = TextAreaField(_l("Definition (JSON)"))
    note = StringField(
        _l("Note for this version (optional)"), validators=[Length(max=500)], filters=[_strip]
    )


class CustomFieldForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(
                FIELD_NAME_RE,
                message=_l("Use lower-case letters, digits and _, starting with a letter."),
            ),
        ],
        filters=[_strip],
        description=_l(
            "Used in exports, the API and workflow conditions: lower-case letters, "
            "digits and _, starting with a letter. It cannot change later."
        ),
    )
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=120)],
        filters=[_strip],
        description=_l("What people see next to the field."),
    )
    field_type = SelectField(
        _l("Type"), choices=select_choices(TYPE_LABELS.items()), default="text"
    )
    required = BooleanField(_l("Required"))
    default = StringField(
        _l("Default value (optional)"),
        validators=[Length(max=500)],
        filters=[_strip],
        description=_l("Filled in on new documents. Dates as YYYY-MM-DD, yes/no as yes or no."),
    )
    help_text = TextAreaField(
        _l("Help text (optional)"), validators=[Length(max=1000)], filters=[_strip]
    )
    choices = TextAreaField(
        _l("Choices (for a choice field: one per line)"),
        validators=[Length(max=5000)],
    )
    position = IntegerField(
        _l("Position in forms"),
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        default=0,
        description=_l("Fields with a lower number come first."),
    )
    active = BooleanField(_l("Active (shown in forms)"), default=True)

    def choice_list(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]


class NumberingForm(FlaskForm):
    format = StringField(
        _l("Format"),
        validators=[DataRequired(), Length(max=80)],
        filters=[_strip],
        description=_l(
            "Write the number as you want it, with {seq} where the counter goes: "
            "{seq:05} pads it to 5 digits; {year}, {yy} and {month} add the date."
        ),
    )
    yearly_reset = BooleanField(_l("Start again from 1 every year"))


class ImportForm(FlaskForm):
    bundle = FileField(
        _l("Customisation file (JSON)"),
        validators=[FileRequired(_l("Choose a file exported from Distretto."))],
    )
    skip_unavailable = BooleanField(
        _l("Skip the parts for modules this firm has not enabled"), default=False
    )


class MigrateVersionsForm(FlaskForm):
    """Versions to move documents between; one select per state in use is read by the view."""

    from_version = SelectField(_l("Documents on version"), coerce=int, validate_choice=False)
    to_version = SelectField(_l("Move them to version"), coerce=int, validate_choice=False)
