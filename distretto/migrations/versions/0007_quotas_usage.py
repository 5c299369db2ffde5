"""quotas and usage

Revision ID: 0007_quotas_usage
Revises: 0006_support_access
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0007_quotas_usage'
down_revision = '0006_support_access'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
