"""Feedback on the response: after a resolve, the commander, the declarer and the people paged each get one DM,
"How did the response to INC-N go?", with scores 1 to 5 and then an optional comment. One answer per person per
incident (a second click is told it was recorded); asked once per incident, even if it is reopened and resolved
again. Scores show in `firebell report` (``satisfaction``) and in the post-incident report (count and mean)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.errors import AlreadyDone, InvalidInput, NotFound
from bot.domain.incident import Incident
from bot.services.effects import Attempt, Executors
from bot.slack import feedback as render
from storage import feedback as rows
from storage import repositories as repo

ASK = "feedback ask"  # outbox kind: the DM asking one person how the response went
MAX_COMMENT = 2000


def register(executors: Executors) -> None:
    executors.register(ASK, send_ask, describe="ask for feedback")


def asked(incident: Incident) -> list[str]:
    """Who is asked: the commander, the declarer and everyone paged (each once)."""
    people = [incident.commander, incident.declared_by, *(u for p in incident.pages for u in p.notified)]
    return [u for u in dict.fromkeys(people) if u and u.startswith(("U", "W"))]


def ask(deps: Deps, session: Session, incident: Incident) -> None:
    """In the resolve's transaction: queue the DMs, the first time the incident is resolved."""
    if not repo.claim_request(session, f"feedback:{incident.id}", deps.clock()):
        return
    for user_id in asked(incident):
        deps.outbox.enqueue(session, incident.id, ASK, incident_id=incident.id, user_id=user_id)


def send_ask(deps: Deps, *, attempt: Attempt, incident_id: int, user_id: str) -> None:
    with deps.db.read() as session:
        incident = repo.to_domain(repo.incident_row(session, incident_id), with_timeline=False)
    text, blocks = render.question(incident)
    attempt.dm(deps.slack, user_id, text, blocks, step="feedback")


def score(deps: Deps, user_id: str, incident_id: int, value: int) -> Incident:
    """A score button: recorded once; a second click (or another score) is told the first stands."""
    if not 1 <= value <= 5:
        raise InvalidInput("score", "A score is 1 to 5.")
    with deps.db.transaction() as session:
        row = repo.find_by_id(session, incident_id)
        if row is None or row.team_id != deps.team_id:
            raise NotFound("That incident is not known here.")
        incident = repo.to_domain(row, with_timeline=False)
        if not rows.record_score(session, incident_id, user_id, value, deps.clock()):
            raise AlreadyDone(f"Your feedback on {incident.ref} was already recorded; thank you.")
    return incident


def comment(deps: Deps, user_id: str, incident_id: int, text: str) -> None:
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput("comment", f"Keep it under {MAX_COMMENT:,} characters.")
    if not text:
        return
    with deps.db.transaction() as session:
        if not rows.set_comment(session, incident_id, user_id, text):
            raise NotFound("Give a score first.")
