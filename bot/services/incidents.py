"""Finding incidents, listing them, exporting them, and once-only request claims."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.model import ClockView, Incident
from storage import repositories as repo
from storage.models import IncidentRow


@dataclass(frozen=True)
class Target:
    """Which incident a request is about: by number, by id, or the incident of the channel it came from."""

    team_id: str
    channel_id: str | None = None
    number: int | None = None
    incident_id: int | None = None


def claim_once(deps: Deps, key: str) -> bool:
    """True the first time a request key is seen (a modal submission, a click, an event)."""
    with deps.db.transaction() as session:
        return repo.claim_request(session, key, deps.clock())


def open_incidents(deps: Deps, team_id: str) -> list[Incident]:
    """Read for App Home and the shortcuts; kept a second between changes, as many people ask at once."""
    return deps.recent.get(("open", team_id), lambda: read_open_incidents(deps, team_id))


def read_open_incidents(deps: Deps, team_id: str) -> list[Incident]:
    """The open incidents, read now: for a caller that keeps something made from them in ``deps.recent``."""
    with deps.db.read() as session:
        return repo.open_incidents(session, team_id)


def locate(session: Session, target: Target, *, lock: bool = False) -> IncidentRow:
    if target.incident_id is not None:
        row = repo.find_by_id(session, target.incident_id)
    elif target.number is not None:
        row = repo.find_by_number(session, target.team_id, target.number)
    else:
        row = repo.find_by_channel(session, target.channel_id) if target.channel_id else None
    if row is None or row.team_id != target.team_id:
        if target.number is not None:
            raise NotFound(f"There is no incident INC-{target.number}.")
        raise NotFound("This channel is not an incident's. Run the command in the incident's channel, or name "
                       "the incident: `/incident INC-7 ack`.")
    return repo.incident_row(session, row.id, lock=True) if lock else row


@contextmanager
def changing(deps: Deps, target: Target) -> Iterator[tuple[Session, IncidentRow]]:
    """A write transaction holding the incident's row lock: concurrent changes to it queue here. Before it
    commits, the incident's SLA clocks are re-planned from what changed."""
    from bot.services import sla

    with deps.db.transaction() as session:
        row = locate(session, target, lock=True)
        yield session, row
        sla.refresh(deps, session, row)
    deps.recent.changed()
    deps.wake()


def get(deps: Deps, target: Target) -> Incident:
    with deps.db.read() as session:
        return repo.to_domain(locate(session, target))


def export(deps: Deps, since: timedelta | None) -> list[dict[str, Any]]:
    start = deps.clock() - since if since is not None else None
    with deps.db.read() as session:
        incidents = repo.incidents_since(session, start)
    return [incident_json(i) for i in incidents]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _clock_json(clock: ClockView) -> dict[str, Any]:
    outcome = clock.outcome()
    return {"clock": clock.clock, "started_at": _iso(clock.started_at),
            "target_seconds": int(clock.target.total_seconds()), "due_at": _iso(clock.due_at),
            "stopped_at": _iso(clock.stopped_at), "outcome": outcome[0] if outcome else "running",
            "by_seconds": int(outcome[1].total_seconds()) if outcome else None}


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.ref,
        "team_id": incident.team_id,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "channel_id": incident.channel_id,
        "channel_name": incident.channel_name,
        "declared_by": incident.declared_by,
        "commander": incident.commander,
        "comms": incident.comms,
        "scribe": incident.scribe,
        "declared_at": _iso(incident.declared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _iso(incident.resolved_at),
        "root_cause_category": incident.root_cause_category,
        "root_cause": incident.root_cause,
        "resolution": incident.resolution,
        "follow_ups": list(incident.follow_ups),
        "pages": [
            {"id": p.id, "tier": p.tier, "reason": p.reason, "paged_at": _iso(p.paged_at), "paged_by": p.paged_by,
             "status": p.status, "notified": list(p.notified), "acknowledged_at": _iso(p.acknowledged_at),
             "acknowledged_by": p.acknowledged_by, "escalated_at": _iso(p.escalated_at),
             "renotified_at": _iso(p.renotified_at)}
            for p in incident.pages
        ],
        "sla": [_clock_json(c) for c in incident.clocks],
        "timeline": [
            {"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "permalink": e.permalink}
            for e in incident.timeline
        ],
    }
