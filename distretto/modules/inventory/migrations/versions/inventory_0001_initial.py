"""inventory module: initial tables

Revision ID: inventory_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from distretto.sdk import disable_tenant_rls, enable_tenant_rls

revision = "inventory_0001"
down_revision = None
branch_labels = ("inventory",)
depends_on = "catalog_0001"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "inventory_warehouses",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_warehouses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_warehouses")),
        sa.UniqueConstraint(
            "tenant_id", "code", name=op.f("uq_inventory_warehouses_tenant_id_code")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_warehouses_tenant_id_id")),
    )
    op.create_table(
        "inventory_locations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("warehouse_id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "warehouse_id"],
            ["inventory_warehouses.tenant_id", "inventory_warehouses.id"],
            name=op.f("fk_inventory_locations_tenant_id_warehouse_id_inventory_warehouses"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_locations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_locations")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_locations_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "warehouse_id",
            "code",
            name=op.f("uq_inventory_locations_tenant_id_warehouse_id_code"),
        ),
    )
    op.create_table(
        "inventory_counts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("count_date", sa.Date(), nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_counts_tenant_id_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_counts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_counts")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_counts_tenant_id_id")),
    )
    op.create_table(
        "inventory_moves",
        sa.Column("id", BigId, nullable=False),
        sa.Column("move_date", sa.Date(), nullable=False),
        sa.Column("move_type", sa.String(length=16), nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("from_location_id", BigId, nullable=True),
        sa.Column("to_location_id", BigId, nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=16, scale=6), nullable=True),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", BigId, nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL",
            name=op.f("ck_inventory_moves_has_a_location"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_inventory_moves_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_inventory_moves_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "from_location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_moves_tenant_id_from_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_moves_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "to_location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_moves_tenant_id_to_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_moves_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_moves")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_moves_tenant_id_id")),
    )
    op.create_index(
        "ix_inventory_moves_product",
        "inventory_moves",
        ["tenant_id", "product_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_inventory_moves_reference",
        "inventory_moves",
        ["tenant_id", "reference_type", "reference_id"],
        unique=False,
    )
    op.create_table(
        "inventory_product_stock",
        sa.Column("id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("reserved", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("average_cost", sa.Numeric(precision=16, scale=6), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "reserved >= 0", name=op.f("ck_inventory_product_stock_reserved_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_product_stock_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_product_stock_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_product_stock")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_inventory_product_stock_tenant_id_id")
        ),
        sa.UniqueConstraint(
            "tenant_id", "product_id", name=op.f("uq_inventory_product_stock_tenant_id_product_id")
        ),
    )
    op.create_table(
        "inventory_receipts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("receipt_date", sa.Date(), nullable=False),
        sa.Column("party_id", BigId, nullable=True),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", BigId, nullable=True),
        sa.Column("source_number", sa.String(length=40), nullable=True),
        sa.Column("supplier_document", sa.String(length=60), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_receipts_tenant_id_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_inventory_receipts_tenant_id_party_id_catalog_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_receipts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_receipts")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_receipts_tenant_id_id")),
    )
    op.create_index(
        "ix_inventory_receipts_list",
        "inventory_receipts",
        ["tenant_id", "receipt_date", "id"],
        unique=False,
    )
    op.create_table(
        "inventory_reservations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_id", BigId, nullable=False),
        sa.Column("source_line_id", BigId, nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_inventory_reservations_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_reservations_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_reservations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_reservations")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_reservations_tenant_id_id")),
    )
    op.create_index(
        "ix_inventory_reservations_source",
        "inventory_reservations",
        ["tenant_id", "source_type", "source_id"],
        unique=False,
    )
    op.create_table(
        "inventory_shipments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("sequence", BigId, nullable=True),
        sa.Column("shipment_date", sa.Date(), nullable=False),
        sa.Column("party_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", BigId, nullable=True),
        sa.Column("source_number", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("packages", sa.Integer(), nullable=True),
        sa.Column("weight_kg", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("appearance", sa.String(length=60), nullable=True),
        sa.Column("destination", sa.String(length=300), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("invoiced", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("workflow_id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_shipments_tenant_id_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_inventory_shipments_tenant_id_party_id_catalog_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_definitions.tenant_id", "workflow_definitions.id"],
            name=op.f("fk_inventory_shipments_tenant_id_workflow_id_workflow_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_shipments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_shipments")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_shipments_tenant_id_id")),
    )
    op.create_index(
        "ix_inventory_shipments_list",
        "inventory_shipments",
        ["tenant_id", "shipment_date", "id"],
        unique=False,
    )
    op.create_index(
        "ix_inventory_shipments_source",
        "inventory_shipments",
        ["tenant_id", "source_type", "source_id"],
        unique=False,
    )
    op.create_table(
        "inventory_stock_levels",
        sa.Column("id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["inventory_locations.tenant_id", "inventory_locations.id"],
            name=op.f("fk_inventory_stock_levels_tenant_id_location_id_inventory_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_stock_levels_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_stock_levels_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_stock_levels")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_stock_levels_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "product_id",
            "location_id",
            name=op.f("uq_inventory_stock_levels_tenant_id_product_id_location_id"),
        ),
    )
    op.create_table(
        "inventory_count_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("count_id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("expected", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("counted", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "counted IS NULL OR counted >= 0",
            name=op.f("ck_inventory_count_lines_counted_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "count_id"],
            ["inventory_counts.tenant_id", "inventory_counts.id"],
            name=op.f("fk_inventory_count_lines_tenant_id_count_id_inventory_counts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_count_lines_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_count_lines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_count_lines")),
        sa.UniqueConstraint(
            "tenant_id",
            "count_id",
            "product_id",
            name=op.f("uq_inventory_count_lines_tenant_id_count_id_product_id"),
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_inventory_count_lines_tenant_id_id")),
    )
    op.create_table(
        "inventory_receipt_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("receipt_id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=False),
        sa.Column("source_line_id", BigId, nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=16, scale=6), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_inventory_receipt_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_receipt_lines_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "receipt_id"],
            ["inventory_receipts.tenant_id", "inventory_receipts.id"],
            name=op.f("fk_inventory_receipt_lines_tenant_id_receipt_id_inventory_receipts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_inventory_receipt_lines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_receipt_lines")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_inventory_receipt_lines_tenant_id_id")
        ),
    )
    op.create_index(
        "ix_inventory_receipt_lines_receipt",
        "inventory_receipt_lines",
        ["tenant_id", "receipt_id"],
        unique=False,
    )
    op.create_table(
        "inventory_shipment_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("shipment_id", BigId, nullable=False),
        sa.Column("product_id", BigId, nullable=True),
        sa.Column("source_line_id", BigId, nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_inventory_shipment_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_inventory_shipment_lines_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["inventory_shipments.tenant_id", "inventory_shipments.id"],
            name=op.f("fk_inventory_shipment_lines_tenant_id_shipment_id_inventory_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_inventory_shipment_lines_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_shipment_lines")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_inventory_shipment_lines_tenant_id_id")
        ),
    )
    op.create_index(
        "ix_inventory_shipment_lines_shipment",
        "inventory_shipment_lines",
        ["tenant_id", "shipment_id"],
        unique=False,
    )
    enable_tenant_rls("inventory_warehouses")
    enable_tenant_rls("inventory_locations")
    enable_tenant_rls("inventory_counts")
    enable_tenant_rls("inventory_moves")
    enable_tenant_rls("inventory_product_stock")
    enable_tenant_rls("inventory_receipts")
    enable_tenant_rls("inventory_reservations")
    enable_tenant_rls("inventory_shipments")
    enable_tenant_rls("inventory_stock_levels")
    enable_tenant_rls("inventory_count_lines")
    enable_tenant_rls("inventory_receipt_lines")
    enable_tenant_rls("inventory_shipment_lines")


def downgrade():
    disable_tenant_rls("inventory_warehouses")
    disable_tenant_rls("inventory_locations")
    disable_tenant_rls("inventory_counts")
    disable_tenant_rls("inventory_moves")
    disable_tenant_rls("inventory_product_stock")
    disable_tenant_rls("inventory_receipts")
    disable_tenant_rls("inventory_reservations")
    disable_tenant_rls("inventory_shipments")
    disable_tenant_rls("inventory_stock_levels")
    disable_tenant_rls("inventory_count_lines")
    disable_tenant_rls("inventory_receipt_lines")
    disable_tenant_rls("inventory_shipment_lines")
    op.drop_table("inventory_shipment_lines")
    op.drop_table("inventory_receipt_lines")
    op.drop_table("inventory_count_lines")
    op.drop_table("inventory_stock_levels")
    op.drop_table("inventory_shipments")
    op.drop_table("inventory_reservations")
    op.drop_table("inventory_receipts")
    op.drop_table("inventory_product_stock")
    op.drop_table("inventory_moves")
    op.drop_table("inventory_counts")
    op.drop_table("inventory_locations")
    op.drop_table("inventory_warehouses")
