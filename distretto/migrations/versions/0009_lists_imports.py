"""saved list views and background imports

Revision ID: 0009_lists_imports
Revises: 0008_firm_lifecycle
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0009_lists_imports'
down_revision = '0008_firm_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
