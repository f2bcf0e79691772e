"""Paging on-call tiers: page, acknowledge, escalate L1 → L2 → L3, and stop when the incident is handled.

Decisions happen in a transaction holding the incident's row lock; the DMs, the channel notes and the external
pagers follow after the commit, in order per incident (Background keyed by incident).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Tier
from bot.deps import Deps
from bot.domain import lifecycle
from bot.domain.errors import AlreadyDone, InvalidInput, NotFound
from bot.domain.model import Incident, Status
from bot.domain.permissions import NotAllowed
from bot.services import effects
from bot.services.incidents import Target, changing
from bot.slack import render
from bot.slack.gateway import SlackCallFailed, will_heal
from storage import repositories as repo
from storage import schedule
from storage.models import IncidentRow, PageRow

log = logging.getLogger(__name__)

DEFAULT_ACK_TIMEOUT = timedelta(minutes=15)  # for a tier that names none


def tier_named(deps: Deps, name: str) -> Tier:
    tier = deps.config.tier(name)
    if tier is None:
        known = ", ".join(t.name for t in deps.config.tiers) or "none are configured in firebell.yml"
        raise InvalidInput("tier", f"There is no tier `{name}`. Tiers: {known}.")
    return tier


def ack_timeout(tier: Tier) -> timedelta:
    return tier.ack_timeout or DEFAULT_ACK_TIMEOUT


def dedup_key(incident: Incident, tier: str) -> str:
    return f"firebell-{incident.team_id}-{incident.ref}-{tier}"


def page(deps: Deps, target: Target, actor: str | None, tier_name: str, message: str = "") -> Incident:
    """Page a tier. By hand (``actor`` set), it stops the escalation already running for the incident."""
    tier = tier_named(deps, tier_name)
    with changing(deps, target) as (session, row):
        if Status(row.status) is Status.RESOLVED:
            raise lifecycle.InvalidTransition(f"INC-{row.number} is resolved; reopen it to page anyone.")
        now = deps.clock()
        if actor is not None:
            _stop(session, row, now)
        reason = message.strip() or ("paged by hand" if actor else "")
        new = _open_page(session, row, tier, now, actor, reason)
        incident = repo.to_domain(row, with_timeline=False)
        effects.enqueue(deps, session, incident.id, "page_notify", page_id=new.id, tier=tier.name, note=None)
    return incident


def page_by_policy(deps: Deps, incident_id: int, why: str) -> None:
    """The severity names a tier to page (on declare, on a raise): page it unless it is already paged."""
    with deps.db.read() as session:
        row = repo.incident_row(session, incident_id)
        tier_name = deps.config.severities[row.severity].page if row.status != Status.RESOLVED.value else None
        paged = {p.tier for p in schedule.pages_of(session, [incident_id]) if p.status in ("active", "acknowledged")}
        team_id = row.team_id
    if tier_name and tier_name not in paged:
        page(deps, Target(team_id, incident_id=incident_id), None, tier_name, why)


def _open_page(session: Session, row: IncidentRow, tier: Tier, now: datetime, actor: str | None, reason: str,
               escalated_from: int | None = None) -> PageRow:
    new = schedule.add_page(session, incident_id=row.id, tier=tier.name, reason=reason, paged_at=now,
                            paged_by=actor, status="active", escalated_from=escalated_from)
    schedule.schedule_escalation(session, new, now + ack_timeout(tier))
    repo.add_timeline_event(session, row, at=now, kind="paged", actor=actor,
                            text=f"Paged {tier.name}" + (f": {reason}" if reason else ""))
    return new


def _stop(session: Session, row: IncidentRow, now: datetime) -> list[int]:
    """End every running escalation of the incident (acknowledged, resolved, or paged by hand)."""
    active = schedule.active_pages(session, row.id)
    for page_row in active:
        page_row.status, page_row.stopped_at = "stopped", now
    schedule.cancel_escalations(session, [p.id for p in active], now)
    return [p.id for p in active]


def stop_for_resolve(session: Session, row: IncidentRow, now: datetime) -> None:
    _stop(session, row, now)


def acknowledge_page(deps: Deps, page_id: int, user_id: str) -> Incident:
    """The DM's Acknowledge button. The first acknowledgement counts; it also acknowledges the incident."""
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        if found is None:
            raise NotFound("That page no longer exists.")
        target = Target(repo.incident_row(session, found.incident_id).team_id, incident_id=found.incident_id)
    with changing(deps, target) as (session, row):
        page_row = schedule.page_row(session, page_id, lock=True)
        assert page_row is not None
        notified = {n.user_id for n in page_row.notices}
        if user_id not in notified and user_id not in deps.config.admins and user_id != row.commander:
            raise NotAllowed(f"Only the people paged for {page_row.tier} can acknowledge this page.")
        acknowledge_pages(deps, session, row, user_id, [page_row])
        if row.acknowledged_by is None:
            record_incident_ack(deps, session, row, user_id)
        incident = repo.to_domain(row, with_timeline=False)
        after_acknowledgement(deps, session, incident, user_id)
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
        raise AlreadyDone(f"The {first.tier} page for INC-{row.number} was already acknowledged by "
                          f"<@{first.acknowledged_by}>.")
    now = deps.clock()
    _stop(session, row, now)
    first.status, first.acknowledged_at, first.acknowledged_by = "acknowledged", now, user_id
    repo.add_timeline_event(session, row, at=now, kind="page acknowledged", actor=user_id,
                            text=f"Acknowledged the {first.tier} page")
    return True


