"""Change events: recorded from a pipeline (POST /changes) or by hand (`/incident change`), shown in a new
incident's channel ("Changes before this incident"), and on demand (`/incident changes [6h]`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.changes import Change
from bot.domain.incident import Incident
from bot.services import slack_effects
from bot.slack import changes as render
from storage import changes as rows
from storage import repositories as repo


def record(deps: Deps, change: Change) -> tuple[Change, bool]:
    """Store a change once per idempotency key; True when it is new."""
    with deps.db.transaction() as session:
        return rows.add(session, deps.team_id, change, deps.clock())


def change_json(change: Change) -> dict[str, Any]:
    return {"id": change.key or str(change.id), "service": change.service, "summary": change.summary,
            "url": change.url, "author": change.author, "at": change.at.isoformat()}


def recent(deps: Deps, window: timedelta | None = None) -> list[Change]:
    window = window or deps.config.changes.window
    now = deps.clock()
    with deps.db.read() as session:
        return rows.between(session, deps.team_id, now - window, now)


def candidates(deps: Deps, incident: Incident) -> list[Change]:
    """What the resolve form offers as "Caused by a change?": from `changes.window` before the incident until now."""
    with deps.db.read() as session:
        return rows.between(session, incident.team_id, incident.declared_at - deps.config.changes.window,
                            deps.clock())


def before(deps: Deps, session: Session, incident: Incident) -> list[Change]:
    """The changes of the last `changes.window` before the incident (before it was detected, when that was earlier)."""
    start = min(incident.declared_at, incident.detected_at or incident.declared_at)
    return rows.between(session, incident.team_id, start - deps.config.changes.window, incident.declared_at)


def queue_changes_before(deps: Deps, session: Session, incident: Incident, found: Sequence[Change]) -> None:
    """Queue the post of ``found`` in the incident's lane (behind its card), once: it is claimed in ``session``."""
    if incident.channel_id is None or not repo.claim_request(session, f"changes-before:{incident.id}", deps.clock()):
        return
    text, blocks = render.changes_message(found, deps.config.changes.window, before_incident=True)
    deps.outbox.enqueue(session, incident.id, slack_effects.POST, channel=incident.channel_id, text=text,
                        blocks=slack_effects.serialised(blocks))


