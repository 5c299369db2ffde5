"""catalog module: initial tables

Revision ID: catalog_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from distretto.sdk import disable_tenant_rls, enable_tenant_rls

revision = "catalog_0001"
down_revision = None
branch_labels = ("catalog",)
depends_on = "0002_customisation"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "catalog_payment_terms",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=4), nullable=False),
        sa.Column("instalments", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_catalog_payment_terms_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_payment_terms")),
        sa.UniqueConstraint(
            "tenant_id", "code", name=op.f("uq_catalog_payment_terms_tenant_id_code")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_catalog_payment_terms_tenant_id_id")),
    )
    op.create_table(
        "catalog_vat_rates",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("natura", sa.String(length=8), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_catalog_vat_rates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_vat_rates")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_catalog_vat_rates_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_catalog_vat_rates_tenant_id_id")),
    )
    op.create_table(
        "catalog_parties",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("is_customer", sa.Boolean(), nullable=False),
        sa.Column("is_supplier", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("tax_code", sa.String(length=16), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("province", sa.String(length=2), nullable=True),
        sa.Column("sdi_code", sa.String(length=7), nullable=True),
        sa.Column("pec", sa.String(length=254), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("payment_terms_id", BigId, nullable=True),
        sa.Column("vat_rate_id", BigId, nullable=True),
        sa.Column("split_payment", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "is_customer OR is_supplier", name=op.f("ck_catalog_parties_customer_or_supplier")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_terms_id"],
            ["catalog_payment_terms.tenant_id", "catalog_payment_terms.id"],
            name=op.f("fk_catalog_parties_tenant_id_payment_terms_id_catalog_payment_terms"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "vat_rate_id"],
            ["catalog_vat_rates.tenant_id", "catalog_vat_rates.id"],
            name=op.f("fk_catalog_parties_tenant_id_vat_rate_id_catalog_vat_rates"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_catalog_parties_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_parties")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_catalog_parties_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_catalog_parties_tenant_id_id")),
    )
    op.create_index(
        "ix_catalog_parties_tenant_id_name",
        "catalog_parties",
        ["tenant_id", "legal_name"],
        unique=False,
    )
    op.create_index(
        "ix_catalog_parties_tenant_id_vat",
        "catalog_parties",
        ["tenant_id", "vat_number"],
        unique=False,
    )
    op.create_table(
        "catalog_products",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("sale_price", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("purchase_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("vat_rate_id", BigId, nullable=False),
        sa.Column("is_service", sa.Boolean(), nullable=False),
        sa.Column("stocked", sa.Boolean(), nullable=False),
        sa.Column("reorder_point", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "sale_price >= 0 AND purchase_cost >= 0",
            name=op.f("ck_catalog_products_prices_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "vat_rate_id"],
            ["catalog_vat_rates.tenant_id", "catalog_vat_rates.id"],
            name=op.f("fk_catalog_products_tenant_id_vat_rate_id_catalog_vat_rates"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_catalog_products_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_catalog_products_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_catalog_products_tenant_id_id")),
    )
    op.create_index(
        "ix_catalog_products_tenant_id_description",
        "catalog_products",
        ["tenant_id", "description"],
        unique=False,
    )
    op.create_table(
        "catalog_contacts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("party_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_catalog_contacts_tenant_id_party_id_catalog_parties"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_catalog_contacts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_contacts")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_catalog_contacts_tenant_id_id")),
    )
    op.create_index(
        "ix_catalog_contacts_tenant_id_party",
        "catalog_contacts",
        ["tenant_id", "party_id"],
        unique=False,
    )
    enable_tenant_rls("catalog_payment_terms")
    enable_tenant_rls("catalog_vat_rates")
    enable_tenant_rls("catalog_parties")
    enable_tenant_rls("catalog_products")
    enable_tenant_rls("catalog_contacts")


def downgrade():
    disable_tenant_rls("catalog_payment_terms")
    disable_tenant_rls("catalog_vat_rates")
    disable_tenant_rls("catalog_parties")
    disable_tenant_rls("catalog_products")
    disable_tenant_rls("catalog_contacts")
    op.drop_table("catalog_contacts")
    op.drop_table("catalog_products")
    op.drop_table("catalog_parties")
    op.drop_table("catalog_vat_rates")
    op.drop_table("catalog_payment_terms")