def record_incident_ack(deps: Deps, session: Session, row: IncidentRow, user_id: str) -> None:
    """The incident's own acknowledgement (once): declared → investigating, who and when."""
    status = lifecycle.status_after_ack(Status(row.status), row.acknowledged_by, f"INC-{row.number}")
    now = deps.clock()
    repo.add_timeline_event(session, row, at=now, kind="acknowledged", actor=user_id,
                            text=f"Acknowledged; status {status.label}")
    row.status, row.acknowledged_at, row.acknowledged_by = status.value, now, user_id


def after_acknowledgement(deps: Deps, session: Session, incident: Incident, user_id: str) -> None:
    """Within the transaction: the page DMs will say who acknowledged; the channel and external pagers hear."""
    effects.enqueue(deps, session, incident.id, "page_acknowledged", incident_id=incident.id, user_id=user_id)
    effects.enqueue(deps, session, incident.id, "card", incident_id=incident.id)


def tell_acknowledged(deps: Deps, incident_id: int, user_id: str, attempt: effects.Attempt) -> None:
    """Outbox executor: edit every page DM to show who acknowledged (idempotent edits), tell the channel."""
    current = effects.load(deps, incident_id)
    for page_view in current.pages:
        with deps.db.read() as session:
            found = schedule.page_row(session, page_view.id)
            notices = [(n.user_id, n.channel_id, n.ts) for n in found.notices] if found else []
        for person, channel, ts in notices:
            if channel and ts:
                text, blocks = render.page_dm_done(current, page_view, person, user_id)
                _quietly(lambda c=channel, t=ts, x=text, b=blocks: deps.slack.update(c, t, x, b))
    for tier in dict.fromkeys(p.tier for p in current.pages):
        _external(deps, current, tier, "acknowledge")
    if current.channel_id:
        attempt.post(deps, current.channel_id, f"📟 <@{user_id}> acknowledged the page for {current.ref}.")


def escalate(deps: Deps, page_id: int, now: datetime, *, why: str | None = None) -> None:
    """A page's acknowledgement timeout passed: page the next tier; the last tier is re-notified once."""
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        if found is None:
            return
        target = Target(repo.incident_row(session, found.incident_id).team_id, incident_id=found.incident_id)
    with changing(deps, target) as (session, row):
        page_row = schedule.page_row(session, page_id, lock=True)
        if page_row is None or page_row.status != "active" or Status(row.status) is Status.RESOLVED:
            return
        tiers = [t.name for t in deps.config.tiers]
        current = deps.config.tier(page_row.tier)
        position = tiers.index(current.name) if current else len(tiers) - 1
        timeout = _fmt(ack_timeout(current) if current else None)
        waited = why or f"nobody in {page_row.tier} acknowledged within {timeout}"
        if position + 1 < len(tiers):
            nxt = deps.config.tiers[position + 1]
            page_row.status, page_row.escalated_at = "escalated", now
            new = _open_page(session, row, nxt, now, None, f"Escalated from {page_row.tier}: {waited}",
                             escalated_from=page_row.id)
            repo.add_timeline_event(session, row, at=now, kind="escalated", actor=None,
                                    text=f"Escalated {page_row.tier} → {nxt.name}: {waited}")
            effects.enqueue(deps, session, row.id, "page_notify", page_id=new.id, tier=nxt.name,
                            note=f"⏫ Escalated to {nxt.name}: {waited}.")
        elif page_row.renotified_at is None:
            page_row.renotified_at = now
            repo.add_timeline_event(session, row, at=now, kind="renotified", actor=None,
                                    text=f"{page_row.tier} re-notified with the commander: {waited}")
            effects.enqueue(deps, session, row.id, "page_renotify", page_id=page_id, waited=waited)


def _fmt(value: timedelta | None) -> str:
    from bot.durations import format_duration

    return format_duration(value) if value else "its timeout"


def _members(deps: Deps, tier: Tier) -> list[str]:
    people: list[str] = []
    for member in tier.members:
        if member.startswith("S"):
            try:
                people.extend(deps.slack.usergroup_members(member))
            except SlackCallFailed as exc:
                log.error("user group %s of tier %s: %s", member, tier.name, exc.error)
        else:
            people.append(member)
    return list(dict.fromkeys(people))


