"""on-call: overrides, whom each page reached by rotation, and handoff deadlines (not tied to an incident)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:30:00

- ``oncall_overrides``: someone on call in a tier from ``starts_at`` to ``ends_at``, above every layer of its
  schedule; cancelled ones are kept (``cancelled_at``), so the numbers people quote stay theirs.
- ``pages.oncall_user`` / ``pages.oncall_source``: the person the tier's schedule had on call when it was paged, and
  why (``layer 1``, ``override #3``, ``gap``); the members are paged as before.
- ``deadlines``: a handoff (a tier's shift change) is a deadline of no incident: ``incident_id`` becomes nullable and
  ``tier`` names the tier; a unique index on the handoff's key makes replicas that plan the same handoff plan it once.
  SQLite rebuilds the table for the nullability change (nothing refers to deadlines, and it has no triggers).
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

PENDING = 'sent_at IS NULL AND cancelled_at IS NULL'
HANDOFF = "kind = 'handoff'"


def upgrade() -> None:
    op.create_table('oncall_overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('tier', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_overrides'))
    )
    op.create_index('ix_oncall_overrides_team_id_ends_at', 'oncall_overrides', ['team_id', 'ends_at'], unique=False)

    op.add_column('pages', sa.Column('oncall_user', sa.String(length=32), nullable=True))
    op.add_column('pages', sa.Column('oncall_source', sa.String(length=40), nullable=True))

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.alter_column('incident_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('tier', sa.String(length=40), nullable=True))
    # The rebuild on SQLite may not carry a partial index's condition over: make it again as it was.
    op.execute('DROP INDEX IF EXISTS ix_deadlines_pending_due')
    op.create_index('ix_deadlines_pending_due', 'deadlines', ['due_at'], unique=False,
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    op.create_index('uq_deadlines_handoff_key', 'deadlines', ['key'], unique=True,
                    postgresql_where=sa.text(HANDOFF), sqlite_where=sa.text(HANDOFF))


def downgrade() -> None:
    op.drop_index('uq_deadlines_handoff_key', table_name='deadlines')
    op.execute("DELETE FROM deadlines WHERE incident_id IS NULL")
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('tier')
        batch_op.alter_column('incident_id', existing_type=sa.Integer(), nullable=False)
    op.execute('DROP INDEX IF EXISTS ix_deadlines_pending_due')
    op.create_index('ix_deadlines_pending_due', 'deadlines', ['due_at'], unique=False,
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('oncall_source')
        batch_op.drop_column('oncall_user')
    op.drop_index('ix_oncall_overrides_team_id_ends_at', table_name='oncall_overrides')
    op.drop_table('oncall_overrides')
