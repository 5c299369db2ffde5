"""quotas and usage

Per-firm quotas on ``tenants``; global usage figures (``tenant_stats``,
``tenant_usage``) and which district-template version each firm adopted
(``template_adoptions``). The three tables hold numbers and names, no firm
data, so they are not tenant-owned: operators read them across firms. Their
key is ``firm_id``, not ``tenant_id``: a NOT NULL ``tenant_id`` marks a
tenant-owned table (row-level security, composite keys), which these are not.

Revision ID: 0007_quotas_usage
Revises: 0006_support_access
Create Date: 2026-11-27 09:10:00
"""
import sqlalchemy as sa
from alembic import op

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0007_quotas_usage'
down_revision = '0006_support_access'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_users', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_storage_mb', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('api_requests_per_minute', sa.Integer(), nullable=True))

    op.create_table('tenant_stats',
    sa.Column('firm_id', ID, nullable=False),
    sa.Column('users', sa.Integer(), nullable=False),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=False),
    sa.Column('rows_estimate', sa.BigInteger(), nullable=False),
    sa.Column('modules', sa.String(length=500), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=True),
    sa.Column('collected_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['tenants.id'], name=op.f('fk_tenant_stats_firm_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('firm_id', name=op.f('pk_tenant_stats')),
    )
    op.create_table('tenant_usage',
    sa.Column('firm_id', ID, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['tenants.id'], name=op.f('fk_tenant_usage_firm_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('firm_id', 'month', 'document_type', name=op.f('pk_tenant_usage')),
    )
    with op.batch_alter_table('tenant_usage', schema=None) as batch_op:
        batch_op.create_index('ix_tenant_usage_month', ['month'], unique=False)

    op.create_table('template_adoptions',
    sa.Column('firm_id', ID, nullable=False),
    sa.Column('template_name', sa.String(length=60), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['tenants.id'], name=op.f('fk_template_adoptions_firm_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('firm_id', 'template_name', name=op.f('pk_template_adoptions')),
    )
    with op.batch_alter_table('template_adoptions', schema=None) as batch_op:
        batch_op.create_index('ix_template_adoptions_template', ['template_name', 'template_version'], unique=False)

    _backfill_adoptions()


def _backfill_adoptions():
    """Copy what each firm applied into the global table, firm by firm.

    ``applied_templates`` is under forced row-level security, which holds the
    migration's role too unless it is a superuser: each firm is read inside its
    own scope (``app.tenant_id``), as the application reads it.
    """
    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    tenant_ids = [row[0] for row in bind.execute(sa.text('SELECT id FROM tenants ORDER BY id'))]
    for tenant_id in tenant_ids:
        if postgres:
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {'t': str(tenant_id)})
        rows = bind.execute(
            sa.text(
                'SELECT template_name, template_version, applied_at FROM applied_templates '
                'WHERE tenant_id = :t ORDER BY applied_at, id'
            ),
            {'t': tenant_id},
        ).all()
        latest = {}
        for name, version, applied_at in rows:
            latest[name] = (version, applied_at)
        for name, (version, applied_at) in latest.items():
            bind.execute(
                sa.text(
                    'INSERT INTO template_adoptions (firm_id, template_name, template_version, applied_at) '
                    'VALUES (:t, :n, :v, :a)'
                ),
                {'t': tenant_id, 'n': name, 'v': version, 'a': applied_at},
            )
    if postgres:
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade():
    with op.batch_alter_table('template_adoptions', schema=None) as batch_op:
        batch_op.drop_index('ix_template_adoptions_template')
    op.drop_table('template_adoptions')
    with op.batch_alter_table('tenant_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_tenant_usage_month')
    op.drop_table('tenant_usage')
    op.drop_table('tenant_stats')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('api_requests_per_minute')
        batch_op.drop_column('max_storage_mb')
        batch_op.drop_column('max_users')
