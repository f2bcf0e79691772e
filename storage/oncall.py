"""On-call rows: overrides, and the handoff deadlines (a tier's shift changes). Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.oncall import Override
from storage import wakeups
from storage.dialect import insert_for
from storage.models import DeadlineRow, OnCallOverrideRow

HANDOFF = "handoff"  # the kind of deadline rows written here


def add_override(session: Session, *, team_id: str, tier: str, user_id: str, starts_at: datetime, ends_at: datetime,
                 created_by: str, created_at: datetime) -> Override:
    row = OnCallOverrideRow(team_id=team_id, tier=tier, user_id=user_id, starts_at=starts_at, ends_at=ends_at,
                            created_by=created_by, created_at=created_at)
    session.add(row)
    session.flush()
    return to_domain(row)


def overrides(session: Session, team_id: str | None, *, ending_after: datetime,
              tier: str | None = None) -> list[Override]:
    """The overrides not cancelled that end after ``ending_after`` (of one tier, or of all; of one team, or of
    every team), earliest first."""
    query = select(OnCallOverrideRow).where(OnCallOverrideRow.ends_at > ending_after,
                                            OnCallOverrideRow.cancelled_at.is_(None))
    if team_id is not None:
        query = query.where(OnCallOverrideRow.team_id == team_id)
    if tier is not None:
        query = query.where(OnCallOverrideRow.tier == tier)
    return [to_domain(row) for row in session.execute(
        query.order_by(OnCallOverrideRow.starts_at, OnCallOverrideRow.id)).scalars()]


def override_row(session: Session, team_id: str, override_id: int, *, lock: bool = False) -> OnCallOverrideRow | None:
    query = select(OnCallOverrideRow).where(OnCallOverrideRow.id == override_id, OnCallOverrideRow.team_id == team_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def to_domain(row: OnCallOverrideRow) -> Override:
    return Override(row.id, row.tier, row.user_id, row.starts_at, row.ends_at, row.created_by)


# handoffs


def handoff_key(tier: str, at: datetime) -> str:
    return f"handoff:{at.isoformat()}:{tier}"


def plan_handoff(session: Session, tier: str, at: datetime | None, now: datetime) -> None:
    """Make ``at`` the tier's one handoff still to come (None: none): other future ones are cancelled (one already
    due stays, to be sent late), this one is added once however many replicas plan it (the key is unique), and
    brought back if it was cancelled before."""
    key = handoff_key(tier, at) if at is not None else None
    session.execute(update(DeadlineRow).where(
        DeadlineRow.kind == HANDOFF, DeadlineRow.tier == tier, DeadlineRow.sent_at.is_(None),
        DeadlineRow.cancelled_at.is_(None), DeadlineRow.due_at > now, DeadlineRow.key != (key or ""),
    ).values(cancelled_at=now))
    if key is None or at is None:
        return
    insert = insert_for(session)
    added = session.execute(insert(DeadlineRow).values(
        key=key, kind=HANDOFF, tier=tier, due_at=at, attempts=0).on_conflict_do_nothing().returning(DeadlineRow.id))
    wakeups.deadline_written(session, at)  # added, brought back, or there already (a spare wake costs one query)
    if not added.all():  # it was there already (a rowcount says nothing here on PostgreSQL)
        session.execute(update(DeadlineRow).where(
            DeadlineRow.kind == HANDOFF, DeadlineRow.key == key, DeadlineRow.sent_at.is_(None),
            DeadlineRow.cancelled_at.is_not(None)).values(cancelled_at=None, claimed_at=None, claimed_by=None))


def handoff(session: Session, deadline_id: int) -> DeadlineRow | None:
    return session.get(DeadlineRow, deadline_id)


def handoffs(session: Session, tier: str | None = None) -> list[DeadlineRow]:
    """Every handoff row (sent, pending and cancelled), by due time."""
    query = select(DeadlineRow).where(DeadlineRow.kind == HANDOFF)
    if tier is not None:
        query = query.where(DeadlineRow.tier == tier)
    return list(session.execute(query.order_by(DeadlineRow.due_at, DeadlineRow.id)).scalars())
