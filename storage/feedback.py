"""Feedback rows: one score (and comment) per person per incident."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.dialect import insert_for
from storage.models import FeedbackRow


def record_score(session: Session, incident_id: int, user_id: str, score: int, at: datetime) -> bool:
    """The person's score, once: False when they had already answered (their first answer stands)."""
    insert = insert_for(session)
    statement = insert(FeedbackRow).values(incident_id=incident_id, user_id=user_id, score=score, at=at)
    done = session.execute(statement.on_conflict_do_nothing().returning(FeedbackRow.user_id)).all()
    return bool(done)


def set_comment(session: Session, incident_id: int, user_id: str, comment: str) -> bool:
    row = session.get(FeedbackRow, (incident_id, user_id))
    if row is None:
        return False
    row.comment = comment
    return True


def scores(session: Session, incident_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for incident_id, score in session.execute(select(FeedbackRow.incident_id, FeedbackRow.score)
                                              .where(FeedbackRow.incident_id.in_(incident_ids))):
        found.setdefault(incident_id, []).append(score)
    return found


def score_counts(session: Session, incident_id: int) -> dict[int, int]:
    return {score: count for score, count in session.execute(
        select(FeedbackRow.score, func.count()).where(FeedbackRow.incident_id == incident_id)
        .group_by(FeedbackRow.score))}
