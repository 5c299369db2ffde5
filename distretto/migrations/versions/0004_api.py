"""API tokens and idempotency keys

Revision ID: 0004_api
Revises: 0003_files
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa
from alembic import op

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls

revision = '0004_api'
down_revision = '0003_files'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', BigId, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('permissions', sa.JSON(), nullable=False),
    sa.Column('created_by_id', BigId, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', BigId, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_tokens_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_api_tokens_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'secret_hash', name=op.f('uq_api_tokens_tenant_id_secret_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_list', ['tenant_id', 'created_at'], unique=False)
    enable_tenant_rls('api_tokens')

    op.create_table('api_idempotency_keys',
    sa.Column('id', BigId, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', BigId, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_idempotency_keys_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
    sa.UniqueConstraint('tenant_id', 'actor', 'key', name=op.f('uq_api_idempotency_keys_tenant_id_actor_key')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_api_idempotency_keys_tenant_id_id')),
    )
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_api_idempotency_keys_expiry', ['tenant_id', 'expires_at'], unique=False)
    enable_tenant_rls('api_idempotency_keys')


def downgrade():
    disable_tenant_rls('api_idempotency_keys')
    with op.batch_alter_table('api_idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_api_idempotency_keys_expiry')
    op.drop_table('api_idempotency_keys')
    disable_tenant_rls('api_tokens')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_list')
    op.drop_table('api_tokens')
