"""firm export, import and deletion

Revision ID: 0008_firm_lifecycle
Revises: 0007_quotas_usage
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_firm_lifecycle'
down_revision = '0007_quotas_usage'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('delete_after', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('delete_after')
        batch_op.drop_column('deletion_requested_at')
