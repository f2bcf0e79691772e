"""private incidents: an incident whose channel is private, kept out of what non-members are shown

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 15:30:00

One column, added in place (SQLite adds a column without rebuilding the table, so migration 0009's search triggers
on ``incidents`` stay). Every incident declared before this migration was public: the server default says so.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incidents', sa.Column('private', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # SQLite drops a column in place (3.35+) only when nothing refers to it; this one has no index or trigger.
    op.drop_column('incidents', 'private')
