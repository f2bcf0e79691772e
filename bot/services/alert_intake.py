"""Alerts in: a notification from Alertmanager or Grafana stored in the request's transaction, and what it implies
(an incident declared, a triage post, a storm digest line, news in the incident's channel) queued in the same
transaction, in the group's own outbox lane, so a stop after the 200 loses nothing and a retry creates nothing twice.

An alert group's episode starts with its first firing alert and lasts until it resolves (for an incident: until the
incident is resolved, by a person; Firebell never closes one by itself). Its route is decided once, at its start,
with the team's intake row locked, so the storm limit holds across replicas (bot.domain.alerts decides).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import alerts
from bot.domain.alerts import AlertGroup, AlertPolicy, EpisodeView, Route, Source, State
from bot.domain.errors import AlreadyDone, FirebellError, NotFound
from bot.domain.incident import Severity, incident_ref
from bot.services import declare, paging, slack_effects
from bot.services.effects import Attempt, Executors
from bot.slack import alerts as render
from storage import alerts as rows
from storage import repositories as repo
from storage.models import AlertDigestRow, AlertEpisodeRow, AlertGroupRow

log = logging.getLogger(__name__)

DECLARE = "alert_declare"  # outbox kinds, each carried out in the group's lane (or the digest's)
NEWS = "alert_news"
TRIAGE = "alert_triage"
DIGEST = "alert_digest"
MAX_TIMELINE_ALERTS = 50  # alerts put on an incident's timeline per notification; all are stored


def register(executors: Executors) -> None:
    executors.register(DECLARE, declare_episode, describe="declare an incident from an alert group")
    executors.register(NEWS, post_news, describe="tell the incident's channel about its alerts")
    executors.register(TRIAGE, post_triage, describe="post an alert group in the triage channel")
    executors.register(DIGEST, post_digest, describe="post the alert storm digest")


def group_lane(group_id: int) -> str:
    return f"alerts:{group_id}"


def digest_lane(digest_id: int) -> str:
    return f"alerts:digest:{digest_id}"


@dataclass(frozen=True)
class Receipt:
    """What a notification did: the answer the sender gets."""

    group_id: int
    episode_id: int
    state: str
    new_alerts: int
    resolved_alerts: int
    started: bool  # it began an episode

    def body(self) -> dict[str, object]:
        return {"status": "stored", "group": self.group_id, "episode": self.episode_id, "state": self.state,
                "new_alerts": self.new_alerts, "resolved_alerts": self.resolved_alerts}


def policy_of(deps: Deps) -> AlertPolicy:
    return deps.config.alerts.policy()


def receive(deps: Deps, group: AlertGroup) -> Receipt:
    """Store the notification and queue what it implies, in one transaction (raises when the database is away).
    On SQLite (one process, one writer) this process's notifications take turns on a lock first: a waiting thread
    is handed the database at once instead of polling for SQLite's write lock."""
    if deps.db.dialect == "sqlite":
        with deps.declare_locks.hold(("alerts", deps.team_id)):
            return _receive(deps, group)
    return _receive(deps, group)


def _receive(deps: Deps, group: AlertGroup) -> Receipt:
    policy, now = policy_of(deps), deps.clock()
    with deps.db.transaction() as session:
        group_row = rows.lock_group(session, deps.team_id, group, now)
        episode = rows.current_episode(session, group_row, lock=True)
        news = alerts.news(group, rows.known(session, group_row.id, group.alerts))
        started = episode is None or bool(news.fired) and alerts.episode_over(
            State(episode.state), episode.status, rows.incident_status(session, episode.incident_id))
        if started:
            episode = _start(deps, session, group_row, group, policy, previous=episode)
        assert episode is not None
        added = rows.add_alerts(session, group_row.id, episode.id, (*news.fired, *news.resolved), now)
        fired = [alert_id for alert_id, firing in added if firing]
        resolved = rows.mark_resolved(session, group_row.id, news.resolved, now) + [
            alert_id for alert_id, firing in added if not firing]
        group_resolved = group.resolved and episode.resolved_at is None
        _note_notification(episode, group, now)
        if started:
            _decide(deps, session, episode, group, policy)  # last: the team's row stays locked only until commit
            _route(deps, session, group_row.id, episode, policy)
        elif fired or resolved:
            _tell(deps, session, group_row.id, episode, fired, resolved, group_resolved)
        receipt = Receipt(group_row.id, episode.id, episode.state, len(added), len(resolved), started)
    deps.outbox.wake()
    return receipt


