"""Alert intake's outbox work, carried out after the notification committed: the incident declared through the
declare use case and linked to its group, news told in the incident's channel, the triage post and the storm
digest posted or edited to what they are now; and the views `firebell alerts` lists. Each is safe to run again."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import alerts
from bot.domain.alerts import EpisodeView, Source, State
from bot.domain.errors import FirebellError
from bot.domain.incident import Severity, incident_ref
from bot.services import declare, paging, slack_effects
from bot.services.alert_intake import (
    DECLARE,
    DIGEST,
    MAX_TIMELINE_ALERTS,
    NEWS,
    TRIAGE,
    policy_of,
    refresh_triage,
)
from bot.services.effects import Attempt, Executors
from bot.slack import alerts as render
from storage import alerts as rows
from storage import repositories as repo
from storage import schedule
from storage.models import AlertEpisodeRow

log = logging.getLogger(__name__)


def register(executors: Executors) -> None:
    executors.register(DECLARE, declare_episode, describe="declare an incident from an alert group")
    executors.register(NEWS, post_news, describe="tell the incident's channel about its alerts")
    executors.register(TRIAGE, post_triage, describe="post an alert group in the triage channel")
    executors.register(DIGEST, post_digest, describe="post the alert storm digest")


def declare_episode(deps: Deps, *, attempt: Attempt, episode_id: int) -> None:
    """Declare the episode's incident through the declare use case (channel, card, pages as for a person's), then
    link it: the alerts on its timeline, detected_at, the incident its group had last time. Once: the incident keeps
    this item's key, so a try after one that committed finds it."""
    with deps.db.read() as session:
        episode = rows.episode(session, episode_id)
        if episode is None or episode.incident_id is not None or episode.state != State.INCIDENT.value:
            return
        request = declare.DeclareRequest(team_id=episode.team_id, user_id=episode.handled_by or deps.bot_user_id,
                                         title=episode.title, severity=Severity(episode.severity),
                                         description=episode.description)
    key = attempt.marker()
    found = None
    if attempt.unsure:  # only an earlier try can have committed
        with deps.db.read() as session:
            row = repo.find_by_declare_key(session, key)
            found = repo.to_domain(row) if row is not None else None
    try:
        if found is None:
            incident = declare.declare(deps, request, key=key, unsure=attempt.unsure).incident
        else:
            incident = found
            paging.page_by_policy(deps, incident.id, f"{incident.severity.label} policy")
    except FirebellError as exc:
        log.error("could not declare an incident from alert episode %s: %s", episode_id, exc.message)
        _back_to_triage(deps, episode_id)
        return
    _link(deps, episode_id, incident.id)


def _back_to_triage(deps: Deps, episode_id: int) -> None:
    """The declare failed for good: the group waits in triage, where a person can try again."""
    policy = policy_of(deps)
    with deps.db.transaction() as session:
        episode = rows.episode(session, episode_id, lock=True)
        if episode is None or episode.incident_id is not None:
            return
        episode.state = State.TRIAGE.value
        episode.triage_channel = episode.triage_channel or policy.triage_channel
        refresh_triage(deps, session, episode.group_id, episode)
    deps.outbox.wake()


def _link(deps: Deps, episode_id: int, incident_id: int) -> None:
    with deps.db.transaction() as session:
        episode = rows.episode(session, episode_id, lock=True)
        if episode is None or episode.incident_id is not None:
            return
        episode.incident_id = incident_id
        row = repo.incident_row(session, incident_id, lock=True)
        stored = rows.alerts_of(session, episode_id=episode.id)
        row.detected_at = min((a.starts_at for a in stored), default=None)
        deps.outbox.enqueue(session, incident_id, slack_effects.CARD, incident_id=incident_id)  # shows it
        for alert in stored[:MAX_TIMELINE_ALERTS]:
            repo.add_timeline_event(session, row, at=alert.starts_at, kind="alert", actor=deps.bot_user_id,
                                    text=f"Alert fired: {_line(alert)}")
        if episode.previous_incident_id is not None and row.channel_id:
            previous = rows.incident_refs(session, [episode.previous_incident_id]).get(episode.previous_incident_id)
            if previous is not None:
                deps.outbox.enqueue(session, incident_id, slack_effects.POST, channel=row.channel_id,
                                    text=render.fired_again(row.ref, _previous_text(previous)))
        refresh_triage(deps, session, episode.group_id, episode)
    deps.cache.changed()
    deps.outbox.wake()


