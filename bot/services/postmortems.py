"""The post-incident report: shared as a file in the channel on resolve (from the outbox, after the resolve
committed, so people's names can be asked of Slack), and printed by `firebell postmortem`.

Names are looked up once (users.info) and kept in the database; the shell uses the kept names and shows ids for
the rest, as it may have no Slack token."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import kpi
from bot.domain.incident import Incident
from bot.domain.kpi import Satisfaction
from bot.domain.postmortem import postmortem
from bot.services import people as names
from bot.services.effects import Attempt, Executors
from storage import feedback as feedback_rows
from storage import people
from storage import repositories as repo

log = logging.getLogger(__name__)

SHARE = "postmortem"  # outbox kind: share the post-incident report in the incident's channel


def register(executors: Executors) -> None:
    executors.register(SHARE, share, describe="share the post-incident report")


def queue_share(deps: Deps, session: Session, incident: Incident) -> None:
    """In the resolve's transaction."""
    deps.outbox.enqueue(session, incident.id, SHARE, incident_id=incident.id)


def people_in(incident: Incident) -> set[str]:
    found = {incident.declared_by, incident.commander, incident.comms, incident.scribe, incident.acknowledged_by}
    found |= {e.actor for e in incident.timeline} | {c.by for c in incident.severity_history}
    found |= {p.paged_by for p in incident.pages} | {p.acknowledged_by for p in incident.pages}
    found |= {f.owner for f in incident.follow_ups} | {f.done_by for f in incident.follow_ups}
    return {user for user in found if user and user[0] in "UW"}


def satisfaction(session: Session, incident_id: int) -> Satisfaction:
    return kpi.satisfaction(feedback_rows.scores(session, [incident_id]).get(incident_id, []))


def text(session: Session, incident: Incident) -> str:
    """The report with the names kept in the database (the shell's)."""
    return postmortem(incident, people.names(session, people_in(incident)), satisfaction(session, incident.id))


def share(deps: Deps, *, attempt: Attempt, incident_id: int) -> None:
    """Outbox executor: the report as a Markdown file in the channel, once."""
    with deps.db.read() as session:
        incident = repo.to_domain(repo.incident_row(session, incident_id))
        rated = satisfaction(session, incident_id)
    if incident.channel_id is None:
        return
    content = postmortem(incident, names.names_for(deps, people_in(incident)), rated, deps.clock())
    attempt.upload(deps.slack, incident.channel_id, f"{incident.ref}-postmortem.md",
                   f"{incident.ref} post-incident report", content,
                   f"The post-incident report for {incident.ref}; `firebell postmortem {incident.ref}` prints it too.")
