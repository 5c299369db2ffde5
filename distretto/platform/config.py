"""Settings: defaults, then the instance folder, then ``DISTRETTO_*`` variables.

Validated once at start-up so that a typo in production fails loudly with a
message naming the setting, instead of surfacing later as a strange 500.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

#: The it and en message catalogues (see scripts/translations.sh).
TRANSLATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "translations"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "production",  # development | production | testing
    "DATABASE_URL": None,  # filled with SQLite in the instance folder
    "MIGRATION_DATABASE_URL": None,  # owner role for migrations; defaults to DATABASE_URL
    "REDIS_URL": None,
    "BASE_URL": "http://127.0.0.1:8000",
    "DEFAULT_LOCALE": "it",
    "SUPPORTED_LOCALES": ["it", "en"],
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": True,
    "MAIL_FROM": "distretto@localhost",
    "INVITATION_MAX_AGE": 7 * 24 * 3600,
    "PASSWORD_RESET_MAX_AGE": 3600,
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per 15 minutes",
    "LOG_FORMAT": "text",  # text | json
    "LOG_LEVEL": "INFO",
    "SQL_ECHO": False,
    "PROXY_COUNT": 0,  # reverse proxies in front that set X-Forwarded-* headers
    # Webhooks to private/loopback addresses: None = only in development and testing
    "WEBHOOKS_ALLOW_PRIVATE": None,
    # Per-firm quotas where the operator set none on the firm (0 = no limit).
    "QUOTA_MAX_USERS": 100,  # members plus pending invitations
    "QUOTA_MAX_STORAGE_MB": 1024,  # stored files plus an estimate of the firm's rows
    "METRICS_TOKEN": None,  # bearer token for /metrics; unset = /metrics answers 404
}

_BOOL_KEYS = {"SMTP_STARTTLS", "SQL_ECHO"}
_INT_KEYS = {
    "PROXY_COUNT",
    "SMTP_PORT",
    "INVITATION_MAX_AGE",
    "PASSWORD_RESET_MAX_AGE",
    "QUOTA_MAX_USERS",
    "QUOTA_MAX_STORAGE_MB",
}


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in the documented order and validate it."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # Flask presets these (Secure off, no SameSite); drop them so _derive's safe
    # defaults apply unless a source below sets them explicitly.
    for key in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE"):
        app.config.pop(key, None)
    app.config.from_pyfile("distretto.cfg", silent=True)
    app.config.from_prefixed_env("DISTRETTO")
    if overrides:
        app.config.update(overrides)
    _coerce(app)
    _derive(app)
    validate(app.config)


def _coerce(app: Flask) -> None:
    for key in _BOOL_KEYS:
        value = app.config.get(key)
        if isinstance(value, str):
            app.config[key] = value.strip().lower() in {"1", "true", "yes", "on"}
    for key in _INT_KEYS:
        value = app.config.get(key)
        if isinstance(value, str):
            try:
                app.config[key] = int(value)
            except ValueError as exc:
                raise ConfigError(f"DISTRETTO_{key} must be a whole number, got {value!r}") from exc
    locales = app.config.get("SUPPORTED_LOCALES")
    if isinstance(locales, str):
        app.config["SUPPORTED_LOCALES"] = [s.strip() for s in locales.split(",") if s.strip()]


def _derive(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'distretto.sqlite3'}"
    if not app.config.get("MIGRATION_DATABASE_URL"):
        app.config["MIGRATION_DATABASE_URL"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(app.config["DATABASE_URL"])
    app.config["MIGRATION_DATABASE_URL"] = _normalise_url(app.config["MIGRATION_DATABASE_URL"])
    app.config["SQLALCHEMY_ECHO"] = bool(app.config.get("SQL_ECHO"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    development = app.config["ENV_NAME"] in {"development", "testing"} or app.config.get("TESTING")
    app.config.setdefault("SESSION_COOKIE_SECURE", not development)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", not development)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Rome")
    # Absolute, so the catalogues are found from an installed wheel too (Flask-Babel
    # would otherwise look beside the app's root_path, distretto/platform/).
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIRECTORY))
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    app.config["RATELIMIT_STORAGE_URI"] = storage
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    if app.config.get("WEBHOOKS_ALLOW_PRIVATE") is None:
        app.config["WEBHOOKS_ALLOW_PRIVATE"] = bool(development)
    elif isinstance(app.config["WEBHOOKS_ALLOW_PRIVATE"], str):
        flag = app.config["WEBHOOKS_ALLOW_PRIVATE"].strip().lower()
        app.config["WEBHOOKS_ALLOW_PRIVATE"] = flag in {"1", "true", "yes", "on"}


def _normalise_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and always drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """Generate the secret key once and keep it beside the database.

    Never hard-coded: a key in the source would let anyone forge sessions on
    every installation that forgot to set one.
    """
    path = instance / "secret_key"
    if not path.exists():
        # Written whole under a private name, then linked into place: processes
        # starting together (gunicorn workers) all end up reading the one winner.
        draft = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def validate(config: dict[str, Any]) -> None:
    """Refuse settings that cannot work, naming the variable to fix."""
    if config["ENV_NAME"] not in {"development", "production", "testing"}:
        raise ConfigError(
            "DISTRETTO_ENV_NAME must be development, production or testing, "
            f"got {config['ENV_NAME']!r}"
        )
    url = config["SQLALCHEMY_DATABASE_URI"]
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        scheme = url.split(":", 1)[0] if ":" in url else url[:20]  # never echo a password
        raise ConfigError(
            f"DISTRETTO_DATABASE_URL must be a sqlite:// or postgresql:// URL, got {scheme!r}"
        )
    if config["DEFAULT_LOCALE"] not in config["SUPPORTED_LOCALES"]:
        raise ConfigError(
            f"DISTRETTO_DEFAULT_LOCALE {config['DEFAULT_LOCALE']!r} is not one of "
            f"DISTRETTO_SUPPORTED_LOCALES {config['SUPPORTED_LOCALES']}"
        )
    if config["LOG_FORMAT"] not in {"text", "json"}:
        raise ConfigError(
            f"DISTRETTO_LOG_FORMAT must be text or json, got {config['LOG_FORMAT']!r}"
        )
    if len(str(config["SECRET_KEY"])) < 16:
        raise ConfigError("DISTRETTO_SECRET_KEY must be at least 16 characters long")
