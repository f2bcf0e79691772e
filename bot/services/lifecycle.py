"""Running an incident: acknowledge, status, severity, roles, updates, notes, resolve, reopen.

Each use case decides inside one transaction that holds the incident's row lock (so two people acting
at once queue, and the second sees the first's result), and writes the Slack messages the change implies
to the outbox in that same transaction (`slack_effects.publish`): the change and its messages commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import followups as followup_rules
from bot.domain import permissions, rules, transitions
from bot.domain.errors import InvalidInput
from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.permissions import Restricted
from bot.observability.logs import Event, incident_event
from bot.services import feedback, followups, paging, postmortems
from bot.services.change import Target, incident_change
from bot.services.slack_effects import publish
from bot.slack import render
from bot.slack.text import escape
from storage import changes as change_rows
from storage import repositories as repo
from storage import schedule
from storage.models import IncidentRow

MAX_UPDATE = 3000


def _on_call(session: Session, row: IncidentRow) -> set[str]:
    """The people paged for this incident: the on-call of its paged tiers."""
    return schedule.notified_users(session, row.id)


def _check(deps: Deps, session: Session, row: IncidentRow, actor: str, action: Restricted) -> None:
    permissions.check_allowed(action, actor, ref=row.ref, commander=row.commander,
                              on_call=_on_call(session, row), admins=deps.config.admins)


def _event(session: Session, row: IncidentRow, deps: Deps, kind: str, actor: str | None, text: str,
           *, at: datetime | None = None, permalink: str | None = None) -> datetime:
    now = at or deps.clock()
    repo.add_timeline_event(session, row, at=now, kind=kind, actor=actor, text=text, permalink=permalink)
    return now


def _text(text: str, field: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(field, f"{what} cannot be empty.")
    if len(text) > MAX_UPDATE:
        raise InvalidInput(field, f"{what} is over {MAX_UPDATE:,} characters; shorten it.")
    return text


def acknowledge(deps: Deps, target: Target, actor: str) -> Incident:
    """Acknowledge the incident; from a paged person, also their page (which stops its escalation)."""
    with incident_change(deps, target) as (session, row):
        first = row.acknowledged_by is None
        page_acknowledged = paging.acknowledge_pages(deps, session, row, actor)
        if not page_acknowledged or first:
            paging.record_incident_ack(deps, session, row, actor)  # AlreadyDone when it was acknowledged before
        incident = repo.to_domain(row, with_timeline=False)
        if page_acknowledged:
            paging.after_acknowledgement(deps, session, incident, actor)
        if first:
            publish(deps, session, incident, say=f"<@{actor}> acknowledged {incident.ref}; status is now "
                    f"*{incident.status.label}*.")
    if first:
        incident_event(Event.ACKNOWLEDGED, incident.ref, incident.team_id, f"by {actor}")
    return incident


def set_status(deps: Deps, target: Target, actor: str, status: Status, text: str = "") -> Incident:
    with incident_change(deps, target) as (session, row):
        old = Status(row.status)
        new = transitions.change_status(old, status, row.ref)
        note = _text(text, "text", "The status text") if text.strip() else ""
        now = _event(session, row, deps, "status", actor, f"Status {old.label} → {new.label}" + (f": {note}" if note
                                                                                                 else ""))
        row.status, row.last_update_at = new.value, now
        if row.acknowledged_by is None:  # someone moving the incident on is working on it
            row.acknowledged_at, row.acknowledged_by = now, actor
        incident = repo.to_domain(row, with_timeline=False)
        blocks = render.update_blocks(incident, actor, note or f"Status is now *{new.label}*.")
        publish(deps, session, incident, say=render.incident_summary(incident), say_blocks=blocks, announce=blocks)
    incident_event(Event.STATUS, incident.ref, incident.team_id, f"{old.label} → {new.label} by {actor}")
    return incident


def set_severity(deps: Deps, target: Target, actor: str, severity: Severity) -> Incident:
    with incident_change(deps, target) as (session, row):
        old = Severity(row.severity)
        _check(deps, session, row, actor, Restricted.SEVERITY)
        direction = transitions.change_severity(Status(row.status), old, severity, row.ref)
        now = _event(session, row, deps, "severity", actor, f"Severity {old.label} → {severity.label}")
        repo.add_severity_change(session, row, at=now, by=actor, from_severity=old.value, to_severity=severity.value)
        row.severity = severity.value
        incident = repo.to_domain(row, with_timeline=False)
        blocks = render.update_blocks(incident, actor, f"Severity {direction} from {old.label} to "
                                                       f"*{severity.label}*.")
        publish(deps, session, incident, say=render.incident_summary(incident), say_blocks=blocks, announce=blocks)
    incident_event(Event.SEVERITY, incident.ref, incident.team_id, f"{old.label} → {severity.label} by {actor}")
    if direction == "raised":
        paging.page_by_policy(deps, incident.id, f"Severity raised to {severity.label}", severity=severity)
    return incident


def assign_role(deps: Deps, target: Target, actor: str, role: Role, user_id: str) -> Incident:
    if user_id == deps.bot_user_id:
        raise InvalidInput("user", "Firebell cannot hold a role; name a person.")
    with incident_change(deps, target) as (session, row):
        _check(deps, session, row, actor, Restricted.ROLES)
        if getattr(row, role.value) == user_id:
            raise transitions.InvalidTransition(f"<@{user_id}> is already {role.value} of {row.ref}.")
        _event(session, row, deps, "role", actor, f"{role.value}: {user_id}")
        setattr(row, role.value, user_id)
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident, invite=[user_id],
                say=f"<@{actor}> made <@{user_id}> *{role.value}* of {row.ref}.")
    return incident


def post_update(deps: Deps, target: Target, actor: str, text: str, status: Status | None = None) -> Incident:
    text = _text(text, "text", "An update")
    with incident_change(deps, target) as (session, row):
        old = Status(row.status)
        transitions.check_not_resolved(old, row.ref, "post updates")
        if status is not None and status is not old:
            row.status = transitions.change_status(old, status, row.ref).value
            _event(session, row, deps, "status", actor, f"Status {old.label} → {status.label}")
        row.last_update_at = _event(session, row, deps, "update", actor, text)
        incident = repo.to_domain(row, with_timeline=False)
        blocks = render.update_blocks(incident, actor, escape(text))
        publish(deps, session, incident, refresh=status is not None, say=render.incident_summary(incident),
                say_blocks=blocks, announce=blocks)
    if incident.status is not old:
        incident_event(Event.STATUS, incident.ref, incident.team_id, f"{old.label} → {incident.status.label} by "
                       f"{actor}, with an update")
    return incident


def describe(deps: Deps, target: Target, actor: str, text: str) -> Incident:
    """`/incident describe <text>`: set or replace the description (the card, search and the report show it)."""
    text = rules.clean_description(text)
    if not text:
        raise InvalidInput("text", "Say what the incident is about: `/incident describe <text>`.")
    with incident_change(deps, target) as (session, row):
        _event(session, row, deps, "description", actor, text)
        row.description = text
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident, say=f"<@{actor}> described {incident.ref}: {escape(text)}")
    return incident


def add_note(deps: Deps, target: Target, actor: str, text: str, *, author: str | None = None,
             at: datetime | None = None, permalink: str | None = None) -> Incident:
    """A timeline entry. From the message shortcut it keeps the message's author, time and permalink."""
    text = _text(text, "text", "A note")
    with incident_change(deps, target) as (session, row):
        _event(session, row, deps, "message" if permalink else "note", author or actor,
               text if author is None or author == actor else f"{text} (added by {actor})",
               at=at, permalink=permalink)
        return repo.to_domain(row, with_timeline=False)


