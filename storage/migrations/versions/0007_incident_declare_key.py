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
    # A column and a unique index: both are added in place on SQLite. (A unique constraint would make Alembic
    # rebuild the table, and dropping the old incidents table cascades to every table that refers to it.)
    op.add_column('incidents', sa.Column('declare_key', sa.String(length=80), nullable=True))
    op.create_index('uq_incidents_declare_key', 'incidents', ['declare_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_incidents_declare_key', table_name='incidents')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('declare_key')
