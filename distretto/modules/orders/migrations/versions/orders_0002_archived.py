"""orders: archived flag (the API's soft removal of finished orders)

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "orders_0002"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN (SQLite takes it with a constant default): no table rebuild
    op.add_column(
        "orders_orders",
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.drop_column("orders_orders", "archived")
