"""Alert groups, their episodes and alerts, storm digests. Every function takes the caller's Session.

Exactly once rests on unique keys: a group per (team, source, SHA-256 of groupKey), an episode per (group,
generation), an alert per (group, fingerprint, startsAt). A notification locks its group's row for the rest of its
transaction, so two copies of it (a retry, HA Alertmanagers, two replicas) are taken one after the other, and the
second finds everything known."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from bot.domain.alerts import FIRING, Alert, AlertGroup, Known, links_of
from storage.dialect import insert_for
from storage.models import (
    AlertDigestRow,
    AlertEpisodeRow,
    AlertGroupRow,
    AlertNotificationRow,
    AlertRow,
    AlertTeamRow,
    IncidentRow,
)

_STATEMENTS: dict[tuple[str, str], Any] = {}
# The tables themselves for the statements that load no objects: an INSERT of the mapped class goes through the ORM's
# bulk machinery, several times the cost of the statement itself.
_GROUPS, _TEAMS, _ALERTS, _EPISODES, _NOTIFICATIONS = (cast(Table, row.__table__) for row in (
    AlertGroupRow, AlertTeamRow, AlertRow, AlertEpisodeRow, AlertNotificationRow))
_SET_TRIAGE_TS = (update(_EPISODES).where(_EPISODES.c.id == bindparam("episode"), _EPISODES.c.triage_ts.is_(None))
                  .values(triage_ts=bindparam("ts")))


def _statement(session: Session, name: str, build: Any) -> Any:
    """An INSERT … ON CONFLICT statement of this dialect, built once: values go as parameters, so SQLAlchemy's
    compiled cache serves every later call (a statement built with ``.values(…)`` each time is compiled anew)."""
    key = (session.get_bind().dialect.name, name)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = build(insert_for(session))
    return _STATEMENTS[key]


def _locked(query: Any) -> Any:
    """FOR UPDATE, reloading the row: what another transaction committed while we waited is what we decide on."""
    return query.with_for_update().execution_options(populate_existing=True)


def store_notifications(session: Session, team_id: str, received: Sequence[tuple[str, str, datetime]]) -> list[int]:
    """The notifications as received, (source, body, received at) each, not yet routed; their ids, in that order."""
    return list(session.execute(_STORE_NOTIFICATIONS, [
        {"team_id": team_id, "source": source, "body": body, "received_at": at} for source, body, at in received])
        .scalars())


def take_notification(session: Session, notification_id: int, now: datetime) -> tuple[str, str, datetime] | None:
    """Mark the notification routed, in the routing's transaction: its (source, body, received_at), or None when it
    was routed already (or is not known). Two transactions taking the same one: the second waits for the first's row
    lock, then finds it routed (on SQLite, writers take turns)."""
    row = session.execute(_TAKE_NOTIFICATION, {"notification": notification_id, "now": now}).first()
    return (row.source, row.body, row.received_at) if row is not None else None


def unrouted_notifications(session: Session, team_id: str | None = None) -> list[int]:
    """The ids of the notifications stored and not routed yet, oldest first."""
    query = select(_NOTIFICATIONS.c.id).where(_NOTIFICATIONS.c.routed_at.is_(None)).order_by(_NOTIFICATIONS.c.id)
    if team_id is not None:
        query = query.where(_NOTIFICATIONS.c.team_id == team_id)
    return list(session.execute(query).scalars())


# Built once, on the table: the door runs the INSERT for every group of notifications stored together, with nothing
# else in its transaction but their outbox items.
_STORE_NOTIFICATIONS = insert(_NOTIFICATIONS).returning(_NOTIFICATIONS.c.id, sort_by_parameter_order=True)
_TAKE_NOTIFICATION = (update(_NOTIFICATIONS)
                      .where(_NOTIFICATIONS.c.id == bindparam("notification"), _NOTIFICATIONS.c.routed_at.is_(None))
                      .values(routed_at=bindparam("now"))
                      .returning(_NOTIFICATIONS.c.source, _NOTIFICATIONS.c.body, _NOTIFICATIONS.c.received_at))


def lock_group(session: Session, team_id: str, group: AlertGroup, now: datetime) -> AlertGroupRow:
    """The group's row, created on its first notification, locked until the transaction ends."""
    statement = _statement(session, "group", lambda insert: insert(_GROUPS).on_conflict_do_nothing())
    session.execute(statement, {"team_id": team_id, "source": group.source.value, "key_hash": group.key_hash,
                                "group_key": group.group_key, "generation": 0, "first_seen_at": now})
    return session.execute(_LOCK_GROUP, {"team": team_id, "source": group.source.value,
                                         "key": group.key_hash}).scalar_one()


