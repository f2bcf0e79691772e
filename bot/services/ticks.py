"""The one idempotent tick: claim what is due in the database, act on it, mark it done.

Run by APScheduler every half second in each process (bot/scheduling.py); tests call `run_due` with an explicit
`now`. Several replicas on one PostgreSQL database claim disjoint rows (FOR UPDATE SKIP LOCKED), so each notice and
escalation happens once; a claim whose work failed is released and retried; a claim whose process died is taken
again when its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from bot.deps import Deps
from bot.domain import sla as domain_sla
from bot.domain.model import Status
from bot.services import effects, paging, sla
from bot.slack.gateway import SlackCallFailed
from storage import repositories as repo
from storage import schedule
from storage.models import DeadlineRow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 200


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_due(deps: Deps, owner: str, now: datetime | None = None) -> int:
    """Do everything due at ``now``; returns how many deadlines were handled."""
    now = now or deps.clock()
    with deps.db.transaction() as session:
        claimed = [(d.id, d.kind, d.page_id) for d in schedule.claim_due(session, now, owner, lease=LEASE,
                                                                         limit=BATCH)]
    for deadline_id, kind, page_id in claimed:
        try:
            if kind != "page" or page_id is None:
                send_sla_notice(deps, deadline_id, owner, now)  # marks the deadline done with its notices
                continue
            paging.escalate(deps, page_id, now)
        except (SlackCallFailed, OSError) as exc:
            log.warning("deadline %s failed, will retry: %s", deadline_id, exc)
            with deps.db.transaction() as session:
                schedule.release(session, deadline_id, owner, str(exc))
            continue
        with deps.db.transaction() as session:
            schedule.complete(session, deadline_id, owner, now)
    return len(claimed)


def send_sla_notice(deps: Deps, deadline_id: int, owner: str, now: datetime) -> None:
    """An SLA reminder or breach. Its messages are queued in the transaction that marks the deadline done, so each
    goes out once (the outbox delivers and retries them); a breach of time-to-acknowledge then escalates."""
    message: str | None = None
    breach, active, incident, clock = False, [], None, None
    with deps.db.read() as session:
        deadline = session.get(DeadlineRow, deadline_id)
        assert deadline is not None
        row = repo.incident_row(session, deadline.incident_id)
        # Nothing to say when the clock stopped after the claim, when a later notice of the same clock is due too
        # (after downtime: send that one only), or when the incident is resolved.
        if (deadline.cancelled_at is None and not schedule.superseded(session, deadline, now)
                and Status(row.status) is not Status.RESOLVED):
            incident = repo.to_domain(row)
            runs = domain_sla.runs(sla.facts(session, row), sla.policy(deps, row.severity))
            run = next((r for r in runs if r.clock.value == deadline.clock), None)
            active = [p for p in incident.pages if p.status == "active"]
            clock = domain_sla.Clock(deadline.clock)
            act = [u for p in active for u in p.notified] if clock is domain_sla.Clock.ACK and active else [
                incident.commander]
            message, breach = sla.notice_text(incident, clock, deadline.fraction or domain_sla.BREACH,
                                              deadline.due_at, run, list(dict.fromkeys(act)), now)
    with deps.db.transaction() as session:
        if not schedule.complete(session, deadline_id, owner, now) or message is None or incident is None:
            return  # another replica took the claim over, or there is nothing to say
        if incident.channel_id:
            effects.enqueue(deps, session, incident.id, "post", channel=incident.channel_id, text=message)
        if breach and deps.config.broadcast_channel:
            effects.enqueue(deps, session, incident.id, "post", channel=deps.config.broadcast_channel,
                            text=message + f" Channel: <#{incident.channel_id}>")
        effects.enqueue(deps, session, incident.id, "card", incident_id=incident.id)  # the clock's new state
    deps.wake()
    if breach and clock is domain_sla.Clock.ACK:
        for page in active:  # an ack breach escalates at once
            paging.escalate(deps, page.id, now, why="the time-to-acknowledge SLA is breached")
