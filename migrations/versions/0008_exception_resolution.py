"""exception resolution: what happened to the money, and the payment behind each exception

Revision ID: 0008_exception_resolution
Revises: 0007_refused_deliveries
Create Date: 2026-12-01 19:30:00

Nullable columns only, so code still running the previous release keeps working during a
rolling deploy. ``transaction_status`` is filled for existing exceptions from the deliveries
that opened them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_exception_resolution'
down_revision = '0007_refused_deliveries'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_exceptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('transaction_status', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('agent_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('agent_trx_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('report_fingerprint', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE payment_exceptions SET transaction_status = ("
        " SELECT MAX(n.transaction_status) FROM notifications n"
        " WHERE n.exception_id = payment_exceptions.id)"
    )


def downgrade():
    with op.batch_alter_table('payment_exceptions', schema=None) as batch_op:
        batch_op.drop_column('report_fingerprint')
        batch_op.drop_column('agent_trx_id')
        batch_op.drop_column('agent_id')
        batch_op.drop_column('transaction_status')
        batch_op.drop_column('resolution')