def lock_team(session: Session, team_id: str) -> AlertTeamRow:
    """The team's intake row, locked: new episodes are routed one at a time (the storm limit holds across replicas)."""
    statement = _statement(session, "team", lambda insert: insert(_TEAMS).on_conflict_do_nothing())
    session.execute(statement, {"team_id": team_id})
    return session.execute(_LOCK_TEAM, {"team": team_id}).scalar_one()


def current_episode(session: Session, group: AlertGroupRow, *, lock: bool = False) -> AlertEpisodeRow | None:
    if group.generation == 0:
        return None
    return session.execute(_LOCK_EPISODE if lock else _EPISODE, {"group": group.id, "generation": group.generation}
                           ).scalar_one()


# Built once: every notification runs them (building a statement cost about as much as running it).
_LOCK_GROUP = _locked(select(AlertGroupRow).where(
    AlertGroupRow.team_id == bindparam("team"), AlertGroupRow.source == bindparam("source"),
    AlertGroupRow.key_hash == bindparam("key")))
_LOCK_TEAM = _locked(select(AlertTeamRow).where(AlertTeamRow.team_id == bindparam("team")))
_EPISODE = select(AlertEpisodeRow).where(AlertEpisodeRow.group_id == bindparam("group"),
                                         AlertEpisodeRow.generation == bindparam("generation"))
_LOCK_EPISODE = _locked(_EPISODE)
_KNOWN = select(_ALERTS.c.fingerprint, _ALERTS.c.starts_at, _ALERTS.c.resolved_seen_at).where(
    _ALERTS.c.group_id == bindparam("group"), _ALERTS.c.fingerprint.in_(bindparam("fingerprints", expanding=True)))


def set_triage_ts(session: Session, episode_id: int, ts: str) -> None:
    """The episode's triage message, once: a post that raced another keeps the first one's."""
    session.execute(_SET_TRIAGE_TS, {"episode": episode_id, "ts": ts})


def episode(session: Session, episode_id: int, *, lock: bool = False) -> AlertEpisodeRow | None:
    query = select(AlertEpisodeRow).where(AlertEpisodeRow.id == episode_id)
    return session.execute(_locked(query) if lock else query).scalar_one_or_none()


def incident_status(session: Session, incident_id: int | None) -> str | None:
    if incident_id is None:
        return None
    return session.execute(select(IncidentRow.status).where(IncidentRow.id == incident_id)).scalar_one_or_none()


def auto_declared_since(session: Session, team_id: str, since: datetime) -> int:
    """Episodes Firebell declared by itself after ``since`` (what max_new_incidents counts)."""
    return session.execute(select(func.count()).select_from(AlertEpisodeRow).where(
        AlertEpisodeRow.team_id == team_id, AlertEpisodeRow.decided_at > since,
        AlertEpisodeRow.auto_declared.is_(True))).scalar_one()


def start_episode(session: Session, group: AlertGroupRow, **fields: Any) -> AlertEpisodeRow:
    group.generation += 1
    row = AlertEpisodeRow(group_id=group.id, generation=group.generation, **fields)
    session.add(row)
    session.flush()
    return row



