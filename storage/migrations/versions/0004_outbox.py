"""outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:56:13.797111
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lane', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending_lane', ['lane', 'id'], unique=False, postgresql_where=sa.text('delivered_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL AND failed_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending_lane', postgresql_where=sa.text('delivered_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('delivered_at IS NULL AND failed_at IS NULL'))

    op.drop_table('outbox')
