"""E-mail addresses: one syntax check shared by forms, services and the CLI.

Deliberately a syntax check only (no DNS): an address is proven by the link
mailed to it. Kept in the kernel rather than relying on WTForms' ``Email``
validator, which needs the optional ``email_validator`` package and fails
with a 500 when it is missing.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

MAX_LENGTH = 254

_LOCAL_PART = re.compile(r"^[^\s@\"(),:;<>\[\\\]]{1,64}$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[^\s@\"(),:;<>\[\\\]_.]{1,63}(?<!-)$")


def is_email(value: str | None) -> bool:
    """Whether ``value`` (already stripped) looks like a deliverable address."""
    if not value or len(value) > MAX_LENGTH or value.count("@") != 1:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    local, domain = value.split("@")
    if not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith("."):
        return False
    if ".." in local:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels)


def normalise_email(value: str | None) -> str | None:
    """The address without surrounding spaces, or None if it is not one."""
    value = (value or "").strip()
    return value if is_email(value) else None


def same_address(a: str | None, b: str | None) -> bool:
    """Addresses are compared case-insensitively, as the unique index does."""
    return (a or "").strip().lower() == (b or "").strip().lower()


class EmailAddress:
    """WTForms validator using :func:`is_email`."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not is_email((field.data or "").strip()):
            raise ValidationError(self.message or _l("Enter a valid e-mail address."))


def has_control_characters(value: str | None, *, allow_newlines: bool = False) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL in text outright."""
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any((ord(ch) < 32 or ord(ch) == 127) and ch not in allowed for ch in value or "")


class PlainText:
    """WTForms validator refusing control characters (a 400 with a message, never a 500)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and has_control_characters(
            field.data, allow_newlines=self.multiline
        ):
            raise ValidationError(_l("Remove the control characters from this field."))