def add_message(deps: Deps, target: Target, actor: str, *, channel_id: str, message_ts: str, author: str | None,
                text: str) -> Incident:
    """Put a Slack message on an incident's timeline with its author, its time and its permalink."""
    return add_note(deps, target, actor, text or "(a message with no text)", author=author,
                    at=datetime.fromtimestamp(float(message_ts), UTC),
                    permalink=deps.slack.permalink(channel_id, message_ts))


def check_can_resolve(deps: Deps, target: Target, actor: str) -> Incident:
    """Before opening the resolve form: may this person resolve it, and is it still open?"""
    with incident_change(deps, target) as (session, row):
        _check(deps, session, row, actor, Restricted.RESOLVE)
        _check_open(row)
        return repo.to_domain(row, with_timeline=False)


def _check_open(row: IncidentRow) -> None:
    resolved = next((e for e in reversed(row.timeline) if e.kind == "resolved"), None)
    transitions.check_resolvable(Status(row.status), row.ref, resolved.actor if resolved else None)


def resolve(deps: Deps, target: Target, actor: str, *, category: str, root_cause: str, resolution: str,
            follow_ups: Sequence[str] = (), lessons: str = "", caused_by_change: int | None = None) -> Incident:
    if category not in deps.config.root_cause_categories:
        raise InvalidInput("root_cause_category", "Pick one of: " + ", ".join(deps.config.root_cause_categories))
    root_cause = _text(root_cause, "root_cause", "The root cause")
    resolution = _text(resolution, "resolution", "What fixed it")
    lessons = _text(lessons, "lessons_learned", "Lessons learned") if lessons.strip() else ""
    items = [followup_rules.parse_line(line) for line in follow_ups if line.strip()]
    with incident_change(deps, target) as (session, row):
        _check(deps, session, row, actor, Restricted.RESOLVE)
        _check_open(row)
        now = _event(session, row, deps, "resolved", actor, f"Resolved ({category}): {root_cause}")
        if caused_by_change is not None:
            change = change_rows.find(session, row.team_id, caused_by_change)
            if change is None:
                raise InvalidInput("caused_by_change", "That change is not recorded here; pick another.")
            change_rows.link(session, row.id, caused_by_change, actor, now)
            _event(session, row, deps, "caused_by_change", actor, f"Caused by a change to {change.service}: "
                   f"{change.summary}" + (f" ({change.url})" if change.url else ""), at=now)
        row.status, row.resolved_at = Status.RESOLVED.value, now
        paging.stop_escalations(session, row, now)
        row.root_cause_category, row.root_cause, row.resolution = category, root_cause, resolution
        if lessons:
            row.lessons_learned = lessons
        followups.record(deps, session, row, items, by=actor, at=now)
        session.refresh(row)
        incident = repo.to_domain(row)
        blocks = render.resolution_blocks(incident, actor)
        publish(deps, session, incident, say=render.incident_summary(incident), say_blocks=blocks, announce=blocks)
        postmortems.queue_share(deps, session, incident)
        feedback.ask(deps, session, incident)
        paging.resolve_external(deps, session, incident)
    incident_event(Event.RESOLVED, incident.ref, incident.team_id, f"by {actor} ({category})")
    return incident


def reopen(deps: Deps, target: Target, actor: str, reason: str) -> Incident:
    reason = _text(reason, "reason", "The reason to reopen")
    with incident_change(deps, target) as (session, row):
        _check(deps, session, row, actor, Restricted.REOPEN)
        transitions.check_reopenable(Status(row.status), row.ref)
        now = _event(session, row, deps, "reopened", actor, reason)
        row.status, row.resolved_at, row.reopened_at = Status.INVESTIGATING.value, None, now
        incident = repo.to_domain(row, with_timeline=False)
        blocks = render.update_blocks(incident, actor, f"Reopened: {escape(reason)}")
        publish(deps, session, incident, say=render.incident_summary(incident), say_blocks=blocks, announce=blocks)
    incident_event(Event.REOPENED, incident.ref, incident.team_id, f"by {actor}")
    return incident
