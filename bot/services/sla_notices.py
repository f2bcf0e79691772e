"""Scheduled work of the SLA clocks: a reminder or breach notice that came due. A breach of time-to-acknowledge also
escalates the incident's pages at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.deps import Deps
from bot.domain import sla
from bot.domain.incident import Status
from bot.observability.logs import Event, incident_event
from bot.scheduling import Claimed
from bot.services import clock_plan, escalation, slack_effects
from bot.slack import render
from storage import repositories as repo
from storage import schedule
from storage.models import DeadlineRow

LATE_AFTER = timedelta(seconds=5)  # later than this, a notice says it is late (Firebell was not running)


def send_due(deps: Deps, claimed: Claimed, now: datetime) -> None:
    """Deadline handler of an SLA notice. Its messages are queued in the transaction that marks the deadline done, so
    each goes out once (the outbox delivers and retries them)."""
    message: str | None = None
    breach, active, incident, clock, due_at = False, [], None, None, now
    with deps.db.transaction() as session:  # one transaction: it reads a little, then marks the deadline done
        deadline = session.get(DeadlineRow, claimed.id)
        assert deadline is not None and deadline.incident_id is not None
        view = repo.card_view(session, deadline.incident_id)  # its pages and clocks (not its timeline)
        row = repo.find_by_id(session, deadline.incident_id)  # read with the view: no query
        assert row is not None
        # Nothing to say when the clock stopped after the claim, when a later notice of the same clock is due too
        # (after downtime: send that one only), or when the incident is resolved.
        if (deadline.clock is not None and deadline.cancelled_at is None
                and not schedule.superseded(session, deadline, now) and Status(row.status) is not Status.RESOLVED):
            incident = view
            runs = sla.runs(clock_plan.facts(session, row), clock_plan.policy(deps.config, row.severity))
            run = next((r for r in runs if r.clock.value == deadline.clock), None)
            active = [p for p in incident.pages if p.status == "active"]
            clock = sla.SlaClock(deadline.clock)
            act = [u for p in active for u in p.notified] if clock is sla.SlaClock.ACK and active else [
                incident.commander]
            fraction = deadline.fraction or sla.BREACH
            breach = fraction >= sla.BREACH
            due_at = deadline.due_at
            message = render.sla_notice(incident, clock, fraction, due_at, run, list(dict.fromkeys(act)),
                                        now, late_after=LATE_AFTER)
        if not claimed.complete(session, now) or message is None or incident is None:
            return  # another replica took the claim over, or there is nothing to say
        if incident.channel_id:
            deps.outbox.enqueue(session, incident.id, slack_effects.POST, channel=incident.channel_id, text=message)
        if breach and deps.config.broadcast_channel and not incident.private:  # a private one is told in its channel
            deps.outbox.enqueue(session, incident.id, slack_effects.POST, channel=deps.config.broadcast_channel,
                                text=message + f" Channel: <#{incident.channel_id}>")
        deps.outbox.enqueue(session, incident.id, slack_effects.CARD, incident_id=incident.id)  # the clock's state
    deps.outbox.wake()
    assert clock is not None
    late = (now - due_at).total_seconds()
    deps.metrics.notice_sent("breach" if breach else "reminder", late)
    what = f"{clock.label} {'breach' if breach else 'reminder'}"
    incident_event(Event.NOTICE_SENT, incident.ref, incident.team_id,
                   what + (f", {late:.0f}s late" if late > LATE_AFTER.total_seconds() else ""))
    if breach and clock is sla.SlaClock.ACK:
        for page in active:  # an ack breach escalates at once
            escalation.escalate(deps, page.id, now, why="the time-to-acknowledge SLA is breached")
