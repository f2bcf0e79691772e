"""People's names as Slack gave them, kept so a report names people without asking Slack every time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.dialect import insert_for
from storage.models import PersonRow


def names(session: Session, user_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    return {row.user_id: row.name for row in session.execute(
        select(PersonRow).where(PersonRow.user_id.in_(wanted))).scalars()}


def remember(session: Session, found: dict[str, str], at: datetime) -> None:
    insert = insert_for(session)
    for user_id, name in found.items():
        statement = insert(PersonRow).values(user_id=user_id, name=name[:120], looked_up_at=at)
        session.execute(statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"name": statement.excluded.name, "looked_up_at": at}))
