"""firm export, import and deletion

Revision ID: 0008_firm_lifecycle
Revises: 0007_quotas_usage
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0008_firm_lifecycle'
down_revision = '0007_quotas_usage'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
