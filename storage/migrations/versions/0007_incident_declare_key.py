"""incidents remember the accepted declare they came from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declare_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_incidents_declare_key'), ['declare_key'])


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_incidents_declare_key'), type_='unique')
        batch_op.drop_column('declare_key')
