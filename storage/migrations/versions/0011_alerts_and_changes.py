"""alert intake: groups, episodes, alerts, storm digests; change events

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:21:42

Alert groups as their senders key them (unique per team, source and SHA-256 of groupKey), each with its episodes
(unique per group and generation) and its alerts (unique per group, fingerprint and startsAt): the unique keys are
what make a retried, repeated or twice-received notification store nothing new. A team row is locked while a new
episode's route is decided (the storm limit); storm digests; change events (unique per team and the sender's
idempotency key) and the change an incident was caused by; incidents.detected_at.
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_digests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edit_queued', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_digests'))
    )
    op.create_table('alert_groups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('group_key', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_groups')),
    sa.UniqueConstraint('team_id', 'source', 'key_hash', name=op.f('uq_alert_groups_team_id_source_key_hash'))
    )
    op.create_table('change_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('service', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=120), nullable=True),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('recorded_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_events')),
    sa.UniqueConstraint('team_id', 'external_id', name=op.f('uq_change_events_team_id_external_id'))
    )
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.create_index('ix_change_events_team_at', ['team_id', 'at'], unique=False)

    op.create_table('alert_episodes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('receiver', sa.Text(), nullable=False),
    sa.Column('common_labels', sa.Text(), nullable=False),
    sa.Column('decided_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('auto_declared', sa.Boolean(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('previous_incident_id', sa.Integer(), nullable=True),
    sa.Column('handled_by', sa.String(length=32), nullable=True),
    sa.Column('handled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('triage_channel', sa.String(length=32), nullable=True),
    sa.Column('triage_ts', sa.String(length=32), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('last_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notifications', sa.Integer(), nullable=False),
    sa.Column('truncated_alerts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['alert_digests.id'], name=op.f('fk_alert_episodes_digest_id_alert_digests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['alert_groups.id'], name=op.f('fk_alert_episodes_group_id_alert_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_alert_episodes_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['previous_incident_id'], ['incidents.id'], name=op.f('fk_alert_episodes_previous_incident_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_episodes')),
    sa.UniqueConstraint('group_id', 'generation', name=op.f('uq_alert_episodes_group_id_generation'))
    )
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_episodes_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_episodes_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_episodes_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_alert_episodes_team_decided', ['team_id', 'decided_at'], unique=False)

    op.create_table('alert_teams',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['alert_digests.id'], name=op.f('fk_alert_teams_digest_id_alert_digests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_alert_teams'))
    )
    op.create_table('incident_changes',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.String(length=32), nullable=False),
    sa.Column('linked_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['change_events.id'], name=op.f('fk_incident_changes_change_id_change_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_changes_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_incident_changes'))
    )
    with op.batch_alter_table('incident_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_changes_change_id'), ['change_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=200), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.Column('annotations', sa.Text(), nullable=False),
    sa.Column('links', sa.Text(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_seen_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['episode_id'], ['alert_episodes.id'], name=op.f('fk_alerts_episode_id_alert_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['alert_groups.id'], name=op.f('fk_alerts_group_id_alert_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('group_id', 'fingerprint', 'starts_at', name=op.f('uq_alerts_group_id_fingerprint_starts_at'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_episode_id'), ['episode_id'], unique=False)

    # In place on SQLite (a rebuilt incidents table would lose the search triggers of 0009).
    op.add_column('incidents', sa.Column('detected_at', storage.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE incidents DROP COLUMN detected_at')  # in place (SQLite 3.35+): triggers kept
    else:
        op.drop_column('incidents', 'detected_at')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_episode_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('incident_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_changes_change_id'))

    op.drop_table('incident_changes')
    op.drop_table('alert_teams')
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_episodes_team_decided')
        batch_op.drop_index(batch_op.f('ix_alert_episodes_incident_id'))
        batch_op.drop_index(batch_op.f('ix_alert_episodes_group_id'))
        batch_op.drop_index(batch_op.f('ix_alert_episodes_digest_id'))

    op.drop_table('alert_episodes')
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_index('ix_change_events_team_at')

    op.drop_table('change_events')
    op.drop_table('alert_groups')
    op.drop_table('alert_digests')
