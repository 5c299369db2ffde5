"""Alembic environment: runs as the owner role (MIGRATION_DATABASE_URL)."""

from __future__ import annotations

import logging

from alembic import context
from flask import current_app
from sqlalchemy import create_engine

from distretto.platform.extensions import db

config = context.config
logger = logging.getLogger("alembic.env")


def _url() -> str:
    return current_app.config["MIGRATION_DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
