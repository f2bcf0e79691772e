"""partial index for open incidents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 14:04:22.449584
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_team_id_status_number'))
        batch_op.create_index('ix_incidents_open', ['team_id', 'number'], unique=False, postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))



def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_open', postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
        batch_op.create_index(batch_op.f('ix_incidents_team_id_status_number'), ['team_id', 'status', 'number'], unique=False)

