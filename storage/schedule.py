"""Deadlines, SLA clock runs, pauses and pages: the rows behind scheduled work. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Row, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.sla import ClockRun, Facts, Notice, SlaClock
from storage import fresh, outbox, wakeups
from storage.models import DeadlineRow, IncidentRow, PageNoticeRow, PageRow, SlaClockRow, SlaPauseRow

SLA_NOTICE = "sla"  # the kinds of deadline rows written here
ESCALATION = "page"


def recorded_clock_runs(session: Session, incident: IncidentRow) -> list[ClockRun]:
    """The incident's clock runs as recorded (none for an incident added in this transaction: known without a read)."""
    if fresh.is_new(session, incident.id):
        return []
    rows = session.execute(select(SlaClockRow).where(SlaClockRow.incident_id == incident.id)
                           .order_by(SlaClockRow.started_at, SlaClockRow.id)).scalars()
    return [clock_run(row) for row in rows]


def clock_run(row: SlaClockRow | Row[Any]) -> ClockRun:
    """A clock run from its row (an object, or a plain row of its table)."""
    recorded = (row.outcome, timedelta(seconds=row.by_seconds or 0)) if row.outcome else None
    return ClockRun(clock=SlaClock(row.clock), started_at=row.started_at, target=timedelta(seconds=row.target_seconds),
                    due_at=row.due_at, stopped_at=row.stopped_at, recorded=recorded)


def record_clock_runs(session: Session, incident: IncidentRow, clock_runs: Sequence[ClockRun]) -> None:
    """Keep one row per clock run (the SLA record of the incident): its target, due time, when it stopped and how
    it ended. Rows are matched by (clock, start); only rows whose record changed are written. The incident's
    ``clock_runs`` then holds what was recorded."""
    if fresh.is_new(session, incident.id):  # a new incident: its rows are all new, and known without a read
        rows = [_clock_row(incident.id, run) for run in clock_runs]
        session.add_all(rows)
        session.flush()
        set_committed_value(incident, "clock_runs", sorted(rows, key=lambda r: (r.started_at, r.id)))
        return
    existing = {(row.clock, row.started_at): row for row in session.execute(
        select(SlaClockRow).where(SlaClockRow.incident_id == incident.id)).scalars()}
    for run in clock_runs:
        row = existing.get((run.clock.value, run.started_at))
        if row is None:
            session.add(_clock_row(incident.id, run))
        else:
            for name, value in _clock_fields(run).items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    session.flush()
    session.expire(incident, ["clock_runs"])  # read back what was just recorded


def _clock_fields(run: ClockRun) -> dict[str, object]:
    verdict = run.verdict()
    return {"target_seconds": int(run.target.total_seconds()), "due_at": run.due_at, "stopped_at": run.stopped_at,
            "outcome": verdict[0] if verdict else None,
            "by_seconds": int(verdict[1].total_seconds()) if verdict else None}


def _clock_row(incident_id: int, run: ClockRun) -> SlaClockRow:
    return SlaClockRow(incident_id=incident_id, clock=run.clock.value, started_at=run.started_at, **_clock_fields(run))


def clock_rows(session: Session, incident_ids: Sequence[int]) -> list[SlaClockRow]:
    return list(session.execute(select(SlaClockRow).where(SlaClockRow.incident_id.in_(incident_ids))
                                .order_by(SlaClockRow.incident_id, SlaClockRow.started_at, SlaClockRow.id)).scalars())


def plan_sla_notices(session: Session, incident: IncidentRow, planned: Sequence[Notice], now: datetime) -> None:
    """Make the incident's pending SLA notices exactly ``planned``: add new ones, move changed due times,
    cancel those no longer wanted. A notice already sent is never touched, so it is never sent again."""
    rows = {row.key: row for row in session.execute(
        select(DeadlineRow).where(DeadlineRow.incident_id == incident.id, DeadlineRow.kind == SLA_NOTICE)).scalars()
    } if not fresh.is_new(session, incident.id) else {}
    wanted = {notice.key: notice for notice in planned}
    for key, row in rows.items():
        if row.sent_at is not None:
            continue
        notice = wanted.get(key)
        if notice is None:
            if row.cancelled_at is None:
                row.cancelled_at = now
            continue
        if row.cancelled_at is not None or row.due_at != notice.due_at:
            row.cancelled_at, row.due_at, row.claimed_at, row.claimed_by = None, notice.due_at, None, None
            wakeups.deadline_written(session, notice.due_at)
    new = [{"incident_id": incident.id, "key": key, "kind": SLA_NOTICE, "clock": notice.clock.value,
            "fraction": notice.fraction, "due_at": notice.due_at, "attempts": 0}
           for key, notice in wanted.items() if key not in rows]
    session.flush()
    if new:  # one INSERT of plain rows: nothing in the transaction reads these objects back
        session.execute(_ADD_DEADLINES, new)
        wakeups.deadline_written(session, min(n.due_at for key, n in wanted.items() if key not in rows))
    fresh.sla_rows_written(session, incident.id)


