"""index failed outbox items

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 16:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_failed', ['id'], unique=False,
                              postgresql_where=sa.text('failed_at IS NOT NULL'),
                              sqlite_where=sa.text('failed_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_failed', postgresql_where=sa.text('failed_at IS NOT NULL'),
                            sqlite_where=sa.text('failed_at IS NOT NULL'))
