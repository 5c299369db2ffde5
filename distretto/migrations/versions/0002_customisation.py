"""workflows, custom fields, numbering, district templates

Revision ID: 0002_customisation
Revises: 0001_kernel
Create Date: 2026-11-27 06:26:47.761241
"""
import sqlalchemy as sa
from alembic import op

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '0002_customisation'
down_revision = '0001_kernel'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('applied_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template_name', sa.String(length=60), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_applied_templates_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applied_templates')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_applied_templates_tenant_id_id')),
    )
    op.create_table('custom_field_definitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('field_type', sa.String(length=16), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('default', sa.JSON(), nullable=True),
    sa.Column('help_text', sa.Text(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_custom_field_definitions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_definitions')),
    sa.UniqueConstraint('tenant_id', 'document_type', 'name', name=op.f('uq_custom_field_definitions_tenant_id_document_type_name')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_custom_field_definitions_tenant_id_id')),
    )
    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_custom_field_definitions_type', ['tenant_id', 'document_type', 'position'], unique=False)

    op.create_table('district_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('bundle', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_district_templates_published_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district_templates')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_district_templates_name_version'))
    )
    op.create_table('numbering_counters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_numbering_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_numbering_counters')),
    sa.UniqueConstraint('tenant_id', 'document_type', 'series', 'year', name=op.f('uq_numbering_counters_tenant_id_document_type_series_year')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_numbering_counters_tenant_id_id')),
    )
    op.create_table('numbering_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('format', sa.String(length=80), nullable=False),
    sa.Column('yearly_reset', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_numbering_rules_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_numbering_rules')),
    sa.UniqueConstraint('tenant_id', 'document_type', name=op.f('uq_numbering_rules_tenant_id_document_type')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_numbering_rules_tenant_id_id')),
    )
    op.create_table('workflow_definitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('base_default', sa.JSON(), nullable=True),
    sa.Column('base_default_hash', sa.String(length=64), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_workflow_definitions_published_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workflow_definitions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_definitions')),
    sa.UniqueConstraint('tenant_id', 'document_type', 'version', name=op.f('uq_workflow_definitions_tenant_id_document_type_version')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_workflow_definitions_tenant_id_id')),
    )
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_definitions_current', ['tenant_id', 'document_type', 'is_current'], unique=False)

    op.create_table('workflow_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_type', sa.String(length=60), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('workflow_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transition', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=40), nullable=True),
    sa.Column('to_state', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'workflow_id'], ['workflow_definitions.tenant_id', 'workflow_definitions.id'], name=op.f('fk_workflow_history_tenant_id_workflow_id_workflow_definitions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_workflow_history_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_workflow_history_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_history')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_workflow_history_tenant_id_id')),
    )
    with op.batch_alter_table('workflow_history', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_history_document', ['tenant_id', 'document_type', 'document_id'], unique=False)


    for table in ('applied_templates', 'custom_field_definitions', 'numbering_counters', 'numbering_rules', 'workflow_definitions', 'workflow_history'):
        enable_tenant_rls(table)

def downgrade():
    for table in ('applied_templates', 'custom_field_definitions', 'numbering_counters', 'numbering_rules', 'workflow_definitions', 'workflow_history'):
        disable_tenant_rls(table)
    with op.batch_alter_table('workflow_history', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_history_document')

    op.drop_table('workflow_history')
    with op.batch_alter_table('workflow_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_definitions_current')

    op.drop_table('workflow_definitions')
    op.drop_table('numbering_rules')
    op.drop_table('numbering_counters')
    op.drop_table('district_templates')
    with op.batch_alter_table('custom_field_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_custom_field_definitions_type')

    op.drop_table('custom_field_definitions')
    op.drop_table('applied_templates')
