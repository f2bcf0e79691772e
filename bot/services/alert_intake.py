"""Alerts in: a notification from Alertmanager or Grafana stored at the door as it came (with its outbox item, in one
short transaction: the 200 says it is stored), and routed a moment later from the outbox, in its team's lane (so a
team's notifications are routed one at a time, in arrival order): the groups, episodes and alerts stored, and what
they imply (an incident declared, a triage post, a storm digest line, news in the incident's channel) queued in the
routing's transaction, in the group's own outbox lane. The routing marks the notification routed in that same
transaction, so a stop before it loses nothing and a second delivery of its item routes nothing twice.

An alert group's episode starts with its first firing alert and lasts until it resolves (for an incident: until the
incident is resolved, by a person; Firebell never closes one by itself). Its route is decided once, at its start,
for an auto-declared severity with the team's intake row locked, so the storm limit holds across replicas
(bot.domain.alerts decides). The work after the commit is bot.services.alert_delivery's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import alerts
from bot.domain.alerts import AlertGroup, AlertPolicy, Known, Route, Source, State
from bot.domain.errors import AlreadyDone, NotFound
from bot.domain.incident import Severity
from bot.services.effects import Attempt, Executors, NotYet
from bot.web.alert_payloads import notification
from storage import alerts as rows
from storage import outbox as outbox_rows
from storage import wakeups
from storage.models import AlertDigestRow, AlertEpisodeRow, AlertGroupRow, AlertTeamRow
from storage.outbox import now as outbox_now

log = logging.getLogger(__name__)

ROUTE = "alert_route"  # outbox kind: route a stored notification, in its team's lane
DECLARE = "alert_declare"  # outbox kinds, each carried out in the group's lane (or the digest's)
NEWS = "alert_news"
TRIAGE = "alert_triage"
DIGEST = "alert_digest"
ROUTING_DEFERRED = timedelta(seconds=2)  # at most: the routing gives way to the doors while notifications come in
MAX_TIMELINE_ALERTS = 50  # alerts put on an incident's timeline per notification; all are stored


def team_lane(team_id: str) -> str:
    return f"alerts:team:{team_id}"


def group_lane(group_id: int) -> str:
    return f"alerts:{group_id}"


def digest_lane(digest_id: int) -> str:
    return f"alerts:digest:{digest_id}"


@dataclass(frozen=True)
class Receipt:
    """What a notification did once routed."""

    group_id: int
    episode_id: int
    state: str
    new_alerts: int
    resolved_alerts: int
    started: bool  # it began an episode


def policy_of(deps: Deps) -> AlertPolicy:
    return deps.config.alerts.policy()


def register(executors: Executors) -> None:
    executors.register(ROUTE, route_notification, describe="route an alert notification")


def accept(deps: Deps, source: Source, body: bytes) -> dict[str, object]:
    """The door's part: the notification stored as it came, and its routing queued in the team's lane, in one short
    transaction with the notifications that came at the same moment (raises when the database is away: none of them
    is stored); the answer's body, once it is committed."""
    text = body.decode(json.detect_encoding(body))
    notification_id = deps.alert_writes((source.value, text, deps.clock()), lambda group: _store(deps, group))
    return {"status": "stored", "notification": notification_id}


def _store(deps: Deps, received: list[tuple[str, str, datetime]]) -> list[int]:
    with deps.db.transaction() as session:
        ids = rows.store_notifications(session, deps.team_id, received)
        # while a routing of this team is put off (it comes back by itself), waking the delivery for one queued
        # behind it would only claim it to put it off again: work beside the requests adds to their answer time
        deps.outbox.enqueue_all_in(session, team_lane(deps.team_id), ROUTE, [{"notification_id": i} for i in ids],
                                   wake=not deps.alert_doors.waiting)
    return ids


