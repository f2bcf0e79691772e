"""Who looks at Firebell's App Home: recorded when they open it, read when incidents change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.dialect import insert_for
from storage.models import HomeViewerRow


def record_viewer(session: Session, team_id: str, user_id: str, at: datetime) -> None:
    """One row per person (an upsert: two replicas recording the same person at once do not collide)."""
    insert = insert_for(session)
    statement = insert(HomeViewerRow).values(team_id=team_id, user_id=user_id, opened_at=at)
    session.execute(statement.on_conflict_do_update(index_elements=["team_id", "user_id"],
                                                    set_={"opened_at": statement.excluded.opened_at}))


def recent_viewers(session: Session, team_id: str, since: datetime, limit: int) -> list[str]:
    """Who opened the home since ``since``, most recent first."""
    return list(session.execute(
        select(HomeViewerRow.user_id).where(HomeViewerRow.team_id == team_id, HomeViewerRow.opened_at >= since)
        .order_by(HomeViewerRow.opened_at.desc()).limit(limit)).scalars())
