"""Follow-ups that get done: added on resolve (one per line of the form) or at any time, each with an owner and a
due date; listed across incidents; marked done; the owner reminded by DM once when the due date passes with it still
open (a deadline row, like the SLA notices: once, across restarts and replicas). An owner typed as ``@name`` is
matched to a Slack user from the outbox, after the change committed, and told they own it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import followups as rules
from bot.domain.errors import AlreadyDone, NotFound
from bot.domain.followups import FollowUp, FollowUpLine
from bot.domain.incident import incident_ref
from bot.scheduling import Claimed
from bot.services import slack_effects
from bot.services.change import Target, incident_change
from bot.services.effects import Attempt, Executors
from bot.slack import followups as render
from storage import followups as rows
from storage import repositories as repo
from storage.models import DeadlineRow, IncidentRow

MATCH_OWNER = "follow-up owner"  # outbox kind: find the Slack user an "@name" owner is, and tell them


def register(executors: Executors) -> None:
    executors.register(MATCH_OWNER, match_owner, describe="find a follow-up's owner")


def record(deps: Deps, session: Session, incident: IncidentRow, lines: Sequence[FollowUpLine], *, by: str,
           at: datetime) -> list[FollowUp]:
    """Within a change of the incident: the follow-ups, their reminders, and the owners to find."""
    added = repo.add_follow_ups(session, incident, lines, by=by, at=at)
    for row in added:
        if row.due_on is not None:
            rows.schedule_reminder(session, row, rules.reminder_due(row.due_on))
        if row.owner is None and row.owner_name:
            deps.outbox.enqueue(session, incident.id, MATCH_OWNER, follow_up_id=row.id, name=row.owner_name)
    return [repo.follow_up(row, incident) for row in added]


def add(deps: Deps, target: Target, actor: str, text: str) -> FollowUp:
    """`/incident followup add <text> [@owner] [due YYYY-MM-DD]`."""
    line = rules.parse_line(text)
    with incident_change(deps, target) as (session, row):
        [item] = record(deps, session, row, [line], by=actor, at=deps.clock())
        repo.add_timeline_event(session, row, at=deps.clock(), kind="follow-up", actor=actor,
                                text=f"Follow-up {item.ref}: {item.text}")
        incident = repo.to_domain(row, with_timeline=False)
        slack_effects.publish(deps, session, incident, refresh=False,
                              say=f"<@{actor}> added follow-up {render.line(item)}")
    return item


def done(deps: Deps, team_id: str, actor: str, follow_up_id: int) -> FollowUp:
    """`/incident followup done <N>`: anyone may close one; who and when are kept, and its reminder is cancelled."""
    with deps.db.transaction() as session:
        found = rows.locked(session, team_id, follow_up_id)
        if found is None:
            raise NotFound(f"There is no follow-up #{follow_up_id}; `/incident followups` lists the open ones.")
        row, incident_row = found
        if row.done_at is not None:
            raise AlreadyDone(f"Follow-up #{follow_up_id} was already done by <@{row.done_by}>.")
        now = deps.clock()
        row.done_at, row.done_by = now, actor
        rows.cancel_reminder(session, row.id, now)
        repo.add_timeline_event(session, incident_row, at=now, kind="follow-up done", actor=actor,
                                text=f"Follow-up #{row.id} done: {row.text}")
        item = repo.follow_up(row, incident_row)
        if incident_row.channel_id:
            deps.outbox.enqueue(session, incident_row.id, slack_effects.POST, channel=incident_row.channel_id,
                                text=f"✅ <@{actor}> marked follow-up {render.line(item)} done.")
    deps.outbox.wake()
    return item


def listing(deps: Deps, user_id: str | None) -> list[FollowUp]:
    """`/incident followups [mine]`: the open ones of every incident, or the person's."""
    with deps.db.read() as session:
        return rows.open_follow_ups(session, deps.team_id, owner=user_id)


def remind_due(deps: Deps, claimed: Claimed, now: datetime) -> None:
    """Deadline handler: a follow-up's due date passed. Still open: one DM to its owner (or, with no owner known, a
    word in the incident's channel), queued in the transaction that marks the deadline done."""
    with deps.db.transaction() as session:
        deadline = session.get(DeadlineRow, claimed.id)
        found = rows.get(session, deadline.follow_up_id) if deadline and deadline.follow_up_id else None
        if not claimed.complete(session, now) or found is None:
            return
        row, incident_row = found
        if row.done_at is not None:
            return
        item = repo.follow_up(row, incident_row)
        if row.owner:
            deps.outbox.enqueue(session, incident_row.id, slack_effects.POST, channel=row.owner,
                                text=render.reminder(item))
        elif incident_row.channel_id:
            deps.outbox.enqueue(session, incident_row.id, slack_effects.POST, channel=incident_row.channel_id,
                                text=render.unowned_reminder(item))
    deps.outbox.wake()


def match_owner(deps: Deps, *, attempt: Attempt, follow_up_id: int, name: str) -> None:
    """Outbox executor: the Slack user ``@name`` is, set as the owner (once), and told; or the channel told that
    nobody is called that."""
    owner = deps.slack.find_user(name)
    with deps.db.transaction() as session:
        found = rows.get(session, follow_up_id)
        if found is None or found[0].owner is not None:
            return
        row, incident_row = found
        if owner is not None:
            row.owner = owner
        item = repo.follow_up(row, incident_row)
        if owner is not None:
            deps.outbox.enqueue(session, incident_row.id, slack_effects.POST, channel=owner, text=render.assigned(item))
        elif incident_row.channel_id:
            deps.outbox.enqueue(session, incident_row.id, slack_effects.POST, channel=incident_row.channel_id,
                                text=f"Nobody in this workspace is called @{name}: follow-up {item.ref} has no owner "
                                     f"yet ({incident_ref(incident_row.number)}).")
    deps.outbox.wake()

