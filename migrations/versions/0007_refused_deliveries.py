"""refused deliveries keep their body's size, not the body

Revision ID: 0007_refused_deliveries
Revises: 0006_audit_labels
Create Date: 2026-12-01 19:45:00

A nullable column only: code of the previous release keeps working during a rolling deploy.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_refused_deliveries'
down_revision = '0006_audit_labels'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_bytes', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('body_bytes')
