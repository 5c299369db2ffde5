"""support grants and firm suspension

Revision ID: 0006_support_access
Revises: 0005_webhooks
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0006_support_access'
down_revision = '0005_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