def post_news(deps: Deps, *, attempt: Attempt, episode_id: int, fired: list[int], resolved: list[int],
              group_resolved: bool) -> None:
    """New and resolved alerts of an incident's group: on its timeline and in its channel, once."""
    with deps.db.transaction() as session:
        episode = rows.episode(session, episode_id)
        if episode is None:
            return
        if episode.incident_id is None:  # its declare failed: the group is in triage now
            refresh_triage(deps, session, episode.group_id, episode)
            return
        if not repo.claim_request(session, f"alert-news:{attempt.marker()}", deps.clock()):
            return
        row = repo.incident_row(session, episode.incident_id, lock=True)
        if row.status == "resolved" or row.channel_id is None:
            return
        fired_alerts = rows.alerts_of(session, ids=fired) if fired else []
        resolved_alerts = rows.alerts_of(session, ids=resolved) if resolved else []
        now = deps.clock()
        for alert in fired_alerts[:MAX_TIMELINE_ALERTS]:
            repo.add_timeline_event(session, row, at=alert.starts_at, kind="alert", actor=deps.bot_user_id,
                                    text=f"Alert fired: {_line(alert)}")
        for alert in resolved_alerts[:MAX_TIMELINE_ALERTS]:
            repo.add_timeline_event(session, row, at=alert.ends_at or now, kind="alert_resolved",
                                    actor=deps.bot_user_id, text=f"Alert resolved: {_line(alert)}")
        # Who is asked to confirm: the commander; while Firebell itself holds that role, the people paged for it.
        asked = [row.commander] if row.commander != deps.bot_user_id else sorted(schedule.notified_users(session,
                                                                                                      row.id))
        text, blocks = render.news_message(row.ref, [_line(a) for a in fired_alerts],
                                           [_line(a) for a in resolved_alerts], group_resolved=group_resolved,
                                           asked=asked)
        deps.outbox.enqueue(session, row.id, slack_effects.POST, channel=row.channel_id, text=text,
                            blocks=slack_effects.serialised(blocks))
    deps.cache.changed()
    deps.outbox.wake()


def post_triage(deps: Deps, *, attempt: Attempt, episode_id: int) -> None:
    """Post the group's triage message, or edit it to what it is now."""
    with deps.db.read() as session:
        episode = rows.episode(session, episode_id)
        if episode is None or episode.triage_channel is None:
            return
        view = views(session, [episode])[0]
        channel, ts = episode.triage_channel, episode.triage_ts
    text, blocks = render.triage_message(view)
    if ts is not None:
        deps.slack.update(channel, ts, text, blocks)
        return
    ts = attempt.post(deps.slack, channel, text, blocks)
    with deps.db.transaction() as session:
        rows.set_triage_ts(session, episode_id, ts)


def post_digest(deps: Deps, *, attempt: Attempt, digest_id: int) -> None:
    """Post the storm digest, or edit it to hold every group that joined it since."""
    policy = policy_of(deps)
    with deps.db.transaction() as session:
        digest = rows.digest(session, digest_id, lock=True)
        if digest is None:
            return
        digest.edit_queued = False  # what joins after this transaction queues the next edit
        episodes = rows.digest_episodes(session, digest_id)
        channel = digest.channel or next((e.triage_channel for e in episodes if e.triage_channel), None)
        shown, ts = views(session, episodes), digest.ts
    if channel is None:
        return
    text, blocks = render.digest_message(shown, policy.max_new_incidents)
    if ts is not None:
        deps.slack.update(channel, ts, text, blocks)
        return
    ts = attempt.post(deps.slack, channel, text, blocks)
    with deps.db.transaction() as session:
        digest = rows.digest(session, digest_id, lock=True)
        if digest is not None and digest.ts is None:
            digest.ts, digest.channel = ts, channel


