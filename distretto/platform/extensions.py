"""Extensions, created unbound here and bound in ``create_app`` (app-factory pattern)."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from distretto.platform.db import db

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]


@migrate.configure
def _module_branches(config: object) -> object:
    """Each module's migrations are its own branch of the one Alembic history."""
    import os

    from distretto.platform.migrations import directory
    from distretto.platform.modules import registry

    locations = [os.path.join(directory(), "versions"), *registry.migration_locations()]
    config.set_main_option("version_locations", os.pathsep.join(locations))  # type: ignore[attr-defined]
    return config
