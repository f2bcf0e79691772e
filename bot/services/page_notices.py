"""Paging's outbox executors: the page DMs with their Acknowledge button, the re-notification of the last tier, the
DMs edited once someone acknowledged, and the external pagers (PagerDuty, Opsgenie). Each is safe to run again:
people already reached are skipped, edits are idempotent, posts and DMs look for an earlier try first."""

from __future__ import annotations

import logging

from slack_sdk.models.blocks import Block

from bot.config import Tier
from bot.deps import Deps
from bot.domain.incident import Incident, PageView
from bot.pagers import PageEvent, PagerError
from bot.services import incidents, slack_effects
from bot.services.effects import Attempt, Executors
from bot.slack import render
from bot.slack.gateway import SlackCallFailed, will_heal
from storage import repositories as repo
from storage import schedule

log = logging.getLogger(__name__)

NOTIFY = "page_notify"
RENOTIFY = "page_renotify"
ACKNOWLEDGED = "page_acknowledged"
EXTERNAL = "external"


def register(executors: Executors) -> None:
    executors.register(NOTIFY, notify_page, describe="send a page")
    executors.register(RENOTIFY, renotify_page, describe="re-send a page")
    executors.register(ACKNOWLEDGED, show_acknowledgement, describe="update the page DMs")
    executors.register(EXTERNAL, update_external_pager, describe="reach the external pager")


def dedup_key(incident: Incident, tier: str) -> str:
    return f"firebell-{incident.team_id}-{incident.ref}-{tier}"


def paged_people(deps: Deps, page: PageView, tier: Tier | None) -> list[str]:
    """Whom a page reaches: the person the tier's schedule had on call when it was paged, and the tier's members."""
    return list(dict.fromkeys([*([page.oncall_user] if page.oncall_user else []),
                               *(tier_people(deps, tier) if tier else [])]))


def tier_people(deps: Deps, tier: Tier) -> list[str]:
    """The tier's members, with its user groups expanded (a group Slack will not list is logged and skipped)."""
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


def notify_page(deps: Deps, *, attempt: Attempt, page_id: int, tier: str, note: str | None) -> None:
    """DM each member with an Acknowledge button (once: people already reached are skipped on a retry), invite them,
    tell the external pager, and say in the channel who was paged."""
    incident = _incident_of_page(deps, page_id)
    page_view = next(p for p in incident.pages if p.id == page_id)
    people = paged_people(deps, page_view, deps.config.tier(tier))
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
        channel: str | None
        ts: str | None
        try:
            channel, ts = attempt.dm(deps.slack, person, *render.page_dm(incident, page_view, note),
                                     step=f"dm-{person}")
        except SlackCallFailed as exc:
            if will_heal(exc.error):
                raise
            problems.append(f"the DM to <@{person}> failed ({exc.error})")
            channel = ts = None
        with deps.db.transaction() as session:
            schedule.record_notice(session, page_id, person, channel, ts)
    error = _tell_pager(deps, incident, tier, "trigger")
    if error:
        problems.append(error)
    if incident.channel_id:
        attempt.post(deps.slack, incident.channel_id, render.page_note(incident, page_view, people, note, problems))
    slack_effects.update_card(deps, attempt=attempt, incident_id=incident.id)


def renotify_page(deps: Deps, *, attempt: Attempt, page_id: int, waited: str) -> None:
    """The last tier and the commander, paged once more."""
    incident = _incident_of_page(deps, page_id)
    page_view = next(p for p in incident.pages if p.id == page_id)
    people = list(dict.fromkeys([*paged_people(deps, page_view, deps.config.tier(page_view.tier)),
                                 incident.commander]))
    note = f"🔁 Still nobody has acknowledged: {waited}. This is the last tier; paging it once more."
    for person in people:
        try:
            attempt.dm(deps.slack, person, *render.page_dm(incident, page_view, note), step=f"dm-{person}")
        except SlackCallFailed as exc:
            if will_heal(exc.error):
                raise  # the item is tried again; people already reached are found by their DM's marker
            log.error("re-notifying %s failed: %s", person, exc.error)
    if incident.channel_id:
        attempt.post(deps.slack, incident.channel_id, f"🔁 {incident.ref}: {waited}. {page_view.tier} is the last "
                     "tier: re-notified " + ", ".join(f"<@{p}>" for p in people) + " once.")


def show_acknowledgement(deps: Deps, *, attempt: Attempt, incident_id: int, user_id: str) -> None:
    """Edit every page DM to show who acknowledged (idempotent edits), tell the external pagers and the channel."""
    current = incidents.load(deps, incident_id)
    for page_view in current.pages:
        with deps.db.read() as session:
            found = schedule.page_row(session, page_view.id)
            notices = [(n.user_id, n.channel_id, n.ts) for n in found.notices] if found else []
        for person, channel, ts in notices:
            if channel and ts:
                text, blocks = render.page_dm_done(current, page_view, person, user_id)
                _edit_page_dm(deps, channel, ts, text, blocks)
    for tier in dict.fromkeys(p.tier for p in current.pages):
        _tell_pager(deps, current, tier, "acknowledge")
    if current.channel_id:
        attempt.post(deps.slack, current.channel_id, f"📟 <@{user_id}> acknowledged the page for {current.ref}.")


def update_external_pager(deps: Deps, *, attempt: Attempt, incident_id: int, tier: str, action: str) -> None:
    """An acknowledge or resolve for the tier's external pager; a failure is said in the channel."""
    incident = incidents.load(deps, incident_id)
    error = _tell_pager(deps, incident, tier, action)
    if error and incident.channel_id:
        attempt.post(deps.slack, incident.channel_id, f"⚠️ {error}")


def _tell_pager(deps: Deps, incident: Incident, tier_name: str, action: str) -> str | None:
    """Send ``action`` to the tier's external pager; a failure is reported, never raised: the Slack page goes on."""
    tier = deps.config.tier(tier_name)
    if tier is None or tier.pager is None:
        return None
    key = dedup_key(incident, tier.name)
    try:
        pager = deps.pagers.for_tier(tier.name)
        if pager is None:
            return None
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


def _incident_of_page(deps: Deps, page_id: int) -> Incident:
    with deps.db.read() as session:
        found = schedule.page_row(session, page_id)
        assert found is not None
        return repo.to_domain(repo.incident_row(session, found.incident_id))


def _edit_page_dm(deps: Deps, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
    """An edit of one page DM: one that will not work (the DM is gone) is logged; one that may heal is retried."""
    try:
        deps.slack.update(channel, ts, text, blocks)
    except SlackCallFailed as exc:
        if will_heal(exc.error):
            raise
        log.error("page notice failed: %s", exc.error)
