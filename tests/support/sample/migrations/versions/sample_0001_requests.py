"""sample module: requests

Revision ID: sample_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls

revision = "sample_0001"
down_revision = None
branch_labels = ("sample",)
depends_on = "0002_customisation"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "sample_requests",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("workflow_id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sample_requests_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_definitions.tenant_id", "workflow_definitions.id"],
            name=op.f("fk_sample_requests_tenant_id_workflow_id_workflow_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_requests")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_sample_requests_tenant_id_id")),
    )
    op.create_index("ix_sample_requests_tenant_id_state", "sample_requests", ["tenant_id", "state"])
    enable_tenant_rls("sample_requests")


def downgrade():
    disable_tenant_rls("sample_requests")
    op.drop_index("ix_sample_requests_tenant_id_state", table_name="sample_requests")
    op.drop_table("sample_requests")
