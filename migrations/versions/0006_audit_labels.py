"""audit log: the record's label as people know it, the peer address of logins, longer actors

Revision ID: 0006_audit_labels
Revises: 0005_bill_cancel_reason
Create Date: 2026-12-01 19:30:00.000000

Only nullable columns are added and a column is widened, so code still running the previous
release keeps working during a rolling deploy. Rows written before keep a NULL label and are
shown as "<entity> #<id>".
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_audit_labels'
down_revision = '0005_bill_cancel_reason'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entity_label', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('remote_addr', sa.String(length=45), nullable=True))
        batch_op.alter_column(
            'actor',
            existing_type=sa.String(length=128),
            type_=sa.String(length=400),
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column(
            'actor',
            existing_type=sa.String(length=400),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
        batch_op.drop_column('remote_addr')
        batch_op.drop_column('entity_label')
