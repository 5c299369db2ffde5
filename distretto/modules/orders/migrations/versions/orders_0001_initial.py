"""orders module: initial tables

Revision ID: orders_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from distretto.sdk import disable_tenant_rls, enable_tenant_rls

revision = "orders_0001"
down_revision = None
branch_labels = ("orders",)
depends_on = "catalog_0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "orders_orders",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("party_id", BigId, nullable=False),
        sa.Column("customer_reference", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("taxable_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("vat_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("workflow_id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint("kind IN ('sale', 'purchase')", name=op.f("ck_orders_orders_kind")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_orders_orders_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_orders_orders_tenant_id_party_id_catalog_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_definitions.tenant_id", "workflow_definitions.id"],
            name=op.f("fk_orders_orders_tenant_id_workflow_id_workflow_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_orders_orders_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_orders")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_orders_orders_tenant_id_id")),
    )
    op.create_index(
        "ix_orders_orders_list",
        "orders_orders",
        ["tenant_id", "kind", "order_date", "id"],
        unique=False,
    )
    op.create_index(
        "ix_orders_orders_number", "orders_orders", ["tenant_id", "kind", "number"], unique=False
    )
    op.create_index(
        "ix_orders_orders_party", "orders_orders", ["tenant_id", "party_id"], unique=False
    )
    op.create_index(
        "ix_orders_orders_state", "orders_orders", ["tenant_id", "kind", "state"], unique=False
    )
    op.create_table(
        "orders_order_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", BigId, nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("vat_rate_id", BigId, nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("natura", sa.String(length=8), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("quantity_delivered", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "discount_percent >= 0 AND discount_percent <= 100",
            name=op.f("ck_orders_order_lines_discount_range"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "quantity_delivered >= 0", name=op.f("ck_orders_order_lines_delivered_not_negative")
        ),
        sa.CheckConstraint(
            "unit_price >= 0", name=op.f("ck_orders_order_lines_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders_orders.tenant_id", "orders_orders.id"],
            name=op.f("fk_orders_order_lines_tenant_id_order_id_orders_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_orders_order_lines_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "vat_rate_id"],
            ["catalog_vat_rates.tenant_id", "catalog_vat_rates.id"],
            name=op.f("fk_orders_order_lines_tenant_id_vat_rate_id_catalog_vat_rates"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_orders_order_lines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_order_lines")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_orders_order_lines_tenant_id_id")),
    )
    op.create_index(
        "ix_orders_order_lines_order",
        "orders_order_lines",
        ["tenant_id", "order_id", "position"],
        unique=False,
    )
    op.create_index(
        "ix_orders_order_lines_product",
        "orders_order_lines",
        ["tenant_id", "product_id"],
        unique=False,
    )
    enable_tenant_rls("orders_orders")
    enable_tenant_rls("orders_order_lines")


def downgrade():
    disable_tenant_rls("orders_orders")
    disable_tenant_rls("orders_order_lines")
    op.drop_table("orders_order_lines")
    op.drop_table("orders_orders")
