"""Data access. Every function takes the caller's Session; the use case owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, inspect, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.followups import FollowUp, FollowUpLine
from bot.domain.incident import Incident, PageView, Severity, SeverityChange, Status, TimelineEntry
from bot.domain.sla import ClockRun
from storage import fresh, schedule
from storage.dialect import insert_for
from storage.models import (
    Base,
    FollowUpRow,
    IncidentCounter,
    IncidentRow,
    PageNoticeRow,
    PageRow,
    RequestClaim,
    SeverityChangeRow,
    SlaClockRow,
    TimelineEventRow,
)

FULL = (selectinload(IncidentRow.timeline), selectinload(IncidentRow.follow_ups),
        selectinload(IncidentRow.pages).selectinload(PageRow.notices), selectinload(IncidentRow.clock_runs),
        selectinload(IncidentRow.severity_changes))


def _insert_ignoring_conflicts(session: Session, model: type[Base], values: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns how many rows went in (0 or 1)."""
    insert = insert_for(session)
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(*inspect(model).primary_key)
    return len(session.execute(statement).all())


_TAKE_NUMBER: dict[str, Any] = {}  # dialect name -> the upsert below


def _take_number(session: Session) -> Any:
    """The upsert that takes a team's next number, for the session's database (built once for each)."""
    dialect = session.get_bind().dialect.name
    if (statement := _TAKE_NUMBER.get(dialect)) is None:
        counters = cast(Table, IncidentCounter.__table__)
        statement = insert_for(session)(counters).values(team_id=bindparam("team_id"), last_number=1)
        statement = statement.on_conflict_do_update(
            index_elements=[counters.c.team_id], set_={"last_number": counters.c.last_number + 1},
        ).returning(counters.c.last_number)
        _TAKE_NUMBER[dialect] = statement
    return statement


def take_incident_number(session: Session, team_id: str) -> int:
    """The team's next number, in one statement (an upsert). The counter row it updates stays locked until the
    transaction ends, so two declares never get the same number, and a rolled-back declare leaves no gap."""
    return session.execute(_take_number(session), {"team_id": team_id}).scalar_one()


def next_incident_number(session: Session, team_id: str) -> int:
    """The number the team's next incident would get (without taking it)."""
    last = session.execute(select(IncidentCounter.last_number).where(IncidentCounter.team_id == team_id)).scalar()
    return (last or 0) + 1


def claim_request(session: Session, key: str, now: datetime) -> bool:
    """True the first time ``key`` is claimed, False ever after (duplicates, double submits)."""
    return _insert_ignoring_conflicts(session, RequestClaim, {"key": key, "claimed_at": now}) == 1


def add_incident(session: Session, **fields: Any) -> IncidentRow:
    """A new incident row. It has no timeline, follow-ups, pages or clock runs yet: those collections start empty
    in memory rather than being read back (add_timeline_event, add_follow_ups and schedule.add_page keep them true)."""
    row = IncidentRow(**fields)
    session.add(row)
    session.flush()
    for collection in ("timeline", "follow_ups", "pages", "clock_runs", "severity_changes"):
        set_committed_value(row, collection, [])
    fresh.mark_new(session, row.id)
    return row


def add_severity_change(session: Session, incident: IncidentRow, *, at: datetime, by: str, from_severity: str,
                        to_severity: str) -> None:
    session.add(SeverityChangeRow(incident_id=incident.id, at=at, changed_by=by, from_severity=from_severity,
                                  to_severity=to_severity))
    session.flush()
    session.expire(incident, ["severity_changes"])


def add_timeline_event(
    session: Session, incident: IncidentRow, *, at: datetime, kind: str, actor: str | None,
    text: str, permalink: str | None = None,
) -> TimelineEventRow:
    event = TimelineEventRow(incident_id=incident.id, at=at, kind=kind, actor=actor, text=text, permalink=permalink)
    session.add(event)
    session.flush()
    if "timeline" in incident.__dict__ and fresh.is_new(session, incident.id):
        # an incident added in this transaction: its timeline is in memory (see add_incident); keep it whole
        set_committed_value(incident, "timeline", sorted([*incident.timeline, event], key=lambda e: (e.at, e.id)))
    return event


