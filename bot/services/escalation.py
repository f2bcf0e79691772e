"""Scheduled work of paging: a page nobody acknowledged within its tier's timeout moves on to the next tier; the
last tier is paged once more, with the commander."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.deps import Deps
from bot.domain.escalation import next_tier
from bot.domain.incident import Status
from bot.durations import format_duration
from bot.observability.logs import Event, incident_event
from bot.scheduling import Claimed
from bot.services import page_notices, paging
from bot.services.change import Target, incident_change
from storage import repositories as repo
from storage import schedule


def escalate_due(deps: Deps, claimed: Claimed, now: datetime) -> None:
    """Deadline handler of a page's acknowledgement timeout."""
    assert claimed.page_id is not None
    escalate(deps, claimed.page_id, now)
    with deps.db.transaction() as session:
        claimed.complete(session, now)


def escalate(deps: Deps, page_id: int, now: datetime, *, why: str | None = None) -> None:
    """Page the next tier; the last tier is re-notified once. ``why`` replaces "nobody acknowledged within…"."""
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        if found is None:
            return
        target = Target(repo.incident_row(session, found.incident_id).team_id, incident_id=found.incident_id)
    what = ""
    with incident_change(deps, target) as (session, row):
        ref = row.ref
        page_row = schedule.page_row(session, page_id, lock=True)
        if page_row is None or page_row.status != "active" or Status(row.status) is Status.RESOLVED:
            return
        current = deps.config.tier(page_row.tier)
        timeout = _timeout(paging.ack_timeout(current) if current else None)
        waited = why or f"nobody in {page_row.tier} acknowledged within {timeout}"
        following = next_tier([t.name for t in deps.config.tiers], page_row.tier) if current else None
        nxt = deps.config.tier(following) if following else None
        if nxt is not None:
            page_row.status, page_row.escalated_at = "escalated", now
            repo.add_timeline_event(session, row, at=now, kind="escalated", actor=None,
                                    text=f"Escalated {page_row.tier} → {nxt.name}: {waited}")
            new = paging.page_tier(deps, session, row, nxt, now, None, f"Escalated from {page_row.tier}: {waited}",
                                   escalated_from=page_row.id, note=f"⏫ Escalated to {nxt.name}: {waited}.")
            what = f"{page_row.tier} → {new.tier}: {waited}"
        elif page_row.renotified_at is None:
            page_row.renotified_at = now
            repo.add_timeline_event(session, row, at=now, kind="renotified", actor=None,
                                    text=f"{page_row.tier} re-notified with the commander: {waited}")
            deps.outbox.enqueue(session, row.id, page_notices.RENOTIFY, page_id=page_id, waited=waited)
            what = f"{page_row.tier} re-notified with the commander: {waited}"
    if what:
        deps.metrics.escalated()
        incident_event(Event.ESCALATED, ref, target.team_id, what)


def _timeout(value: timedelta | None) -> str:
    return format_duration(value) if value else "its timeout"