def route_notification(deps: Deps, *, attempt: Attempt, notification_id: int) -> None:
    """Outbox executor: route a stored notification, in a transaction that first marks it routed;
    one routed already (its item delivered again after a stop) is left alone. While notifications come in, it is put
    back until the doors are quiet (`resume_routing`; ROUTING_DEFERRED after it was queued at the latest), other
    lanes going on meanwhile: one interpreter's threads take turns, and routing done beside the requests would be
    added to their answer time."""
    left = (attempt.created_at + ROUTING_DEFERRED - outbox_now()).total_seconds()
    if (wait := deps.alert_doors.put_off(left)) > 0:
        raise NotYet("alert doors busy", wait)
    with deps.db.transaction() as session:
        taken = rows.take_notification(session, notification_id, deps.clock())
        if taken is None:
            return
        source, body, received_at = taken
        receipt = _receive_in(deps, session, notification(Source(source), json.loads(body)), received_at)
    log.debug("alert notification %s routed: group %s, episode %s (%s), %s new and %s resolved alerts",
              notification_id, receipt.group_id, receipt.episode_id, receipt.state, receipt.new_alerts,
              receipt.resolved_alerts)


def resume_routing(deps: Deps) -> None:
    """The doors are quiet: the team's routing put off for them is due now (and the delivery woken by the commit)."""
    with deps.db.transaction() as session:
        if outbox_rows.bring_forward(session, team_lane(deps.team_id), ROUTE, outbox_now()):
            wakeups.outbox_written(session)


def _receive_in(deps: Deps, session: Session, group: AlertGroup, now: datetime) -> Receipt:
    """Store the notification's groups, episode and alerts, and queue what they imply, in ``session``; ``now`` is
    when it was received (its routing may come later: the storm limit counts arrivals)."""
    policy = policy_of(deps)
    group_row = rows.lock_group(session, deps.team_id, group, now)
    episode = rows.current_episode(session, group_row, lock=True)
    # a group that never had an episode has no alerts stored: nothing to look up
    known = rows.known(session, group_row.id, group.alerts) if group_row.generation else Known({})
    news = alerts.news(group, known)
    started = episode is None or bool(news.fired) and alerts.episode_over(
        State(episode.state), episode.status, rows.incident_status(session, episode.incident_id))
    if started:
        episode = _start(deps, session, group_row, group, policy, now, previous=episode)
    assert episode is not None
    added = rows.add_alerts(session, group_row.id, episode.id, (*news.fired, *news.resolved), now)
    fired = [alert_id for alert_id, firing in added if firing]
    resolved = rows.mark_resolved(session, group_row.id, news.resolved, now) + [
        alert_id for alert_id, firing in added if not firing]
    group_resolved = group.resolved and episode.resolved_at is None
    if not started:  # a new episode went in with its first notification's figures
        _note_notification(episode, group, now)
    if started:
        team = _decide(deps, session, episode, group, policy, now)  # last: the team's row stays locked until commit
        _route(deps, session, group_row.id, episode, policy, team, now)
    elif fired or resolved:
        _tell(deps, session, group_row.id, episode, fired, resolved, group_resolved)
    return Receipt(group_row.id, episode.id, episode.state, len(added), len(resolved), started)


def _start(deps: Deps, session: Session, group_row: AlertGroupRow, group: AlertGroup, policy: AlertPolicy,
           now: datetime, previous: AlertEpisodeRow | None) -> AlertEpisodeRow:
    """The group's next episode, routed as if no storm were on (`_decide` checks the storm limit), stored as its
    first notification leaves it (what `_note_notification` does to a later one), so no UPDATE follows the INSERT."""
    severity = alerts.severity_of(group, policy)
    route = alerts.route(group, severity, policy, declared_recently=0)
    earlier = previous.incident_id if previous is not None else None
    if earlier is None and previous is not None:
        earlier = previous.previous_incident_id if previous.state == State.NOWHERE.value else None
    status = alerts.RESOLVED if group.resolved else alerts.FIRING if group.firing else group.status
    return rows.start_episode(
        session, group_row, team_id=deps.team_id, route=route.value, state=_STATES[route].value,
        status=status, severity=severity.value, title=alerts.incident_title(group),
        description=alerts.incident_description(group), receiver=group.receiver,
        common_labels=json.dumps(dict(group.common_labels), sort_keys=True), decided_at=now,
        auto_declared=False, previous_incident_id=earlier,
        triage_channel=policy.triage_channel if _STATES[route].awaits_triage else None, last_seen_at=now,
        resolved_at=now if group.resolved else None, notifications=1, truncated_alerts=group.truncated_alerts)