def incident_row(session: Session, incident_id: int, *, lock: bool = False) -> IncidentRow:
    """With ``lock``, waits for the row lock and reloads the row: what another transaction committed while
    we waited must be what we decide on (the identity map would otherwise hand back the stale copy)."""
    query = select(IncidentRow).where(IncidentRow.id == incident_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one()


# The card's reads and its ts, on the tables themselves and built once: they run after nearly every change, and
# building a statement cost about as much as running it.
_INCIDENTS, _PAGES, _NOTICES, _CLOCKS = (cast(Table, model.__table__)
                                         for model in (IncidentRow, PageRow, PageNoticeRow, SlaClockRow))
_SET_CARD_TS = update(_INCIDENTS).where(_INCIDENTS.c.id == bindparam("incident_id")).values(card_ts=bindparam("ts"))
_INCIDENT = select(_INCIDENTS).where(_INCIDENTS.c.id == bindparam("incident_id"))
_PAGES_OF = (select(_PAGES).where(_PAGES.c.incident_id == bindparam("incident_id"))
             .order_by(_PAGES.c.paged_at, _PAGES.c.id))
_NOTIFIED = (select(_NOTICES.c.page_id, _NOTICES.c.user_id)
             .where(_NOTICES.c.page_id.in_(bindparam("page_ids", expanding=True))).order_by(_NOTICES.c.id))
_CLOCKS_OF = (select(_CLOCKS).where(_CLOCKS.c.incident_id == bindparam("incident_id"))
              .order_by(_CLOCKS.c.started_at, _CLOCKS.c.id))


def set_card_ts(session: Session, incident_id: int, ts: str) -> None:
    """(A plain statement: an `IncidentRow` loaded in ``session`` keeps its old value.)"""
    session.execute(_SET_CARD_TS, {"incident_id": incident_id, "ts": ts})


def card_view(session: Session, incident_id: int) -> Incident:
    """What the card shows (pages, clocks), without the timeline: plain rows, no objects (the card is drawn after
    nearly every change, so it is one of the most frequent reads); the page notices are read only when there are
    pages."""
    row = session.execute(_INCIDENT, {"incident_id": incident_id}).one()
    page_rows = session.execute(_PAGES_OF, {"incident_id": incident_id}).all()
    notified: dict[int, list[str]] = {p.id: [] for p in page_rows}
    if page_rows:
        for page_id, user_id in session.execute(_NOTIFIED, {"page_ids": list(notified)}):
            notified[page_id].append(user_id)
    clock_rows = session.execute(_CLOCKS_OF, {"incident_id": incident_id}).all()
    return _incident(row, pages=tuple(_page_view(p, notified[p.id]) for p in page_rows),
                     clocks=tuple(schedule.clock_run(r) for r in clock_rows))


def incident_alone(session: Session, incident_id: int) -> Incident | None:
    """The incident's own fields (no timeline, pages or clocks), from one plain row; None when there is none."""
    row = session.execute(_INCIDENT, {"incident_id": incident_id}).one_or_none()
    return None if row is None else _incident(row, pages=(), clocks=())


def find_by_id(session: Session, incident_id: int) -> IncidentRow | None:
    return session.get(IncidentRow, incident_id)


def add_follow_ups(session: Session, incident: IncidentRow, items: Sequence[FollowUpLine], *, by: str,
                   at: datetime) -> list[FollowUpRow]:
    rows = [FollowUpRow(incident_id=incident.id, text=item.text, owner=item.owner, owner_name=item.owner_name,
                        due_on=item.due, created_by=by, created_at=at) for item in items]
    session.add_all(rows)
    session.flush()
    session.expire(incident, ["follow_ups"])
    return rows


def follow_up(row: FollowUpRow, incident: IncidentRow) -> FollowUp:
    return FollowUp(id=row.id, incident_number=incident.number, text=row.text, created_by=row.created_by,
                    owner=row.owner, owner_name=row.owner_name, due=row.due_on, done_at=row.done_at,
                    done_by=row.done_by, channel_id=incident.channel_id)


def find_by_declare_key(session: Session, key: str) -> IncidentRow | None:
    return session.execute(select(IncidentRow).where(IncidentRow.declare_key == key)).scalar_one_or_none()


def find_by_channel(session: Session, channel_id: str) -> IncidentRow | None:
    return session.execute(select(IncidentRow).where(IncidentRow.channel_id == channel_id)).scalar_one_or_none()


def find_by_number(session: Session, team_id: str, number: int) -> IncidentRow | None:
    return session.execute(
        select(IncidentRow).where(IncidentRow.team_id == team_id, IncidentRow.number == number)
    ).scalar_one_or_none()


def find_incidents_by_number(session: Session, number: int, team_id: str | None = None) -> list[Incident]:
    query = select(IncidentRow).where(IncidentRow.number == number).options(*FULL)
    if team_id is not None:
        query = query.where(IncidentRow.team_id == team_id)
    return [to_domain(row) for row in session.execute(query).scalars()]


def open_incidents(session: Session, team_id: str, limit: int = 50) -> list[Incident]:
    rows = session.execute(
        select(IncidentRow)
        .where(IncidentRow.team_id == team_id, IncidentRow.status != Status.RESOLVED.value)  # ix_incidents_open
        .options(selectinload(IncidentRow.clock_runs), selectinload(IncidentRow.pages).selectinload(PageRow.notices))
        .order_by(IncidentRow.number.desc())
        .limit(limit)
    ).scalars()
    return [to_domain(row, with_timeline=False) for row in rows]


def open_counts(session: Session) -> dict[str, int]:
    """How many incidents are open, per severity, in every team this database serves."""
    rows = session.execute(select(IncidentRow.severity, func.count()).where(
        IncidentRow.status != Status.RESOLVED.value).group_by(IncidentRow.severity))
    return {severity: count for severity, count in rows}


def incidents_since(session: Session, since: datetime | None) -> list[Incident]:
    query = select(IncidentRow).options(*FULL).order_by(
        IncidentRow.team_id, IncidentRow.number
    )
    if since is not None:
        query = query.where(IncidentRow.declared_at >= since)
    return [to_domain(row) for row in session.execute(query).scalars()]


def to_domain(row: IncidentRow, *, with_timeline: bool = True) -> Incident:
    pages = tuple(_page_view(p, [n.user_id for n in p.notices]) for p in row.pages)
    clocks = tuple(schedule.clock_run(r) for r in row.clock_runs)
    if not with_timeline:
        return _incident(row, pages=pages, clocks=clocks)
    return _incident(
        row, pages=pages, clocks=clocks,
        timeline=tuple(TimelineEntry(at=e.at, kind=e.kind, actor=e.actor, text=e.text, permalink=e.permalink)
                       for e in row.timeline),
        follow_ups=tuple(follow_up(f, row) for f in row.follow_ups),
        severity_history=tuple(
            SeverityChange(at=c.at, by=c.changed_by, from_severity=Severity(c.from_severity),
                           to_severity=Severity(c.to_severity))
            for c in row.severity_changes),
    )


def _incident(row: Any, *, pages: tuple[PageView, ...], clocks: tuple[ClockRun, ...],
              timeline: tuple[TimelineEntry, ...] = (), follow_ups: tuple[FollowUp, ...] = (),
              severity_history: tuple[SeverityChange, ...] = ()) -> Incident:
    """The incident from its row (an `IncidentRow` or a plain row of its table) and the parts read beside it."""
    return Incident(
        id=row.id,
        team_id=row.team_id,
        number=row.number,
        title=row.title,
        description=row.description,
        severity=Severity(row.severity),
        status=Status(row.status),
        declared_by=row.declared_by,
        commander=row.commander,
        comms=row.comms,
        scribe=row.scribe,
        declared_at=row.declared_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        card_ts=row.card_ts,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        root_cause_category=row.root_cause_category,
        root_cause=row.root_cause,
        resolution=row.resolution,
        detected_at=row.detected_at,
        timeline=timeline,
        follow_ups=follow_ups,
        lessons_learned=row.lessons_learned,
        pages=pages,
        clocks=clocks,
        severity_history=severity_history,
        private=row.private,
    )


def _page_view(p: Any, notified: Sequence[str]) -> PageView:
    """A page from its row (an object or a plain row) and who was notified."""
    return PageView(id=p.id, tier=p.tier, reason=p.reason, paged_at=p.paged_at, paged_by=p.paged_by, status=p.status,
                    acknowledged_at=p.acknowledged_at, acknowledged_by=p.acknowledged_by,
                    escalated_at=p.escalated_at, renotified_at=p.renotified_at, notified=tuple(notified),
                    oncall_user=p.oncall_user, oncall_source=p.oncall_source)