# Views


def _line(alert: rows.StoredAlert) -> str:
    domain = alerts.Alert(status=alert.status, labels=alert.labels, annotations=alert.annotations,
                          starts_at=alert.starts_at, ends_at=alert.ends_at, fingerprint=alert.fingerprint,
                          generator_url=alert.links.get("source"), dashboard_url=alert.links.get("dashboard"),
                          panel_url=alert.links.get("panel"), silence_url=alert.links.get("silence"))
    return alerts.alert_line(domain)


def _previous_text(previous: tuple[int, str | None, str]) -> str:
    number, _, root_cause = previous
    return incident_ref(number) + (f", root cause: {root_cause}" if root_cause else "")


def views(session: Session, episodes: list[AlertEpisodeRow]) -> list[EpisodeView]:
    """What the triage message (one episode: with the lines of its first alerts), the digest and `firebell alerts`
    show (several: counts only)."""
    refs = rows.incident_refs(session, [i for e in episodes for i in (e.incident_id, e.previous_incident_id)])
    if len(episodes) == 1:
        (only,) = episodes
        counts = {only.id: rows.episode_counts(session, only.id)}
        sources = {only.group_id: rows.group_source(session, only.group_id)}
        stored = rows.first_alerts(session, only.id, render.SHOWN_ALERTS)
    else:
        counts = rows.alert_counts(session, [e.id for e in episodes])
        sources = {group_id: group.source
                   for group_id, group in rows.groups_of(session, [e.group_id for e in episodes]).items()}
        stored = []
    shown = []
    for episode in episodes:
        total, firing = counts.get(episode.id, (0, 0))
        incident = refs.get(episode.incident_id) if episode.incident_id is not None else None
        previous = refs.get(episode.previous_incident_id) if episode.previous_incident_id is not None else None
        shown.append(EpisodeView(
            episode_id=episode.id, source=Source(sources[episode.group_id]), title=episode.title,
            severity=Severity(episode.severity), state=State(episode.state), status=episode.status,
            lines=tuple(_line(a) for a in stored), firing=firing, total=total,
            incident_ref=incident_ref(incident[0]) if incident else None,
            incident_channel=incident[1] if incident else None, handled_by=episode.handled_by,
            previous=_previous_text(previous) if previous else None))
    return shown


# `firebell alerts`

STATE_WORDS = {State.INCIDENT: "incident", State.TRIAGE: "triaged", State.DIGEST: "triaged (storm digest)",
               State.DISMISSED: "dismissed", State.NOWHERE: "stored"}


def received(session: Session, since: datetime | None, team_id: str | None = None) -> list[dict[str, object]]:
    """The alert groups' episodes seen since ``since``, newest first, with their state and alert counts."""
    episodes = rows.episodes_since(session, team_id, since)
    groups = rows.groups_of(session, [e.group_id for e in episodes])
    shown = {view.episode_id: view for view in views(session, episodes)}
    listed = []
    for episode in episodes:
        view, group = shown[episode.id], groups[episode.group_id]
        listed.append({
            "team_id": episode.team_id, "source": group.source, "group_key": group.group_key,
            "episode": episode.generation, "title": episode.title, "severity": episode.severity,
            "state": STATE_WORDS[view.state], "incident": view.incident_ref, "status": episode.status,
            "alerts": view.total, "firing": view.firing, "notifications": episode.notifications,
            "first_seen_at": episode.decided_at.isoformat(), "last_seen_at": episode.last_seen_at.isoformat(),
            "handled_by": episode.handled_by, "fired_again_after": view.previous})
    return listed


def received_text(listed: list[dict[str, object]]) -> str:
    if not listed:
        return "no alert groups received in that time"
    lines = []
    for item in listed:
        state = f"incident {item['incident']}" if item["incident"] else str(item["state"])
        lines.append(f"{item['last_seen_at']}  {str(item['severity']).upper()}  {state:<24} {item['status']:<8} "
                     f"{item['alerts']} alert(s), {item['firing']} firing  {item['title']}  ({item['source']})")
    return "\n".join(lines)