def _start(deps: Deps, session: Session, group_row: AlertGroupRow, group: AlertGroup, policy: AlertPolicy,
           previous: AlertEpisodeRow | None) -> AlertEpisodeRow:
    """The group's next episode, routed as if no storm were on (`_decide` checks the storm limit)."""
    severity = alerts.severity_of(group, policy)
    route = alerts.route(group, severity, policy, declared_recently=0)
    earlier = previous.incident_id if previous is not None else None
    if earlier is None and previous is not None:
        earlier = previous.previous_incident_id if previous.state == State.NOWHERE.value else None
    now = deps.clock()
    return rows.start_episode(
        session, group_row, team_id=deps.team_id, route=route.value, state=_STATES[route].value,
        status=group.status, severity=severity.value, title=alerts.incident_title(group),
        description=alerts.incident_description(group), receiver=group.receiver,
        common_labels=json.dumps(dict(group.common_labels), sort_keys=True), decided_at=now,
        auto_declared=False, previous_incident_id=earlier,
        triage_channel=policy.triage_channel if _STATES[route].awaits_triage else None, last_seen_at=now,
        resolved_at=None, notifications=0, truncated_alerts=group.truncated_alerts)


_STATES = {Route.INCIDENT: State.INCIDENT, Route.TRIAGE: State.TRIAGE, Route.DIGEST: State.DIGEST,
           Route.NOWHERE: State.NOWHERE}


def _decide(deps: Deps, session: Session, episode: AlertEpisodeRow, group: AlertGroup, policy: AlertPolicy) -> None:
    """An episode that would be declared: with the team's intake row locked (new episodes of auto-declared
    severities are decided one at a time, across replicas), count what was declared in the window, and declare it
    or put it in the storm digest. Other episodes need no lock."""
    if episode.route != Route.INCIDENT.value:
        return
    rows.lock_team(session, deps.team_id)
    now = deps.clock()
    recent = rows.auto_declared_since(session, deps.team_id, now - policy.max_new_incidents.per)
    route = alerts.route(group, Severity(episode.severity), policy, recent)
    state = _STATES[route]
    episode.route, episode.state, episode.decided_at = route.value, state.value, now
    episode.auto_declared = route is Route.INCIDENT
    episode.triage_channel = policy.triage_channel if state.awaits_triage else None


def _note_notification(episode: AlertEpisodeRow, group: AlertGroup, now: datetime) -> None:
    episode.notifications += 1
    episode.last_seen_at = now
    episode.truncated_alerts = group.truncated_alerts
    if group.resolved:
        episode.status = alerts.RESOLVED
        if episode.resolved_at is None:
            episode.resolved_at = now
    elif group.firing:
        episode.status, episode.resolved_at = alerts.FIRING, None


def _route(deps: Deps, session: Session, group_id: int, episode: AlertEpisodeRow, policy: AlertPolicy) -> None:
    """A new episode's first effect: the incident, the triage post, or its line in the storm digest."""
    lane = group_lane(group_id)
    if episode.state == State.INCIDENT.value:
        deps.outbox.enqueue_in(session, lane, DECLARE, {"episode_id": episode.id})
    elif episode.state == State.TRIAGE.value and episode.triage_channel:
        deps.outbox.enqueue_in(session, lane, TRIAGE, {"episode_id": episode.id})
    elif episode.state == State.DIGEST.value:
        digest, _ = rows.digest_for(session, rows.lock_team(session, deps.team_id), deps.clock(),
                                    policy.max_new_incidents.per)
        episode.digest_id = digest.id
        if episode.triage_channel:
            _queue_digest(deps, session, digest)
        else:
            log.warning("an alert storm goes beyond max_new_incidents, and alerts.triage_channel is not set: "
                        "the surplus is only stored (`firebell alerts` lists it)")


def _tell(deps: Deps, session: Session, group_id: int, episode: AlertEpisodeRow, fired: list[int],
          resolved: list[int], group_resolved: bool) -> None:
    """A later notification with news: the incident's channel is told, or the triage message edited."""
    if episode.state == State.INCIDENT.value:
        deps.outbox.enqueue_in(session, group_lane(group_id), NEWS, {
            "episode_id": episode.id, "fired": fired, "resolved": resolved, "group_resolved": group_resolved})
    else:
        _refresh_triage(deps, session, group_id, episode)