def known(session: Session, group_id: int, alerts: Sequence[Alert]) -> Known:
    """Which of these alerts are stored, and whether each was seen resolved."""
    fingerprints = sorted({a.fingerprint for a in alerts})
    if not fingerprints:
        return Known({})
    rows = session.execute(_KNOWN, {"group": group_id, "fingerprints": fingerprints})
    return Known({(fingerprint, starts_at): resolved is not None for fingerprint, starts_at, resolved in rows})


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def add_alerts(session: Session, group_id: int, episode_id: int, alerts: Iterable[Alert],
               now: datetime) -> list[tuple[int, bool]]:
    """Store alerts not stored before, in one statement; returns (id, firing) of those that went in."""
    values = [{"group_id": group_id, "episode_id": episode_id, "fingerprint": alert.fingerprint,
               "starts_at": alert.starts_at, "ends_at": alert.ends_at, "status": alert.status, "name": alert.name,
               "labels": _json(dict(alert.labels)), "annotations": _json(dict(alert.annotations)),
               "links": _json(dict(links_of(alert))), "received_at": now,
               "resolved_seen_at": None if alert.firing else now} for alert in alerts]
    if not values:
        return []
    statement = _statement(session, "alerts", lambda insert: insert(_ALERTS).on_conflict_do_nothing()
                           .returning(_ALERTS.c.id, _ALERTS.c.status))
    rows = session.execute(statement, values).all()
    return [(alert_id, status == "firing") for alert_id, status in rows]


def mark_resolved(session: Session, group_id: int, alerts: Iterable[Alert], now: datetime) -> list[int]:
    """Alerts stored as firing that a notification says resolved; returns their ids."""
    ids: list[int] = []
    for alert in alerts:
        found = session.execute(_RESOLVE, {"group": group_id, "fp": alert.fingerprint,
                                           "starts": alert.starts_at, "new_status": alert.status,
                                           "ends": alert.ends_at, "seen": now})
        ids.extend(found.scalars())
    return ids


_RESOLVE = (update(_ALERTS).where(
    _ALERTS.c.group_id == bindparam("group"), _ALERTS.c.fingerprint == bindparam("fp"),
    _ALERTS.c.starts_at == bindparam("starts"), _ALERTS.c.resolved_seen_at.is_(None),
).values(status=bindparam("new_status"), ends_at=bindparam("ends"), resolved_seen_at=bindparam("seen"))
    .returning(_ALERTS.c.id))


@dataclass(frozen=True)
class StoredAlert:
    id: int
    name: str
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    links: dict[str, str]


def _stored(row: Any) -> StoredAlert:  # an AlertRow, or a plain row of its columns
    return StoredAlert(row.id, row.name, row.fingerprint, row.starts_at, row.ends_at, row.status,
                       json.loads(row.labels), json.loads(row.annotations), json.loads(row.links))


def alerts_of(session: Session, *, episode_id: int | None = None, ids: Sequence[int] | None = None
              ) -> list[StoredAlert]:
    query = select(AlertRow).order_by(AlertRow.starts_at, AlertRow.id)
    if episode_id is not None:
        query = query.where(AlertRow.episode_id == episode_id)
    if ids is not None:
        query = query.where(AlertRow.id.in_(list(ids)))
    return [_stored(row) for row in session.execute(query).scalars()]


def first_alerts(session: Session, episode_id: int, limit: int) -> list[StoredAlert]:
    """The episode's first ``limit`` alerts, the firing ones first, then by startsAt (what a triage message shows)."""
    return [_stored(row) for row in session.execute(_FIRST_ALERTS, {"episode": episode_id, "limit": limit})]


def episode_counts(session: Session, episode_id: int) -> tuple[int, int]:
    """(alerts stored, of which firing) of one episode."""
    total, firing = session.execute(_EPISODE_COUNTS, {"episode": episode_id}).one()
    return int(total), int(firing or 0)


def group_source(session: Session, group_id: int) -> str:
    return session.execute(_GROUP_SOURCE, {"group": group_id}).scalar_one()


