"""Signed, expiring, single-use links (password resets and invitations)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidLink(Exception):
    """The link is malformed, tampered with, expired or already used."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(salt: str, payload: dict[str, Any]) -> str:
    return _serializer(salt).dumps(payload)


def read_token(salt: str, token: str, max_age: int) -> dict[str, Any]:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidLink("expired") from exc
    except BadSignature as exc:
        raise InvalidLink("invalid") from exc
    if not isinstance(data, dict):
        raise InvalidLink("invalid")
    return data


def fingerprint(value: str | None) -> str:
    """A short digest that changes when ``value`` does (used to void reset links)."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:20]


def external_link(endpoint: str, **values: Any) -> str:
    """An absolute URL under ``BASE_URL``, with or without a request (the CLI mails links too).

    Built from the configured address rather than the request's Host header, so
    a forged Host cannot point a reset or invitation link at someone else's site.
    """
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