_STATES = {Route.INCIDENT: State.INCIDENT, Route.TRIAGE: State.TRIAGE, Route.DIGEST: State.DIGEST,
           Route.NOWHERE: State.NOWHERE}


def _decide(deps: Deps, session: Session, episode: AlertEpisodeRow, group: AlertGroup,
            policy: AlertPolicy, now: datetime) -> AlertTeamRow | None:
    """An episode that would be declared: with the team's intake row locked (new episodes of auto-declared
    severities are decided one at a time, across replicas), count what was declared in the window, and declare it
    or put it in the storm digest. Other episodes need no lock. Returns the locked row, if it was locked."""
    if episode.route != Route.INCIDENT.value:
        return None
    team = rows.lock_team(session, deps.team_id)
    recent = rows.auto_declared_since(session, deps.team_id, now - policy.max_new_incidents.per)
    route = alerts.route(group, Severity(episode.severity), policy, recent)
    state = _STATES[route]
    episode.route, episode.state, episode.decided_at = route.value, state.value, now
    episode.auto_declared = route is Route.INCIDENT
    episode.triage_channel = policy.triage_channel if state.awaits_triage else None
    return team


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


def _route(deps: Deps, session: Session, group_id: int, episode: AlertEpisodeRow, policy: AlertPolicy,
           team: AlertTeamRow | None, now: datetime) -> None:
    """A new episode's first effect: the incident, the triage post, or its line in the storm digest (only `_decide`
    puts an episode there, with the team's row locked: ``team``)."""
    lane = group_lane(group_id)
    if episode.state == State.INCIDENT.value:
        deps.outbox.enqueue_in(session, lane, DECLARE, {"episode_id": episode.id})
    elif episode.state == State.TRIAGE.value and episode.triage_channel:
        deps.outbox.enqueue_in(session, lane, TRIAGE, {"episode_id": episode.id})
    elif episode.state == State.DIGEST.value:
        digest, _ = rows.digest_for(session, team or rows.lock_team(session, deps.team_id), now,
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
        refresh_triage(deps, session, group_id, episode)


def refresh_triage(deps: Deps, session: Session, group_id: int, episode: AlertEpisodeRow) -> None:
    """Queue the edit of the episode's triage message (or storm digest) to what it is now."""
    if episode.digest_id is not None:
        digest = rows.digest(session, episode.digest_id, lock=True)
        if digest is not None and (digest.channel or episode.triage_channel):
            _queue_digest(deps, session, digest)
    elif episode.triage_channel:
        deps.outbox.enqueue_in(session, group_lane(group_id), TRIAGE, {"episode_id": episode.id})


def _queue_digest(deps: Deps, session: Session, digest: AlertDigestRow) -> None:
    """One post or edit of the digest waits in the outbox at a time, and shows every group that joined before it ran:
    when groups arrive faster than Slack takes edits, they share them."""
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
        refresh_triage(deps, session, group_id, episode)
        title = episode.title
    deps.outbox.wake()
    return f"Declaring an incident for “{title}”…"


def dismiss(deps: Deps, episode_id: int, user_id: str) -> str:
    with deps.db.transaction() as session:
        episode = _triaged(session, deps, episode_id)
        episode.state, episode.handled_by, episode.handled_at = State.DISMISSED.value, user_id, deps.clock()
        refresh_triage(deps, session, episode.group_id, episode)
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
