"""Which incident a request is about, and the one way to change an incident: a transaction holding its row lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.incident import incident_ref
from bot.services import clock_plan
from storage import repositories as repo
from storage.models import IncidentRow


@dataclass(frozen=True)
class Target:
    """Which incident a request is about: by number, by id, or the incident of the channel it came from."""

    team_id: str
    channel_id: str | None = None
    number: int | None = None
    incident_id: int | None = None


def locate(session: Session, target: Target, *, lock: bool = False) -> IncidentRow:
    if target.incident_id is not None:
        row = repo.find_by_id(session, target.incident_id)
    elif target.number is not None:
        row = repo.find_by_number(session, target.team_id, target.number)
    else:
        row = repo.find_by_channel(session, target.channel_id) if target.channel_id else None
    if row is None or row.team_id != target.team_id:
        if target.number is not None:
            raise NotFound(f"There is no incident {incident_ref(target.number)}.")
        raise NotFound("This channel is not an incident's. Run the command in the incident's channel, or name "
                       "the incident: `/incident INC-7 ack`.")
    return repo.incident_row(session, row.id, lock=True) if lock else row


@contextmanager
def incident_change(deps: Deps, target: Target) -> Iterator[tuple[Session, IncidentRow]]:
    """A write transaction holding the incident's row lock: concurrent changes to it queue here. Before it
    commits, the incident's SLA clocks are re-planned from what changed; after, the delivery is woken."""
    with deps.db.transaction() as session:
        row = locate(session, target, lock=True)
        yield session, row
        clock_plan.refresh(deps, session, row)
    deps.cache.changed()
    deps.outbox.wake()
