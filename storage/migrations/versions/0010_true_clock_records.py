"""true SLA records, the severity history, App Home viewers; follow-ups with owners and due dates, lessons learned,
feedback, people's names

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 15:40:00

- ``sla_clocks`` gains ``outcome`` ("met" | "breached") and ``by_seconds``, written when a run stops and never
  rewritten after (a severity change re-plans only running clocks).
- Rows an older Firebell left running are settled as the code now does: an update-cadence run superseded by a
  newer run of the same clock stops where that run starts; every run of a resolved incident stops at its resolve.
- ``severity_changes`` records each change (from, to, by, at); it is filled from the timeline's severity events
  ("Severity SEV1 → SEV2"), which every Firebell has written.
- ``home_viewers``: who opened the App Home tab and when last (their dashboard is refreshed when incidents change).
- ``follow_ups`` gain an owner (or the ``@name`` typed, until matched), a due date and when and by whom they were
  done; ``deadlines`` a ``follow_up_id`` (the owner's reminder); ``incidents`` the lessons learned; ``feedback``
  holds each person's score of a response; ``people`` the names Slack gave for user ids.
"""
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_CHANGE = re.compile(r"Severity (SEV\d) → (SEV\d)")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    op.add_column('sla_clocks', sa.Column('outcome', sa.String(length=16), nullable=True))
    op.add_column('sla_clocks', sa.Column('by_seconds', sa.Integer(), nullable=True))
    op.create_table(
        'severity_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=32), nullable=False),
        sa.Column('from_severity', sa.String(length=8), nullable=False),
        sa.Column('to_severity', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_severity_changes_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_severity_changes')),
    )
    op.create_index(op.f('ix_severity_changes_incident_id'), 'severity_changes', ['incident_id'], unique=False)
    op.create_table(
        'home_viewers',
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('opened_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_home_viewers')),
    )
    op.create_index(op.f('ix_home_viewers_opened_at'), 'home_viewers', ['opened_at'], unique=False)
    op.add_column('follow_ups', sa.Column('owner', sa.String(length=32), nullable=True))
    op.add_column('follow_ups', sa.Column('owner_name', sa.String(length=80), nullable=True))
    op.add_column('follow_ups', sa.Column('due_on', sa.Date(), nullable=True))
    op.add_column('follow_ups', sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('follow_ups', sa.Column('done_by', sa.String(length=32), nullable=True))
    op.create_index('ix_follow_ups_open', 'follow_ups', ['owner'], unique=False,
                    postgresql_where=sa.text('done_at IS NULL'), sqlite_where=sa.text('done_at IS NULL'))
    op.add_column('deadlines', sa.Column('follow_up_id', sa.Integer(), nullable=True))
    op.add_column('incidents', sa.Column('lessons_learned', sa.Text(), nullable=True))
    op.create_table(
        'feedback',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_feedback_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_id', 'user_id', name=op.f('pk_feedback')),
    )
    op.create_table(
        'people',
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('looked_up_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_people')),
    )
    _settle_clock_runs(op.get_bind())
    _fill_severity_history(op.get_bind())


def _settle_clock_runs(bind: sa.Connection) -> None:
    clocks = sa.table('sla_clocks', sa.column('id'), sa.column('incident_id'), sa.column('clock'),
                      sa.column('started_at', storage.types.UTCDateTime()), sa.column('due_at', storage.types.UTCDateTime()),
                      sa.column('stopped_at', storage.types.UTCDateTime()), sa.column('outcome'), sa.column('by_seconds'))
    incidents = sa.table('incidents', sa.column('id'), sa.column('status'),
                         sa.column('resolved_at', storage.types.UTCDateTime()))
    resolved = dict(bind.execute(sa.select(incidents.c.id, incidents.c.resolved_at)
                                 .where(incidents.c.status == 'resolved')).all())
    rows = bind.execute(sa.select(clocks).order_by(clocks.c.incident_id, clocks.c.clock, clocks.c.started_at)).all()
    for i, row in enumerate(rows):
        stopped = _aware(row.stopped_at)
        if stopped is None:
            newer = rows[i + 1] if i + 1 < len(rows) else None
            if newer is not None and (newer.incident_id, newer.clock) == (row.incident_id, row.clock):
                stopped = _aware(newer.started_at)
            elif resolved.get(row.incident_id) is not None:
                stopped = _aware(resolved[row.incident_id])
        due = _aware(row.due_at)
        if stopped is None or due is None or row.outcome is not None:
            if stopped is not None and row.stopped_at is None:
                bind.execute(clocks.update().where(clocks.c.id == row.id).values(stopped_at=stopped))
            continue
        outcome, by = ("met", due - stopped) if stopped <= due else ("breached", stopped - due)
        bind.execute(clocks.update().where(clocks.c.id == row.id).values(
            stopped_at=stopped, outcome=outcome, by_seconds=int(by.total_seconds())))


def _fill_severity_history(bind: sa.Connection) -> None:
    events = sa.table('timeline_events', sa.column('incident_id'), sa.column('at', storage.types.UTCDateTime()),
                      sa.column('kind'), sa.column('actor'), sa.column('text'))
    changes = sa.table('severity_changes', sa.column('incident_id'), sa.column('at', storage.types.UTCDateTime()),
                       sa.column('changed_by'), sa.column('from_severity'), sa.column('to_severity'))
    found = []
    for event in bind.execute(sa.select(events).where(events.c.kind == 'severity')):
        match = _CHANGE.match(event.text or "")
        if match and event.actor:
            found.append({"incident_id": event.incident_id, "at": _aware(event.at), "changed_by": event.actor,
                          "from_severity": match[1].lower(), "to_severity": match[2].lower()})
    if found:
        bind.execute(changes.insert(), found)


def downgrade() -> None:
    op.drop_table('people')
    op.drop_table('feedback')
    op.drop_column('incidents', 'lessons_learned')  # in place (not batch mode): the search triggers stay
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_column('follow_up_id')
    op.drop_index('ix_follow_ups_open', table_name='follow_ups')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        for column in ('done_by', 'done_at', 'due_on', 'owner_name', 'owner'):
            batch_op.drop_column(column)
    op.drop_index(op.f('ix_home_viewers_opened_at'), table_name='home_viewers')
    op.drop_table('home_viewers')
    op.drop_index(op.f('ix_severity_changes_incident_id'), table_name='severity_changes')
    op.drop_table('severity_changes')
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_column('by_seconds')
        batch_op.drop_column('outcome')
