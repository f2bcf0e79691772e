"""pages, sla clocks, pauses and deadlines

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:39:57.431180
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('paged_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paged_by', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('escalated_from', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=32), nullable=True),
    sa.Column('escalated_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('renotified_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalated_from'], ['pages.id'], name=op.f('fk_pages_escalated_from_pages')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_pages_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages'))
    )
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pages_incident_id'), ['incident_id'], unique=False)

    op.create_table('sla_clocks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_sla_clocks_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks')),
    sa.UniqueConstraint('incident_id', 'clock', 'started_at', name=op.f('uq_sla_clocks_incident_id_clock_started_at'))
    )
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_clocks_incident_id'), ['incident_id'], unique=False)

    op.create_table('sla_pauses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_sla_pauses_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_pauses'))
    )
    with op.batch_alter_table('sla_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_pauses_incident_id'), ['incident_id'], unique=False)

    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=True),
    sa.Column('fraction', sa.Float(), nullable=True),
    sa.Column('page_id', sa.Integer(), nullable=True),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_deadlines_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_deadlines_page_id_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines')),
    sa.UniqueConstraint('incident_id', 'key', name=op.f('uq_deadlines_incident_id_key'))
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadlines_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_deadlines_pending_due', ['due_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL AND cancelled_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND cancelled_at IS NULL'))

    op.create_table('page_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('ts', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_page_notices_page_id_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_notices')),
    sa.UniqueConstraint('page_id', 'user_id', name=op.f('uq_page_notices_page_id_user_id'))
    )
    with op.batch_alter_table('page_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_notices_page_id'), ['page_id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_update_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopened_at', storage.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('reopened_at')
        batch_op.drop_column('last_update_at')

    with op.batch_alter_table('page_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_notices_page_id'))

    op.drop_table('page_notices')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_pending_due', postgresql_where=sa.text('sent_at IS NULL AND cancelled_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND cancelled_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_deadlines_incident_id'))

    op.drop_table('deadlines')
    with op.batch_alter_table('sla_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_pauses_incident_id'))

    op.drop_table('sla_pauses')
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_clocks_incident_id'))

    op.drop_table('sla_clocks')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pages_incident_id'))

    op.drop_table('pages')
