"""Paging on-call tiers, the use cases: page a tier (by hand or by the severity's policy), acknowledge a page, and
stop escalating when the incident is handled.

Decisions happen in a transaction holding the incident's row lock; the DMs, the channel notes and the external
pagers are queued in it and delivered from the outbox (bot/services/page_notices.py), in order per incident. Moving
a page on to the next tier is scheduled work: bot/services/escalation.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Tier
from bot.deps import Deps
from bot.domain import transitions
from bot.domain.errors import AlreadyDone, NotFound
from bot.domain.escalation import next_tier
from bot.domain.incident import Incident, Severity, Status
from bot.domain.permissions import NotAllowed
from bot.observability.logs import Event, incident_event
from bot.services import oncall, page_notices, slack_effects
from bot.services.change import Target, incident_change
from storage import repositories as repo
from storage import schedule
from storage.models import IncidentRow, PageRow

DEFAULT_ACK_TIMEOUT = timedelta(minutes=15)  # for a tier that names none


tier_named = oncall.tier_named


def ack_timeout(tier: Tier) -> timedelta:
    return tier.ack_timeout or DEFAULT_ACK_TIMEOUT


def page(deps: Deps, target: Target, actor: str | None, tier_name: str, message: str = "") -> Incident:
    """Page a tier. By hand (``actor`` set), it stops the escalation already running for the incident."""
    tier = tier_named(deps, tier_name)
    with incident_change(deps, target) as (session, row):
        transitions.check_not_resolved(Status(row.status), row.ref, "page anyone")
        now = deps.clock()
        if actor is not None:
            stop_escalations(session, row, now)
        reason = message.strip() or ("paged by hand" if actor else "")
        new = page_tier(deps, session, row, tier, now, actor, reason)
        incident = repo.to_domain(row, with_timeline=False)
    incident_event(Event.PAGED, incident.ref, incident.team_id,
                   f"{new.tier}, " + (f"by {actor}" if actor else reason or "by policy"))
    return incident


def page_by_policy(deps: Deps, incident_id: int, why: str, *, severity: Severity | None = None) -> None:
    """The severity names a tier to page (on declare, on a raise): page it unless it is already paged. A caller that
    has just stored the severity says which: when it pages nobody (most declares), there is nothing to read."""
    if severity is not None and not deps.config.severities[severity].page:
        return
    with deps.db.read() as session:
        row = repo.incident_row(session, incident_id)
        tier_name = deps.config.severities[Severity(row.severity)].page if row.status != Status.RESOLVED.value else None
        paged = {p.tier for p in schedule.pages_of(session, [incident_id]) if p.status in ("active", "acknowledged")}
        team_id = row.team_id
    if tier_name and tier_name not in paged:
        page(deps, Target(team_id, incident_id=incident_id), None, tier_name, why)


def page_tier(deps: Deps, session: Session, row: IncidentRow, tier: Tier, now: datetime, actor: str | None,
              reason: str, *, escalated_from: int | None = None, note: str | None = None) -> PageRow:
    """Page ``tier``'s on-call person at ``now`` (and its members), and queue the DMs. A tier with nobody on call (a
    gap in its schedule) and no members is passed over at once for the next tier, and the channel hears why."""
    shift = oncall.shift_at(session, deps.team_id, tier, now) if tier.schedule else None
    order = [t.name for t in deps.config.tiers]
    passed: list[str] = []
    while shift is not None and shift.user is None and not tier.members:
        following = next_tier(order, tier.name)
        nxt = deps.config.tier(following) if following else None
        if nxt is None:
            break
        why = f"nobody is on call in {tier.name} now (a gap in its schedule) and it has no members"
        repo.add_timeline_event(session, row, at=now, kind="escalated", actor=None,
                                text=f"Passed over {tier.name} for {nxt.name}: {why}")
        passed.append(f"⏭ {why}: paging {nxt.name} at once.")
        tier = nxt
        shift = oncall.shift_at(session, deps.team_id, tier, now) if tier.schedule else None
    new = open_page(session, row, tier, now, actor, reason, escalated_from,
                    oncall_user=shift.user if shift else None, oncall_source=shift.describe() if shift else None)
    said = "\n".join([*([note] if note else []), *passed]) or None
    deps.outbox.enqueue(session, row.id, page_notices.NOTIFY, page_id=new.id, tier=tier.name, note=said)
    return new


def open_page(session: Session, row: IncidentRow, tier: Tier, now: datetime, actor: str | None, reason: str,
              escalated_from: int | None = None, *, oncall_user: str | None = None,
              oncall_source: str | None = None) -> PageRow:
    """A new page of ``tier``, with its escalation deadline and its timeline entry."""
    new = schedule.add_page(session, incident_id=row.id, tier=tier.name, reason=reason, paged_at=now,
                            paged_by=actor, status="active", escalated_from=escalated_from, oncall_user=oncall_user,
                            oncall_source=oncall_source)
    schedule.schedule_escalation(session, new, now + ack_timeout(tier))
    repo.add_timeline_event(session, row, at=now, kind="paged", actor=actor,
                            text=f"Paged {tier.name}" + (f": {reason}" if reason else ""))
    return new


def stop_escalations(session: Session, row: IncidentRow, now: datetime) -> None:
    """End every running escalation of the incident (acknowledged, resolved, or paged by hand)."""
    active = schedule.active_pages(session, row.id)
    for page_row in active:
        page_row.status, page_row.stopped_at = "stopped", now
    schedule.cancel_escalations(session, [p.id for p in active], now)


def acknowledge_page(deps: Deps, page_id: int, user_id: str) -> Incident:
    """The DM's Acknowledge button. The first acknowledgement counts; it also acknowledges the incident."""
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        if found is None:
            raise NotFound("That page no longer exists.")
        target = Target(repo.incident_row(session, found.incident_id).team_id, incident_id=found.incident_id)
    with incident_change(deps, target) as (session, row):
        page_row = schedule.page_row(session, page_id, lock=True)
        assert page_row is not None
        notified = {n.user_id for n in page_row.notices}
        if user_id not in notified and user_id not in deps.config.admins and user_id != row.commander:
            raise NotAllowed(f"Only the people paged for {page_row.tier} can acknowledge this page.")
        acknowledge_pages(deps, session, row, user_id, [page_row])
        first = row.acknowledged_by is None
        if first:
            record_incident_ack(deps, session, row, user_id)
        incident = repo.to_domain(row, with_timeline=False)
        after_acknowledgement(deps, session, incident, user_id)
    incident_event(Event.ACKNOWLEDGED, incident.ref, incident.team_id,
                   f"the {page_row.tier} page, by {user_id}" + (", so the incident too" if first else ""))
    return incident