def notify_page(deps: Deps, page_id: int, tier: str, note: str | None, attempt: effects.Attempt) -> None:
    """Outbox executor: DM each member with an Acknowledge button (once: people already reached are skipped on a
    retry), invite them, tell the external pager, and say in the channel who was paged."""
    incident = _incident_of_page(deps, page_id)
    page_view = next(p for p in incident.pages if p.id == page_id)
    config = deps.config.tier(tier)
    people = _members(deps, config) if config else []
    problems = []
    if incident.channel_id and people:
        try:
            deps.slack.invite(incident.channel_id, people)
        except SlackCallFailed as exc:
            problems.append(f"inviting them failed ({exc.error})")
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        reached = {n.user_id for n in found.notices if n.ts} if found else set()
    for person in people:
        if person in reached:
            continue
        try:
            channel, ts = attempt.dm(deps, person, *render.page_dm(incident, page_view, note), step=f"dm-{person}")
        except SlackCallFailed as exc:
            if will_heal(exc.error):
                raise
            problems.append(f"the DM to <@{person}> failed ({exc.error})")
            channel = ts = None
        with deps.db.transaction() as session:
            schedule.record_notice(session, page_id, person, channel, ts)
    error = _external(deps, incident, tier, "trigger")
    if error:
        problems.append(error)
    if incident.channel_id:
        attempt.post(deps, incident.channel_id, render.page_note(incident, page_view, people, note, problems))
    _refresh(deps, incident.id)


def _incident_of_page(deps: Deps, page_id: int) -> Incident:
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        assert found is not None
        return repo.to_domain(repo.incident_row(session, found.incident_id))


def _refresh(deps: Deps, incident_id: int) -> None:
    effects.execute(deps, "card", {"incident_id": incident_id})


def renotify_page(deps: Deps, page_id: int, waited: str, attempt: effects.Attempt) -> None:
    """Outbox executor: the last tier and the commander, paged once more."""
    incident = _incident_of_page(deps, page_id)
    page_view = next(p for p in incident.pages if p.id == page_id)
    tier = deps.config.tier(page_view.tier)
    people = list(dict.fromkeys([*(_members(deps, tier) if tier else []), incident.commander]))
    note = f"🔁 Still nobody has acknowledged: {waited}. This is the last tier; paging it once more."
    for person in people:
        try:
            attempt.dm(deps, person, *render.page_dm(incident, page_view, note), step=f"dm-{person}")
        except SlackCallFailed as exc:
            if will_heal(exc.error):
                raise  # the item is tried again; people already reached are found by their DM's marker
            log.error("re-notifying %s failed: %s", person, exc.error)
    if incident.channel_id:
        attempt.post(deps, incident.channel_id, f"🔁 {incident.ref}: {waited}. {page_view.tier} is the last tier: "
                        "re-notified " + ", ".join(f"<@{p}>" for p in people) + " once.")


def resolve_external(deps: Deps, session: Session, incident: Incident) -> None:
    """Within the resolve transaction: the external pagers' alerts will be resolved."""
    for tier in dict.fromkeys(p.tier for p in schedule.pages_of(session, [incident.id])):
        effects.enqueue(deps, session, incident.id, "external", incident_id=incident.id, tier=tier, action="resolve")


def tell_external(deps: Deps, incident_id: int, tier: str, action: str, attempt: effects.Attempt) -> None:
    """Outbox executor: an acknowledge or resolve for the tier's external pager; a failure is said in the channel."""
    incident = effects.load(deps, incident_id)
    error = _external(deps, incident, tier, action)
    if error and incident.channel_id:
        attempt.post(deps, incident.channel_id, f"⚠️ {error}")


def _external(deps: Deps, incident: Incident, tier_name: str, action: str) -> str | None:
    """Tell the tier's external pager; a failure is reported, never raised: the Slack page goes on."""
    tier = deps.config.tier(tier_name)
    if tier is None or tier.pager is None:
        return None
    from bot.pagers import PageEvent, PagerError, build_pager  # only when a tier names an external pager

    key = dedup_key(incident, tier.name)
    try:
        pager = build_pager(tier.pager, os.environ)
        if action == "trigger":
            pager.trigger(PageEvent(dedup_key=key, summary=f"{incident.ref} ({incident.severity.label}): "
                                    f"{incident.title}", severity=incident.severity.value, source="firebell",
                                    incident_ref=incident.ref, tier=tier.name, link=None,
                                    details={"status": incident.status.value}))
        elif action == "acknowledge":
            pager.acknowledge(key)
        else:
            pager.resolve(key)
    except PagerError as exc:
        log.error("%s: %s %s failed: %s", incident.ref, tier.pager.type, action, exc)
        return f"{tier.pager.type} did not take the {action} for {tier.name}: {exc}"
    return None


def _quietly(call) -> None:  # noqa: ANN001
    """An edit of one page DM: one that will not work (the DM is gone) is logged; one that may heal is retried."""
    try:
        call()
    except SlackCallFailed as exc:
        if will_heal(exc.error):
            raise
        log.error("page notice failed: %s", exc.error)
