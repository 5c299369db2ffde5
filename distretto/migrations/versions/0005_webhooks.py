"""webhook subscriptions and deliveries

Revision ID: 0005_webhooks
Revises: 0004_api
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0005_webhooks'
down_revision = '0004_api'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
