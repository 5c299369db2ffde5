"""invoicing module: initial tables

Revision ID: invoicing_0001
Revises:
Create Date: 2026-11-27 06:49:21.892779
"""

import sqlalchemy as sa
from alembic import op

from distretto.platform.migrations import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = "invoicing_0001"
down_revision = None
branch_labels = ("invoicing",)
depends_on = "catalog_0001"


def upgrade():
    op.create_table(
        "invoicing_invoices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document_kind", sa.String(length=4), nullable=False),
        sa.Column("series", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_terms_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("payment_method", sa.String(length=4), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("split_payment", sa.Boolean(), nullable=False),
        sa.Column("stamp_duty", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column(
            "corrects_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("order_references", sa.JSON(), nullable=False),
        sa.Column("ddt_references", sa.JSON(), nullable=False),
        sa.Column("causale", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("taxable_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("vat_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount_due", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("sdi_filename", sa.String(length=40), nullable=True),
        sa.Column("xml_content", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column(
            "workflow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint(
            "document_kind IN ('TD01', 'TD04', 'TD24')",
            name=op.f("ck_invoicing_invoices_document_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invoicing_invoices_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "corrects_id"],
            ["invoicing_invoices.tenant_id", "invoicing_invoices.id"],
            name=op.f("fk_invoicing_invoices_tenant_id_corrects_id_invoicing_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_invoicing_invoices_tenant_id_party_id_catalog_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_terms_id"],
            ["catalog_payment_terms.tenant_id", "catalog_payment_terms.id"],
            name=op.f("fk_invoicing_invoices_tenant_id_payment_terms_id_catalog_payment_terms"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "workflow_id"],
            ["workflow_definitions.tenant_id", "workflow_definitions.id"],
            name=op.f("fk_invoicing_invoices_tenant_id_workflow_id_workflow_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoicing_invoices_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoicing_invoices")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_invoicing_invoices_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "year",
            "series",
            "sequence",
            name=op.f("uq_invoicing_invoices_tenant_id_year_series_sequence"),
        ),
    )
    with op.batch_alter_table("invoicing_invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoicing_invoices_list", ["tenant_id", "issue_date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_invoicing_invoices_party", ["tenant_id", "party_id"], unique=False
        )
        batch_op.create_index("ix_invoicing_invoices_state", ["tenant_id", "state"], unique=False)

    op.create_table(
        "invoicing_received",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document_kind", sa.String(length=4), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("taxable_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("vat_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=True),
        sa.Column("xml_content", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "party_id"],
            ["catalog_parties.tenant_id", "catalog_parties.id"],
            name=op.f("fk_invoicing_received_tenant_id_party_id_catalog_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoicing_received_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoicing_received")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_invoicing_received_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id",
            "party_id",
            "number",
            "issue_date",
            name=op.f("uq_invoicing_received_tenant_id_party_id_number_issue_date"),
        ),
    )
    with op.batch_alter_table("invoicing_received", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoicing_received_list", ["tenant_id", "issue_date", "id"], unique=False
        )

    op.create_table(
        "invoicing_dues",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("method", sa.String(length=4), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("paid_amount >= 0", name=op.f("ck_invoicing_dues_paid_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoicing_invoices.tenant_id", "invoicing_invoices.id"],
            name=op.f("fk_invoicing_dues_tenant_id_invoice_id_invoicing_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoicing_dues_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoicing_dues")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_invoicing_dues_tenant_id_id")),
    )
    with op.batch_alter_table("invoicing_dues", schema=None) as batch_op:
        batch_op.create_index("ix_invoicing_dues_due", ["tenant_id", "due_date"], unique=False)

    op.create_table(
        "invoicing_invoice_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("product_code", sa.String(length=40), nullable=True),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("natura", sa.String(length=8), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "source_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ddt_number", sa.String(length=40), nullable=True),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint(
            "discount_percent >= 0 AND discount_percent <= 100",
            name=op.f("ck_invoicing_invoice_lines_discount_range"),
        ),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_invoicing_invoice_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoicing_invoices.tenant_id", "invoicing_invoices.id"],
            name=op.f("fk_invoicing_invoice_lines_tenant_id_invoice_id_invoicing_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["catalog_products.tenant_id", "catalog_products.id"],
            name=op.f("fk_invoicing_invoice_lines_tenant_id_product_id_catalog_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoicing_invoice_lines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoicing_invoice_lines")),
        sa.UniqueConstraint(
            "tenant_id", "id", name=op.f("uq_invoicing_invoice_lines_tenant_id_id")
        ),
    )
    with op.batch_alter_table("invoicing_invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoicing_invoice_lines_invoice",
            ["tenant_id", "invoice_id", "position"],
            unique=False,
        )

    op.create_table(
        "invoicing_payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("due_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("method", sa.String(length=4), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_invoicing_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "due_id"],
            ["invoicing_dues.tenant_id", "invoicing_dues.id"],
            name=op.f("fk_invoicing_payments_tenant_id_due_id_invoicing_dues"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoicing_invoices.tenant_id", "invoicing_invoices.id"],
            name=op.f("fk_invoicing_payments_tenant_id_invoice_id_invoicing_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invoicing_payments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoicing_payments")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_invoicing_payments_tenant_id_id")),
    )
    with op.batch_alter_table("invoicing_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoicing_payments_invoice", ["tenant_id", "invoice_id"], unique=False
        )

    for table in (
        "invoicing_invoices",
        "invoicing_received",
        "invoicing_dues",
        "invoicing_invoice_lines",
        "invoicing_payments",
    ):
        enable_tenant_rls(table)


def downgrade():
    for table in (
        "invoicing_invoices",
        "invoicing_received",
        "invoicing_dues",
        "invoicing_invoice_lines",
        "invoicing_payments",
    ):
        disable_tenant_rls(table)
    with op.batch_alter_table("invoicing_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_invoicing_payments_invoice")

    op.drop_table("invoicing_payments")
    with op.batch_alter_table("invoicing_invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoicing_invoice_lines_invoice")

    op.drop_table("invoicing_invoice_lines")
    with op.batch_alter_table("invoicing_dues", schema=None) as batch_op:
        batch_op.drop_index("ix_invoicing_dues_due")

    op.drop_table("invoicing_dues")
    with op.batch_alter_table("invoicing_received", schema=None) as batch_op:
        batch_op.drop_index("ix_invoicing_received_list")

    op.drop_table("invoicing_received")
    with op.batch_alter_table("invoicing_invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoicing_invoices_state")
        batch_op.drop_index("ix_invoicing_invoices_party")
        batch_op.drop_index("ix_invoicing_invoices_list")

    op.drop_table("invoicing_invoices")
