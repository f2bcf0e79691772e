"""Reading incidents: one, the open ones (for many readers at once), the open list as shown, the export; and
once-only request claims."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.changes import Change
from bot.domain.incident import Incident
from bot.domain.sla import ClockRun
from bot.services import visibility
from bot.services.change import Target, locate
from bot.slack import render
from storage import changes as change_rows
from storage import problems as problem_rows
from storage import repositories as repo


def claim_once(deps: Deps, key: str) -> bool:
    """True the first time a request key is seen (a modal submission, a click, an event)."""
    with deps.db.transaction() as session:
        return repo.claim_request(session, key, deps.clock())


def open_incidents(deps: Deps, team_id: str) -> list[Incident]:
    """Read for App Home and the shortcuts; kept a second between changes, as many people ask at once."""
    return deps.cache.get(("open", team_id), lambda: read_open_incidents(deps, team_id))


def read_open_incidents(deps: Deps, team_id: str) -> list[Incident]:
    """The open incidents, read now."""
    with deps.db.read() as session:
        return repo.open_incidents(session, team_id)


def open_for(deps: Deps, team_id: str, viewer: str) -> list[Incident]:
    """The open incidents ``viewer`` may be shown (private ones only to their channel's members)."""
    return visibility.visible_to(deps, viewer, open_incidents(deps, team_id))


def open_list_blocks(deps: Deps, team_id: str, viewer: str) -> list[dict[str, Any]]:
    """The `/incident list` answer, kept a second between changes like the list itself (many ask at once): read,
    rendered and validated once, not per request; per person only while a private incident is open."""
    if not visibility.any_private(open_incidents(deps, team_id)):
        return deps.cache.get(("open list blocks", team_id), lambda: [
            block.to_dict() for block in render.incident_list(open_incidents(deps, team_id))])
    return [block.to_dict() for block in render.incident_list(open_for(deps, team_id, viewer))]


def get(deps: Deps, target: Target, viewer: str | None = None) -> Incident:
    """The incident a request is about; with ``viewer``, NotAllowed when it is private and they are not in it."""
    with deps.db.read() as session:
        incident = repo.to_domain(locate(session, target))
    if viewer is not None:
        visibility.check_can_see(deps, viewer, incident, incident.ref)
    return incident


def load(deps: Deps, incident_id: int) -> Incident:
    """The incident as it is now, with its timeline (outbox executors read it when they run)."""
    with deps.db.read() as session:
        return repo.to_domain(repo.incident_row(session, incident_id))


def load_card(deps: Deps, incident_id: int) -> Incident:
    """What the card shows (pages, clocks), without the timeline."""
    with deps.db.read() as session:
        return repo.card_view(session, incident_id)


def export(deps: Deps, since: timedelta | None) -> list[dict[str, Any]]:
    start = deps.clock() - since if since is not None else None
    with deps.db.read() as session:
        return exported(session, start)


def exported(session: Session, start: datetime | None) -> list[dict[str, Any]]:
    """Every incident declared since ``start`` (all when None) as `firebell export` prints it."""
    incidents = repo.incidents_since(session, start)
    problems = problem_rows.refs_of(session, None if start is None else [i.id for i in incidents])
    causes = change_rows.caused_by(session, [i.id for i in incidents])
    return [incident_json(i, problems.get(i.id), causes.get(i.id)) for i in incidents]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _clock_json(clock: ClockRun) -> dict[str, Any]:
    outcome = clock.verdict()
    return {"clock": clock.clock, "started_at": _iso(clock.started_at),
            "target_seconds": int(clock.target.total_seconds()), "due_at": _iso(clock.due_at),
            "stopped_at": _iso(clock.stopped_at), "outcome": outcome[0] if outcome else "running",
            "by_seconds": int(outcome[1].total_seconds()) if outcome else None}


def incident_json(incident: Incident, problem: str | None = None, caused_by: Change | None = None) -> dict[str, Any]:
    """``problem``: the problem record it belongs to ("PRB-3"), or None; ``caused_by``: the change that caused it."""
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
        "detected_at": _iso(incident.detected_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _iso(incident.resolved_at),
        "root_cause_category": incident.root_cause_category,
        "root_cause": incident.root_cause,
        "resolution": incident.resolution,
        "private": incident.private,
        "problem": problem,
        "caused_by_change": None if caused_by is None else {
            "id": caused_by.key or str(caused_by.id), "service": caused_by.service, "summary": caused_by.summary,
            "url": caused_by.url, "author": caused_by.author, "at": _iso(caused_by.at)},
        "lessons_learned": incident.lessons_learned,
        "follow_ups": [
            {"id": f.id, "text": f.text, "owner": f.owner, "owner_name": f.owner_name,
             "due": f.due.isoformat() if f.due else None, "status": "open" if f.open else "done",
             "done_at": _iso(f.done_at), "done_by": f.done_by}
            for f in incident.follow_ups
        ],
        "pages": [
            {"id": p.id, "tier": p.tier, "reason": p.reason, "paged_at": _iso(p.paged_at), "paged_by": p.paged_by,
             "status": p.status, "notified": list(p.notified), "acknowledged_at": _iso(p.acknowledged_at),
             "acknowledged_by": p.acknowledged_by, "escalated_at": _iso(p.escalated_at),
             "renotified_at": _iso(p.renotified_at), "oncall_user": p.oncall_user, "oncall_source": p.oncall_source}
            for p in incident.pages
        ],
        "sla": [_clock_json(c) for c in incident.clocks],
        "severity_history": [
            {"from": c.from_severity.value, "to": c.to_severity.value, "by": c.by, "at": _iso(c.at)}
            for c in incident.severity_history
        ],
        "timeline": [
            {"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "permalink": e.permalink}
            for e in incident.timeline
        ],
    }
