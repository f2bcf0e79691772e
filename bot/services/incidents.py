"""Use cases on existing incidents: find, list, acknowledge, export, and once-only request claims."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.deps import Deps
from bot.domain import lifecycle
from bot.domain.errors import NotFound
from bot.domain.model import Incident, Status
from bot.services import cards
from storage import repositories as repo
from storage.models import IncidentRow


def claim_once(deps: Deps, key: str) -> bool:
    """True the first time a request key is seen (a modal submission, a click, an event)."""
    with deps.db.transaction() as session:
        return repo.claim_request(session, key, deps.clock())


def open_incidents(deps: Deps, team_id: str) -> list[Incident]:
    with deps.db.read() as session:
        return repo.open_incidents(session, team_id)


def _locate(session: Any, team_id: str, channel_id: str | None, number: int | None) -> IncidentRow:
    row = repo.find_by_number(session, team_id, number) if number is not None else (
        repo.find_by_channel(session, channel_id) if channel_id else None
    )
    if row is None or row.team_id != team_id:
        if number is not None:
            raise NotFound(f"There is no incident INC-{number}.")
        raise NotFound("This channel is not an incident's. Run it in the incident channel, or name it: "
                       "`/incident INC-7 ack`.")
    return row


def acknowledge(deps: Deps, team_id: str, user_id: str, *, channel_id: str | None = None,
                number: int | None = None) -> Incident:
    with deps.db.transaction() as session:
        row = repo.incident_row(session, _locate(session, team_id, channel_id, number).id, lock=True)
        incident = repo.to_domain(row, with_timeline=False)
        status = lifecycle.status_after_ack(incident.status, row.acknowledged_by, incident.ref)
        now = deps.clock()
        row.status, row.acknowledged_at, row.acknowledged_by = status.value, now, user_id
        repo.add_timeline_event(session, row, at=now, kind="acknowledged", actor=user_id,
                                text=f"Acknowledged; status {Status(status).label}")
        incident = repo.to_domain(row, with_timeline=False)
    cards.refresh_card(deps, incident)
    assert incident.channel_id is not None
    deps.slack.post(incident.channel_id, f"<@{user_id}> acknowledged {incident.ref}; status is now "
                    f"*{incident.status.label}*.")
    return incident


def export(deps: Deps, since: timedelta | None) -> list[dict[str, Any]]:
    start = deps.clock() - since if since is not None else None
    with deps.db.read() as session:
        incidents = repo.incidents_since(session, start)
    return [incident_json(i) for i in incidents]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


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
        "declared_at": _iso(incident.declared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _iso(incident.resolved_at),
        "root_cause_category": incident.root_cause_category,
        "root_cause": incident.root_cause,
        "resolution": incident.resolution,
        "timeline": [
            {"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "permalink": e.permalink}
            for e in incident.timeline
        ],
    }