# Built once: a triage post or edit runs them for every new group and every change to it.
_FIRST_ALERTS = (select(_ALERTS.c.id, _ALERTS.c.name, _ALERTS.c.fingerprint, _ALERTS.c.starts_at, _ALERTS.c.ends_at,
                        _ALERTS.c.status, _ALERTS.c.labels, _ALERTS.c.annotations, _ALERTS.c.links)
                 .where(_ALERTS.c.episode_id == bindparam("episode"))
                 .order_by(case((_ALERTS.c.status == FIRING, 0), else_=1), _ALERTS.c.starts_at, _ALERTS.c.id)
                 .limit(bindparam("limit", type_=Integer)))
_EPISODE_COUNTS = select(func.count(), func.sum(case((_ALERTS.c.resolved_seen_at.is_(None), 1), else_=0))).where(
    _ALERTS.c.episode_id == bindparam("episode"))
_GROUP_SOURCE = select(_GROUPS.c.source).where(_GROUPS.c.id == bindparam("group"))


def alert_counts(session: Session, episode_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per episode: (alerts stored, of which firing)."""
    if not episode_ids:
        return {}
    firing = func.sum(case((AlertRow.resolved_seen_at.is_(None), 1), else_=0))
    rows = session.execute(select(AlertRow.episode_id, func.count(), firing).where(
        AlertRow.episode_id.in_(list(episode_ids))).group_by(AlertRow.episode_id))
    return {episode_id: (int(total), int(open_ or 0)) for episode_id, total, open_ in rows}


def digest_for(session: Session, team: AlertTeamRow, now: datetime, window: timedelta) -> tuple[AlertDigestRow, bool]:
    """The storm digest being filled (a new one when the last opened a window ago or more); True when new."""
    if team.digest_id is not None:  # locked: its edit_queued flag is read and set under the lock (see post_digest)
        current = digest(session, team.digest_id, lock=True)
        if current is not None and current.opened_at > now - window:
            return current, False
    opened = AlertDigestRow(team_id=team.team_id, opened_at=now, edit_queued=False)
    session.add(opened)
    session.flush()
    team.digest_id = opened.id
    return opened, True


def digest(session: Session, digest_id: int, *, lock: bool = False) -> AlertDigestRow | None:
    query = select(AlertDigestRow).where(AlertDigestRow.id == digest_id)
    return session.execute(_locked(query) if lock else query).scalar_one_or_none()


def digest_episodes(session: Session, digest_id: int) -> list[AlertEpisodeRow]:
    return list(session.execute(select(AlertEpisodeRow).where(AlertEpisodeRow.digest_id == digest_id)
                                .order_by(AlertEpisodeRow.decided_at, AlertEpisodeRow.id)).scalars())


def incident_refs(session: Session, incident_ids: Iterable[int | None]) -> dict[int, tuple[int, str | None, str]]:
    """Per incident id: (number, channel id, root cause or '')."""
    wanted = sorted({i for i in incident_ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(IncidentRow.id, IncidentRow.number, IncidentRow.channel_id,
                                  IncidentRow.root_cause).where(IncidentRow.id.in_(wanted)))
    return {row.id: (row.number, row.channel_id, row.root_cause or "") for row in rows}


def episodes_since(session: Session, team_id: str | None, since: datetime | None) -> list[AlertEpisodeRow]:
    """`firebell alerts`: the episodes seen since ``since``, newest first."""
    query = select(AlertEpisodeRow).order_by(AlertEpisodeRow.last_seen_at.desc(), AlertEpisodeRow.id.desc())
    if team_id is not None:
        query = query.where(AlertEpisodeRow.team_id == team_id)
    if since is not None:
        query = query.where(AlertEpisodeRow.last_seen_at >= since)
    return list(session.execute(query).scalars())


def groups_of(session: Session, group_ids: Iterable[int]) -> dict[int, AlertGroupRow]:
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    return {row.id: row for row in session.execute(select(AlertGroupRow).where(AlertGroupRow.id.in_(wanted)))
            .scalars()}