def acknowledge_pages(deps: Deps, session: Session, row: IncidentRow, user_id: str,
                      pages: list[PageRow] | None = None) -> bool:
    """Record ``user_id``'s acknowledgement of the pages that reached them (or of ``pages``) and stop escalating.
    Returns whether a page was acknowledged; raises AlreadyDone when that page was acknowledged before."""
    if pages is None:
        pages = [p for p in schedule.pages_of(session, [row.id])
                 if p.status in ("active", "escalated") and user_id in {n.user_id for n in p.notices}]
    if not pages:
        return False
    first = pages[0]
    if first.acknowledged_by is not None:
        raise AlreadyDone(f"The {first.tier} page for {row.ref} was already acknowledged by "
                          f"<@{first.acknowledged_by}>.")
    now = deps.clock()
    stop_escalations(session, row, now)
    first.status, first.acknowledged_at, first.acknowledged_by = "acknowledged", now, user_id
    repo.add_timeline_event(session, row, at=now, kind="page acknowledged", actor=user_id,
                            text=f"Acknowledged the {first.tier} page")
    return True


def record_incident_ack(deps: Deps, session: Session, row: IncidentRow, user_id: str) -> None:
    """The incident's own acknowledgement (once): declared → investigating, who and when."""
    status = transitions.status_after_ack(Status(row.status), row.acknowledged_by, row.ref)
    now = deps.clock()
    repo.add_timeline_event(session, row, at=now, kind="acknowledged", actor=user_id,
                            text=f"Acknowledged; status {status.label}")
    row.status, row.acknowledged_at, row.acknowledged_by = status.value, now, user_id


def after_acknowledgement(deps: Deps, session: Session, incident: Incident, user_id: str) -> None:
    """Within the transaction: the page DMs will say who acknowledged; the channel and external pagers hear."""
    deps.outbox.enqueue(session, incident.id, page_notices.ACKNOWLEDGED, incident_id=incident.id, user_id=user_id)
    deps.outbox.enqueue(session, incident.id, slack_effects.CARD, incident_id=incident.id)


def resolve_external(deps: Deps, session: Session, incident: Incident) -> None:
    """Within the resolve transaction: the external pagers' alerts will be resolved."""
    for tier in dict.fromkeys(p.tier for p in schedule.pages_of(session, [incident.id])):
        deps.outbox.enqueue(session, incident.id, page_notices.EXTERNAL, incident_id=incident.id, tier=tier,
                            action="resolve")
