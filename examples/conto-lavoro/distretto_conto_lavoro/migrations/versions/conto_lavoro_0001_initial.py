"""conto lavoro: subcontractors, items, dispatches and returns

Revision ID: conto_lavoro_0001
Revises:
Create Date: 2026-11-27

The first revision of the ``conto_lavoro`` branch. It depends on the kernel
revision that creates the firms and workflow tables it refers to.
"""

import sqlalchemy as sa
from alembic import op
from distretto.sdk import disable_tenant_rls, enable_tenant_rls

revision = "conto_lavoro_0001"
down_revision = None
branch_labels = ("conto_lavoro",)
depends_on = "0002_customisation"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "conto_lavoro_items",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_conto_lavoro_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_items")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_conto_lavoro_items_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_conto_lavoro_items_tenant_id_id")),
    )
    op.create_table(
        "conto_lavoro_subcontractors",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conto_lavoro_subcontractors_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_subcontractors")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_conto_lavoro_subcontractors_tenant_id_id")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "vat_number",
            name=op.f("uq_conto_lavoro_subcontractors_tenant_id_vat_number"),
        ),
    )
    op.create_table(
        "conto_lavoro_dispatches",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("subcontractor_id", BigId, nullable=False),
        sa.Column("processing", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("workflow_id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subcontractor_id"],
            ["conto_lavoro_subcontractors.tenant_id", "conto_lavoro_subcontractors.id"],
            name=op.f(
                "fk_conto_lavoro_dispatches_tenant_id_subcontractor_id_conto_lavoro_subcontractors"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_definitions.tenant_id", "workflow_definitions.id"],
            name=op.f("fk_conto_lavoro_dispatches_tenant_id_workflow_id_workflow_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_conto_lavoro_dispatches_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_dispatches")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_conto_lavoro_dispatches_tenant_id_id")
        ),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_conto_lavoro_dispatches_tenant_id_number")
        ),
    )
    op.create_index(
        "ix_conto_lavoro_dispatches_state", "conto_lavoro_dispatches", ["tenant_id", "state"]
    )
    op.create_index(
        "ix_conto_lavoro_dispatches_subcontractor",
        "conto_lavoro_dispatches",
        ["tenant_id", "subcontractor_id"],
    )
    op.create_table(
        "conto_lavoro_returns",
        sa.Column("id", BigId, nullable=False),
        sa.Column("subcontractor_id", BigId, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subcontractor_id"],
            ["conto_lavoro_subcontractors.tenant_id", "conto_lavoro_subcontractors.id"],
            name=op.f(
                "fk_conto_lavoro_returns_tenant_id_subcontractor_id_conto_lavoro_subcontractors"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_conto_lavoro_returns_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_returns")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_conto_lavoro_returns_tenant_id_id")),
    )
    op.create_index(
        "ix_conto_lavoro_returns_subcontractor",
        "conto_lavoro_returns",
        ["tenant_id", "subcontractor_id"],
    )
    op.create_table(
        "conto_lavoro_dispatch_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("dispatch_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_conto_lavoro_dispatch_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_id"],
            ["conto_lavoro_dispatches.tenant_id", "conto_lavoro_dispatches.id"],
            name=op.f(
                "fk_conto_lavoro_dispatch_lines_tenant_id_dispatch_id_conto_lavoro_dispatches"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["conto_lavoro_items.tenant_id", "conto_lavoro_items.id"],
            name=op.f("fk_conto_lavoro_dispatch_lines_tenant_id_item_id_conto_lavoro_items"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conto_lavoro_dispatch_lines_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_dispatch_lines")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_conto_lavoro_dispatch_lines_tenant_id_id")
        ),
    )
    op.create_index(
        "ix_conto_lavoro_dispatch_lines_dispatch",
        "conto_lavoro_dispatch_lines",
        ["tenant_id", "dispatch_id"],
    )
    op.create_table(
        "conto_lavoro_return_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("return_id", BigId, nullable=False),
        sa.Column("dispatch_line_id", BigId, nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("scrap", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "quantity + scrap > 0", name=op.f("ck_conto_lavoro_return_lines_something_returned")
        ),
        sa.CheckConstraint(
            "quantity >= 0 AND scrap >= 0", name=op.f("ck_conto_lavoro_return_lines_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dispatch_line_id"],
            ["conto_lavoro_dispatch_lines.tenant_id", "conto_lavoro_dispatch_lines.id"],
            name=op.f(
                "fk_conto_lavoro_return_lines_tenant_id_dispatch_line_id_conto_lavoro_dispatch_lines"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "return_id"],
            ["conto_lavoro_returns.tenant_id", "conto_lavoro_returns.id"],
            name=op.f("fk_conto_lavoro_return_lines_tenant_id_return_id_conto_lavoro_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conto_lavoro_return_lines_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conto_lavoro_return_lines")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_conto_lavoro_return_lines_tenant_id_id")
        ),
    )
    op.create_index(
        "ix_conto_lavoro_return_lines_dispatch_line",
        "conto_lavoro_return_lines",
        ["tenant_id", "dispatch_line_id"],
    )
    enable_tenant_rls("conto_lavoro_items")
    enable_tenant_rls("conto_lavoro_subcontractors")
    enable_tenant_rls("conto_lavoro_dispatches")
    enable_tenant_rls("conto_lavoro_returns")
    enable_tenant_rls("conto_lavoro_dispatch_lines")
    enable_tenant_rls("conto_lavoro_return_lines")


def downgrade():
    disable_tenant_rls("conto_lavoro_return_lines")
    disable_tenant_rls("conto_lavoro_dispatch_lines")
    disable_tenant_rls("conto_lavoro_returns")
    disable_tenant_rls("conto_lavoro_dispatches")
    disable_tenant_rls("conto_lavoro_subcontractors")
    disable_tenant_rls("conto_lavoro_items")
    op.drop_index(
        "ix_conto_lavoro_return_lines_dispatch_line", table_name="conto_lavoro_return_lines"
    )
    op.drop_table("conto_lavoro_return_lines")
    op.drop_index(
        "ix_conto_lavoro_dispatch_lines_dispatch", table_name="conto_lavoro_dispatch_lines"
    )
    op.drop_table("conto_lavoro_dispatch_lines")
    op.drop_index("ix_conto_lavoro_returns_subcontractor", table_name="conto_lavoro_returns")
    op.drop_table("conto_lavoro_returns")
    op.drop_index("ix_conto_lavoro_dispatches_subcontractor", table_name="conto_lavoro_dispatches")
    op.drop_index("ix_conto_lavoro_dispatches_state", table_name="conto_lavoro_dispatches")
    op.drop_table("conto_lavoro_dispatches")
    op.drop_table("conto_lavoro_subcontractors")
    op.drop_table("conto_lavoro_items")
