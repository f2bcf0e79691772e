"""incidents, timeline, counters and request claims

Revision ID: 0001
Revises:
Create Date: 2026-11-24 13:14:33.643960
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_counters',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_incident_counters'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('channel_name', sa.String(length=80), nullable=True),
    sa.Column('card_ts', sa.String(length=32), nullable=True),
    sa.Column('declared_by', sa.String(length=32), nullable=False),
    sa.Column('commander', sa.String(length=32), nullable=False),
    sa.Column('declared_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=32), nullable=True),
    sa.Column('resolved_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('root_cause_category', sa.String(length=75), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('channel_id', name=op.f('uq_incidents_channel_id')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_incidents_team_id_number'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_declared_at', ['declared_at'], unique=False)
        batch_op.create_index('ix_incidents_team_id_status_number', ['team_id', 'status', 'number'], unique=False)

    op.create_table('request_claims',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_request_claims'))
    )
    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timeline_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_events_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_events_incident_id'))

    op.drop_table('timeline_events')
    op.drop_table('request_claims')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_team_id_status_number')
        batch_op.drop_index('ix_incidents_declared_at')

    op.drop_table('incidents')
    op.drop_table('incident_counters')