def _refresh_triage(deps: Deps, session: Session, group_id: int, episode: AlertEpisodeRow) -> None:
    if episode.digest_id is not None:
        digest = rows.digest(session, episode.digest_id, lock=True)
        if digest is not None and (digest.channel or episode.triage_channel):
            _queue_digest(deps, session, digest)
    elif episode.triage_channel:
        deps.outbox.enqueue_in(session, group_lane(group_id), TRIAGE, {"episode_id": episode.id})


def _queue_digest(deps: Deps, session: Session, digest: AlertDigestRow) -> None:
    """One post or edit of the digest waits in the outbox at a time: a storm of 200 groups is a handful of edits."""
    if not digest.edit_queued:
        digest.edit_queued = True
        deps.outbox.enqueue_in(session, digest_lane(digest.id), DIGEST, {"digest_id": digest.id})


# The triage buttons


def declare_from_triage(deps: Deps, episode_id: int, user_id: str) -> str:
    """*Declare incident* on a triage message or a digest line: declared once, however often it is clicked."""
    with deps.db.transaction() as session:
        episode = _triaged(session, deps, episode_id)
        episode.state, episode.handled_by, episode.handled_at = State.INCIDENT.value, user_id, deps.clock()
        group_id = episode.group_id
        deps.outbox.enqueue_in(session, group_lane(group_id), DECLARE, {"episode_id": episode.id})
        _refresh_triage(deps, session, group_id, episode)
        title = episode.title
    deps.outbox.wake()
    return f"Declaring an incident for “{title}”…"


def dismiss(deps: Deps, episode_id: int, user_id: str) -> str:
    with deps.db.transaction() as session:
        episode = _triaged(session, deps, episode_id)
        episode.state, episode.handled_by, episode.handled_at = State.DISMISSED.value, user_id, deps.clock()
        _refresh_triage(deps, session, episode.group_id, episode)
        title = episode.title
    deps.outbox.wake()
    return f"Dismissed “{title}”. Its alerts stay stored (`firebell alerts`)."


def _triaged(session: Session, deps: Deps, episode_id: int) -> AlertEpisodeRow:
    episode = rows.episode(session, episode_id, lock=True)
    if episode is None or episode.team_id != deps.team_id:
        raise NotFound("That alert group is not known here any more.")
    if not State(episode.state).awaits_triage:
        who = f" by <@{episode.handled_by}>" if episode.handled_by else ""
        done = "declared as an incident" if episode.state == State.INCIDENT.value else episode.state
        raise AlreadyDone(f"This alert group was already {done}{who}.")
    return episode


# Executors (outbox)


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
        _refresh_triage(deps, session, episode.group_id, episode)
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
        _refresh_triage(deps, session, episode.group_id, episode)
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
            _refresh_triage(deps, session, episode.group_id, episode)
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
        commander = row.commander if row.commander != deps.bot_user_id else None
        text, blocks = render.news_message(row.ref, [_line(a) for a in fired_alerts],
                                           [_line(a) for a in resolved_alerts], group_resolved=group_resolved,
                                           commander=commander)
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
        episode = rows.episode(session, episode_id, lock=True)
        if episode is not None and episode.triage_ts is None:
            episode.triage_ts = ts


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
    ids = [e.id for e in episodes]
    counts = rows.alert_counts(session, ids)
    refs = rows.incident_refs(session, [i for e in episodes for i in (e.incident_id, e.previous_incident_id)])
    groups = rows.groups_of(session, [e.group_id for e in episodes])
    shown = []
    for episode in episodes:
        stored = rows.alerts_of(session, episode_id=episode.id) if len(episodes) == 1 else []
        stored.sort(key=lambda a: (a.status != alerts.FIRING, a.starts_at))
        total, firing = counts.get(episode.id, (0, 0))
        incident = refs.get(episode.incident_id) if episode.incident_id is not None else None
        previous = refs.get(episode.previous_incident_id) if episode.previous_incident_id is not None else None
        shown.append(EpisodeView(
            episode_id=episode.id, source=Source(groups[episode.group_id].source), title=episode.title,
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
