"""Scheduled work of the SLA clocks: a reminder or breach notice that came due. A breach of time-to-acknowledge also
escalates the incident's pages at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.deps import Deps
from bot.domain import sla
from bot.domain.incident import Status, incident_ref
from bot.observability.logs import Event, incident_event
from bot.scheduling import Claimed
from bot.services import clock_plan, escalation, slack_effects
from bot.slack import render
from storage import schedule

LATE_AFTER = timedelta(seconds=5)  # later than this, a notice says it is late (Firebell was not running)


def send_due(deps: Deps, claimed: Claimed, now: datetime) -> None:
    """Deadline handler of an SLA notice. Its messages are queued in the transaction that marks the deadline done, so
    each goes out once (the outbox delivers and retries them). It reads plain rows (`schedule.notice_facts`): this
    runs for every notice, and loading the incident's objects cost more than the rest of its work."""
    message: str | None = None
    breach, active, clock, due_at, overdue = False, {}, None, now, False
    with deps.db.transaction() as session:  # one transaction: it reads a little, then marks the deadline done
        facts = schedule.notice_facts(session, claimed.id, now)
        assert facts is not None
        # Nothing to say when the clock stopped after the claim, when a later notice of the same clock is due too
        # (after downtime: send that one only), or when the incident is resolved.
        if (facts.clock is not None and not facts.cancelled and not facts.superseded
                and Status(facts.status) is not Status.RESOLVED):
            runs = sla.runs(facts.clock_facts, clock_plan.policy(deps.config, facts.severity))
            run = next((r for r in runs if r.clock.value == facts.clock), None)
            clock = sla.SlaClock(facts.clock)
            active = facts.active_pages  # read for a time-to-acknowledge notice only
            act = [u for users in active.values() for u in users] if active else [facts.commander]
            fraction = facts.fraction or sla.BREACH
            breach = fraction >= sla.BREACH
            due_at = facts.due_at
            # the card shows the clock's state, "due …" or "was due …": a reminder before the due time changes nothing
            overdue = facts.card_due_at is not None and facts.card_due_at <= now
            message = render.sla_notice(incident_ref(facts.number), clock, fraction, due_at, run,
                                        list(dict.fromkeys(act)), now, late_after=LATE_AFTER)
        if not claimed.complete(session, now) or message is None:
            return  # another replica took the claim over, or there is nothing to say
        if facts.channel_id:
            deps.outbox.enqueue(session, facts.incident_id, slack_effects.POST, channel=facts.channel_id,
                                text=message)
        if breach and deps.config.broadcast_channel and not facts.private:  # a private one is told in its channel
            deps.outbox.broadcast(session, facts.incident_id, slack_effects.POST, channel=deps.config.broadcast_channel,
                                  text=message + f" Channel: <#{facts.channel_id}>")
        if breach or overdue:
            deps.outbox.enqueue(session, facts.incident_id, slack_effects.CARD, incident_id=facts.incident_id)
    deps.outbox.wake()
    assert clock is not None
    late = (now - due_at).total_seconds()
    deps.metrics.notice_sent("breach" if breach else "reminder", late)
    what = f"{clock.label} {'breach' if breach else 'reminder'}"
    incident_event(Event.NOTICE_SENT, incident_ref(facts.number), facts.team_id,
                   what + (f", {late:.0f}s late" if late > LATE_AFTER.total_seconds() else ""))
    if breach and clock is sla.SlaClock.ACK:
        for page_id in active:  # an ack breach escalates at once
            escalation.escalate(deps, page_id, now, why="the time-to-acknowledge SLA is breached")
