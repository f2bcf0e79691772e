"""Problem records (ITIL problem management): open one from an incident, link incidents to it, record its workaround
and root cause, move it open → known-error → resolved. Rules in bot.domain.problems; rows in storage.problems.

Linking changes an incident (its row lock, a timeline entry, a word in its channel). Changing a problem locks the
problem's row and tells the channels of its unresolved incidents; it never locks an incident, so the two orders of
locking cannot meet.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import problems as rules
from bot.domain.errors import AlreadyDone, NotFound
from bot.domain.incident import Status, incident_ref
from bot.domain.problems import Problem, ProblemCount, ProblemStatus
from bot.services import slack_effects, visibility
from bot.services.change import Target, incident_change
from bot.slack import text as t
from storage import problems as rows
from storage import repositories as repo
from storage.models import IncidentRow, ProblemRow


def _problem_row(session: Session, team_id: str, number: int, *, lock: bool = False) -> ProblemRow:
    row = rows.row_by_number(session, team_id, number, lock=lock)
    if row is None:
        raise NotFound(f"There is no problem {rules.ref(number)}. `/incident problems` lists the open ones.")
    return row


def _linked(deps: Deps, session: Session, incident: IncidentRow, actor: str, problem: ProblemRow,
            before_id: int | None, verb: str) -> None:
    was = session.get(ProblemRow, before_id) if before_id is not None else None
    moved = f" (it was linked to {rules.ref(was.number)})" if was is not None else ""
    ref = rules.ref(problem.number)
    repo.add_timeline_event(session, incident, at=deps.clock(), kind="problem", actor=actor,
                            text=f"{verb} {ref}: {problem.title}{moved}")
    message = (f"🧩 {t.user(actor)} {verb.lower()} *{ref}* ({ProblemStatus(problem.status).label}): "
               f"{t.escape(problem.title)}, and linked {incident.ref} to it{moved}." if verb == "Opened" else
               f"🧩 {t.user(actor)} linked {incident.ref} to *{ref}* ({ProblemStatus(problem.status).label}): "
               f"{t.escape(problem.title)}{moved}.")
    if problem.workaround:
        message += f"\n*Workaround*: {t.escape(problem.workaround)}"
    slack_effects.publish(deps, session, repo.to_domain(incident, with_timeline=False), say=message, refresh=False)


def open_problem(deps: Deps, target: Target, actor: str, title: str) -> Problem:
    """`/incident problem new <title>`: a new problem, numbered per team, with this incident linked."""
    title = rules.clean_title(title)
    with incident_change(deps, target) as (session, incident):
        now = deps.clock()
        problem = rows.add(session, team_id=incident.team_id, number=rows.take_number(session, incident.team_id),
                           title=title, by=actor, at=now)
        before = rows.link(session, incident.id, problem.id, by=actor, at=now)
        _linked(deps, session, incident, actor, problem, before, "Opened")
        return rows.to_domain(session, problem)


def link(deps: Deps, target: Target, actor: str, number: int) -> Problem:
    """`/incident problem link PRB-N`: anyone may link an incident to a problem (it leaves the one it was in)."""
    with incident_change(deps, target) as (session, incident):
        problem = _problem_row(session, incident.team_id, number)
        before = rows.linked_problem_id(session, incident.id)
        if before == problem.id:
            raise AlreadyDone(f"{incident.ref} is already linked to {rules.ref(number)}.")
        rows.link(session, incident.id, problem.id, by=actor, at=deps.clock())
        _linked(deps, session, incident, actor, problem, before, "Linked to")
        return rows.to_domain(session, problem)


def unlink(deps: Deps, target: Target, actor: str) -> str:
    """`/incident problem unlink`; what the channel is told."""
    with incident_change(deps, target) as (session, incident):
        problem_id = rows.unlink(session, incident.id)
        if problem_id is None:
            raise AlreadyDone(f"{incident.ref} is not linked to a problem.")
        problem = session.get(ProblemRow, problem_id)
        assert problem is not None
        ref = rules.ref(problem.number)
        repo.add_timeline_event(session, incident, at=deps.clock(), kind="problem", actor=actor,
                                text=f"Unlinked from {ref}: {problem.title}")
        message = f"🧩 {t.user(actor)} unlinked {incident.ref} from *{ref}*: {t.escape(problem.title)}."
        slack_effects.publish(deps, session, repo.to_domain(incident, with_timeline=False), say=message,
                              refresh=False)
        return message


def show(deps: Deps, number: int, viewer: str) -> Problem:
    with deps.db.read() as session:
        return seen_by(deps, rows.to_domain(session, _problem_row(session, deps.team_id, number)), viewer)


def seen_by(deps: Deps, problem: Problem, viewer: str) -> Problem:
    """The problem as ``viewer`` is shown it: without the private incidents whose channel they are not in."""
    return replace(problem, incidents=tuple(visibility.visible_to(deps, viewer, problem.incidents)))


def unresolved(deps: Deps) -> list[ProblemCount]:
    """`/incident problems`."""
    with deps.db.read() as session:
        return rows.unresolved_with_counts(session, deps.team_id)


def change(deps: Deps, actor: str, number: int, *, status: ProblemStatus | None = None,
           workaround: str | None = None, cause: str | None = None) -> Problem:
    """`/incident problem PRB-N status|workaround|cause …`: admins and the commanders of its incidents only. The
    channels of its unresolved incidents are told."""
    workaround = rules.clean_text(workaround, "workaround") if workaround is not None else None
    cause = rules.clean_text(cause, "root cause") if cause is not None else None
    with deps.db.transaction() as session:
        row = _problem_row(session, deps.team_id, number, lock=True)
        before = rows.to_domain(session, row)
        rules.check_may_change(actor, problem_ref=before.ref, commanders=before.commanders, admins=deps.config.admins)
        now = deps.clock()
        if status is not None:
            row.status = rules.change_status(before.status, status, before.ref).value
            row.resolved_at = now if status is ProblemStatus.RESOLVED else None
            news = f"is now *{status.label}*"
        elif workaround is not None:
            row.workaround, news = workaround, f"has a workaround: {t.escape(workaround)}"
        elif cause is not None:
            row.root_cause, news = cause, f"has a root cause: {t.escape(cause)}"
        else:
            return seen_by(deps, before, actor)
        row.updated_at = now
        session.flush()
        problem = rows.to_domain(session, row)
        _tell_incidents(deps, session, problem, f"🧩 {t.user(actor)}: *{problem.ref}* ({t.escape(problem.title)}) "
                                                f"{news}")
    deps.outbox.wake()
    return seen_by(deps, problem, actor)


def _tell_incidents(deps: Deps, session: Session, problem: Problem, message: str) -> None:
    for linked in problem.incidents:
        if linked.channel_id and Status(linked.status).is_open:
            deps.outbox.enqueue(session, linked.incident_id, slack_effects.POST, channel=linked.channel_id,
                                text=message)


def problem_json(problem: Problem) -> dict[str, Any]:
    def iso(at: Any) -> str | None:
        return at.isoformat() if at is not None else None

    return {"id": problem.ref, "team_id": problem.team_id, "title": problem.title, "status": problem.status.value,
            "workaround": problem.workaround, "root_cause": problem.root_cause,
            "incidents": [incident_ref(i.number) for i in problem.incidents], "created_by": problem.created_by,
            "created_at": iso(problem.created_at), "updated_at": iso(problem.updated_at),
            "resolved_at": iso(problem.resolved_at)}


def export(session: Session, team_id: str | None = None) -> list[dict[str, Any]]:
    """`firebell export --problems --json`."""
    return [problem_json(problem) for problem in rows.all_problems(session, team_id)]
