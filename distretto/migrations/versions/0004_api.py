"""API tokens and idempotency keys

Revision ID: 0004_api
Revises: 0003_files
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0004_api'
down_revision = '0003_files'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
