"""alert notifications: the raw notification stored at the door, routed later from the outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:40:00

One new table, ``alert_notifications``: each Alertmanager or Grafana notification as its sender posted it (source,
team, the JSON body, when it was received), written with its outbox item in the door's one short transaction, so the
door answers 200 once it is stored; ``routed_at`` is set by the routing's own transaction (groups, episodes, alerts,
incidents, triage), which makes a re-delivered outbox item route nothing twice.
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('routed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notifications'))
    )


def downgrade() -> None:
    op.drop_table('alert_notifications')
