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


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('support_grants',
    sa.Column('id', ID, nullable=False),
    sa.Column('operator_id', ID, nullable=False),
    sa.Column('granted_by_id', ID, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', ID, nullable=True),
    sa.Column('tenant_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['users.id'], name=op.f('fk_support_grants_operator_id_users')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_support_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_support_grants_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_support_grants_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_grants')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_support_grants_tenant_id_id')),
    )
    with op.batch_alter_table('support_grants', schema=None) as batch_op:
        batch_op.create_index('ix_support_grants_tenant_id_expires_at', ['tenant_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_support_grants_operator_id', ['operator_id'], unique=False)
    # an operator reads the grants naming them across firms (the operator console)
    enable_tenant_rls(
        'support_grants',
        extra_using="operator_id = NULLIF(current_setting('app.user_id', true), '')::bigint",
    )


def downgrade():
    disable_tenant_rls('support_grants')
    with op.batch_alter_table('support_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_support_grants_operator_id')
        batch_op.drop_index('ix_support_grants_tenant_id_expires_at')
    op.drop_table('support_grants')
