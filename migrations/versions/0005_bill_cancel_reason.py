"""a cancelled bill keeps its reason; policy statuses stored normalised

Revision ID: 0005_bill_cancel_reason
Revises: 0004
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_bill_cancel_reason'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
    # Statuses are a vocabulary compared as stored: " Aktif " and "aktif" are one status.
    op.execute("UPDATE policies SET status = lower(trim(status))")


def downgrade():
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