def schedule_escalation(session: Session, page: PageRow, due: datetime) -> None:
    session.add(DeadlineRow(incident_id=page.incident_id, key=f"page:{page.id}", kind=ESCALATION, page_id=page.id,
                            due_at=due, attempts=0))
    session.flush()
    wakeups.deadline_written(session, due)


def cancel_escalations(session: Session, page_ids: Sequence[int], now: datetime) -> None:
    if page_ids:
        session.execute(update(DeadlineRow).where(
            DeadlineRow.page_id.in_(page_ids), DeadlineRow.sent_at.is_(None), DeadlineRow.cancelled_at.is_(None)
        ).values(cancelled_at=now))


# On the table, built once: the ORM's bulk insert path cost more than the statement (a declare adds its notices here).
_ADD_DEADLINES = insert(cast(Table, DeadlineRow.__table__))
_FREE = or_(DeadlineRow.claimed_at.is_(None), DeadlineRow.claimed_at < bindparam("stale"))  # unclaimed, or stale
_PENDING = (DeadlineRow.sent_at.is_(None), DeadlineRow.cancelled_at.is_(None))  # ix_deadlines_pending_due
# Built once: the scheduler runs these for every deadline, and building them cost more than running them.
_NEXT_DUE = select(DeadlineRow.due_at).where(*_PENDING, _FREE).order_by(DeadlineRow.due_at).limit(1)
_CLAIM = (update(DeadlineRow)
          .where(DeadlineRow.id.in_(
              select(DeadlineRow.id).where(*_PENDING, DeadlineRow.due_at <= bindparam("now"), _FREE)
              .order_by(DeadlineRow.due_at, DeadlineRow.id).limit(bindparam("limit", type_=Integer))
              .with_for_update(skip_locked=True)))
          .values(claimed_at=bindparam("now"), claimed_by=bindparam("owner"), attempts=DeadlineRow.attempts + 1)
          .returning(DeadlineRow.id, DeadlineRow.kind, DeadlineRow.page_id, DeadlineRow.due_at)
          .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Due:
    id: int
    kind: str
    page_id: int | None
    due_at: datetime


def claim_due(session: Session, now: datetime, owner: str, *, lease: timedelta, limit: int) -> list[Due]:
    """Claim up to ``limit`` due deadlines for ``owner``, earliest first. Rows another replica holds are skipped
    (SKIP LOCKED on PostgreSQL; SQLite's write lock serialises the claim), and a claim older than ``lease`` counts as
    abandoned. One statement (UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING)."""
    rows = session.execute(_CLAIM, {"now": now, "stale": now - lease, "owner": owner, "limit": limit})
    return sorted((Due(*row) for row in rows), key=lambda d: (d.due_at, d.id))


def next_due(session: Session, now: datetime, *, lease: timedelta) -> datetime | None:
    """When the earliest deadline nobody holds is due (None: none pending). One indexed read: the scheduler's
    whole cost while nothing is due."""
    return session.execute(_NEXT_DUE, {"stale": now - lease}).scalar_one_or_none()


def next_work(session: Session, now: datetime, *, lease: timedelta, outbox_now: datetime, outbox_lease: timedelta
              ) -> tuple[datetime | None, datetime | None]:
    """`next_due`, and in the same query the outbox's next attempt (the outbox keeps real time, ``outbox_now``): an
    idle process's safety poll is one read."""
    row = session.execute(select(_NEXT_DUE.scalar_subquery(), outbox.next_attempt_query().scalar_subquery()),
                          {"stale": now - lease, "outbox_stale": outbox_now - outbox_lease}).one()
    return row[0], row[1]


_COMPLETE = (update(cast(Table, DeadlineRow.__table__))
             .where(DeadlineRow.id == bindparam("deadline_id"), DeadlineRow.claimed_by == bindparam("owner"),
                    DeadlineRow.sent_at.is_(None))
             .values(sent_at=bindparam("now")))


def complete(session: Session, deadline_id: int, owner: str, now: datetime) -> bool:
    """Mark done; False when the claim was lost (its lease ran out and another replica took it). A plain statement,
    built once (every deadline done runs it): no objects of the session are looked at."""
    result = session.connection().execute(_COMPLETE, {"deadline_id": deadline_id, "owner": owner, "now": now})
    return result.rowcount == 1


def renew(session: Session, deadline_ids: list[int], now: datetime, owner: str) -> None:
    """Keep ``owner``'s claims alive while their handlers run (short leases: a dead replica's are taken over soon)."""
    session.execute(update(DeadlineRow).where(DeadlineRow.id.in_(deadline_ids), DeadlineRow.claimed_by == owner,
                                              DeadlineRow.sent_at.is_(None)).values(claimed_at=now))


def release(session: Session, deadline_id: int, owner: str, error: str) -> None:
    """Give a failed claim back, so the next tick tries again."""
    session.execute(update(DeadlineRow).where(DeadlineRow.id == deadline_id, DeadlineRow.claimed_by == owner)
                    .values(claimed_at=None, claimed_by=None, last_error=error[:2000]))


def superseded(session: Session, incident_id: int, key: str, fraction: float | None, now: datetime) -> bool:
    """Whether a later notice of the same clock run (told apart by its key) is due as well (e.g. after downtime: send
    the breach only)."""
    run = key.rsplit(":", 1)[0] + ":"
    return session.connection().execute(_LATER, {"incident_id": incident_id, "run_like": _like_prefix(run),
                                                 "fraction": fraction or 0, "now": now}).first() is not None


def pending(session: Session, incident_id: int | None = None) -> list[DeadlineRow]:
    query = select(DeadlineRow).where(DeadlineRow.sent_at.is_(None), DeadlineRow.cancelled_at.is_(None))
    if incident_id is not None:
        query = query.where(DeadlineRow.incident_id == incident_id)
    return list(session.execute(query.order_by(DeadlineRow.due_at)).scalars())


# pauses


def pauses(session: Session, incident_id: int) -> list[SlaPauseRow]:
    if fresh.is_new(session, incident_id):  # an incident added in this transaction has none yet
        return []
    return list(session.execute(select(SlaPauseRow).where(SlaPauseRow.incident_id == incident_id)
                                .order_by(SlaPauseRow.started_at, SlaPauseRow.id)).scalars())


def add_pause(session: Session, incident_id: int, *, at: datetime, by: str, reason: str) -> None:
    session.add(SlaPauseRow(incident_id=incident_id, started_at=at, started_by=by, reason=reason))
    session.flush()
    fresh.sla_rows_written(session, incident_id)  # the next re-plan must read the pause


# pages


def add_page(session: Session, **fields: object) -> PageRow:
    page = PageRow(**fields)
    session.add(page)
    session.flush()
    incident = session.identity_map.get(session.identity_key(IncidentRow, page.incident_id))  # no query
    if incident is not None:
        session.expire(incident, ["pages"])  # it may hold the list from before this page
    return page


def page_row(session: Session, page_id: int, *, lock: bool = False) -> PageRow | None:
    query = select(PageRow).where(PageRow.id == page_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def pages_of(session: Session, incident_ids: Sequence[int]) -> list[PageRow]:
    return list(session.execute(select(PageRow).where(PageRow.incident_id.in_(incident_ids))
                                .order_by(PageRow.incident_id, PageRow.paged_at, PageRow.id)).scalars())


def active_pages(session: Session, incident_id: int) -> list[PageRow]:
    return [p for p in pages_of(session, [incident_id]) if p.status == "active"]


def notified_users(session: Session, incident_id: int) -> set[str]:
    return set(session.execute(select(PageNoticeRow.user_id).join(PageRow).where(
        PageRow.incident_id == incident_id)).scalars())


def record_notice(session: Session, page_id: int, user_id: str, channel_id: str | None, ts: str | None) -> None:
    session.add(PageNoticeRow(page_id=page_id, user_id=user_id, channel_id=channel_id, ts=ts))
    session.flush()


# what an SLA notice reads: plain rows, statements built once (this runs for every notice sent)

_D, _I = DeadlineRow.__table__.c, IncidentRow.__table__.c
_C, _P = SlaClockRow.__table__.c, SlaPauseRow.__table__.c
_PG, _PN = PageRow.__table__.c, PageNoticeRow.__table__.c
_LATER = (select(_D.id).where(_D.incident_id == bindparam("incident_id"), _D.kind == SLA_NOTICE,
                              _D.key.like(bindparam("run_like"), escape="/"),
                              _D.fraction > bindparam("fraction"), _D.due_at <= bindparam("now"),
                              _D.cancelled_at.is_(None)).limit(1))
_LATEST_RUN = SlaClockRow.__table__.alias("latest")
_OTHER = DeadlineRow.__table__.alias("other")
_NOTICE = (select(_D.id, _D.key, _D.clock, _D.fraction, _D.due_at, _D.cancelled_at,
                  _I.id, _I.team_id, _I.number, _I.severity, _I.status, _I.channel_id, _I.commander, _I.private,
                  _I.declared_at, _I.acknowledged_at, _I.resolved_at, _I.reopened_at, _I.last_update_at,
                  # the card's line of this clock: its latest recorded run, when still running
                  select(_LATEST_RUN.c.due_at).where(_LATEST_RUN.c.incident_id == _D.incident_id,
                                                     _LATEST_RUN.c.clock == _D.clock)
                  .order_by(_LATEST_RUN.c.started_at.desc(), _LATEST_RUN.c.id.desc()).limit(1)
                  .scalar_subquery(),
                  select(_LATEST_RUN.c.outcome).where(_LATEST_RUN.c.incident_id == _D.incident_id,
                                                      _LATEST_RUN.c.clock == _D.clock)
                  .order_by(_LATEST_RUN.c.started_at.desc(), _LATEST_RUN.c.id.desc()).limit(1)
                  .scalar_subquery(),
                  select(_P.id).where(_P.incident_id == _D.incident_id).exists(),
                  select(_PG.id).where(_PG.incident_id == _D.incident_id, _PG.status == "active").exists(),
                  # a later notice of the same clock is due too (the run is told apart by its key, read after)
                  select(_OTHER.c.id).where(_OTHER.c.incident_id == _D.incident_id, _OTHER.c.kind == SLA_NOTICE,
                                            _OTHER.c.clock == _D.clock,
                                            _OTHER.c.fraction > func.coalesce(_D.fraction, 0),
                                            _OTHER.c.due_at <= bindparam("now"), _OTHER.c.cancelled_at.is_(None))
                  .exists())
           .join_from(DeadlineRow.__table__, IncidentRow.__table__, _I.id == _D.incident_id)
           .where(_D.id == bindparam("deadline_id")))
_PAUSES = (select(_P.started_at, _P.ended_at).where(_P.incident_id == bindparam("incident_id"))
           .order_by(_P.started_at, _P.id))
_ACTIVE_PAGES = (select(_PG.id, _PN.user_id).select_from(PageRow.__table__.outerjoin(
                 PageNoticeRow.__table__, _PN.page_id == _PG.id))
                 .where(_PG.incident_id == bindparam("incident_id"), _PG.status == "active")
                 .order_by(_PG.paged_at, _PG.id, _PN.id))


@dataclass(frozen=True)
class NoticeFacts:
    """What an SLA notice needs, read as plain rows: its deadline, its incident's fields and pauses, whether a later
    notice of the same clock run is due too, its active pages (page id -> who was told), and when the card's line
    of this clock says it is due (None: stopped, paused, or no run recorded)."""

    key: str
    clock: str | None
    fraction: float | None
    due_at: datetime
    cancelled: bool
    incident_id: int
    team_id: str
    number: int
    severity: str
    status: str
    channel_id: str | None
    commander: str
    private: bool
    clock_facts: Facts  # what its clocks depend on (its times and pauses)
    card_due_at: datetime | None
    superseded: bool
    active_pages: dict[int, tuple[str, ...]]


def notice_facts(session: Session, deadline_id: int, now: datetime) -> NoticeFacts | None:
    """One read of the deadline with its incident; its pauses, the later notice and the active pages are read only
    when there are some (the pages only for a time-to-acknowledge notice, which names who was paged)."""
    connection = session.connection()
    row = connection.execute(_NOTICE, {"deadline_id": deadline_id, "now": now}).first()
    if row is None:
        return None
    (_, key, clock, fraction, due_at, cancelled_at, incident_id, team_id, number, severity, status, channel_id,
     commander, private, declared_at, acknowledged_at, resolved_at, reopened_at, last_update_at, card_due_at,
     card_outcome, paused, paging, maybe_later) = row
    pauses = tuple((p.started_at, p.ended_at) for p in connection.execute(
        _PAUSES, {"incident_id": incident_id})) if paused else ()
    later = bool(maybe_later) and superseded(session, incident_id, key, fraction, now)
    active: dict[int, tuple[str, ...]] = {}
    if paging and clock == SlaClock.ACK.value:
        for page_id, user_id in connection.execute(_ACTIVE_PAGES, {"incident_id": incident_id}):
            active[page_id] = active.get(page_id, ()) + ((user_id,) if user_id is not None else ())
    clock_facts = Facts(declared_at=declared_at, acknowledged_at=acknowledged_at, resolved_at=resolved_at,
                        reopened_at=reopened_at, last_update_at=last_update_at, pauses=pauses)
    return NoticeFacts(key, clock, fraction, due_at, cancelled_at is not None, incident_id, team_id, number, severity,
                       status, channel_id, commander, bool(private), clock_facts,
                       None if card_outcome is not None else card_due_at, later, active)


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern for what starts with ``prefix`` (escaped with "/")."""
    return prefix.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
