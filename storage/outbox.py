"""The outbox: Slack work written with the change that implies it, delivered in order per lane."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage import wakeups
from storage.models import OutboxRow


def now() -> datetime:
    """The outbox keeps real time, whatever clock the incidents run on: its retries wait on Slack, and a test that
    moves the incidents' clock by hand must not hold them back (or rush them)."""
    return datetime.now(UTC)


def enqueue(session: Session, lane: str, kind: str, payload: dict[str, Any], now: datetime, *,
            wake: bool = True) -> None:
    """Queue an item; its commit wakes this process's delivery unless ``wake`` is False (a look is due anyway)."""
    enqueue_all(session, lane, kind, [payload], now, wake=wake)


def enqueue_all(session: Session, lane: str, kind: str, payloads: list[dict[str, Any]], now: datetime, *,
                wake: bool = True) -> None:
    """Queue one item of ``kind`` per payload, in that order, in one statement (as `enqueue` each)."""
    enqueue_items(session, [(lane, kind, payload) for payload in payloads], now, wake=wake)


def enqueue_items(session: Session, items: list[tuple[str, str, dict[str, Any]]], now: datetime, *,
                  wake: bool = True) -> None:
    """Queue each (lane, kind, payload), in that order, in one statement (as `enqueue` each)."""
    session.execute(_ENQUEUE, [{"lane": lane, "kind": kind, "payload": json.dumps(payload), "created_at": now,
                                "next_attempt_at": now, "attempts": 0} for lane, kind, payload in items])
    if wake:
        wakeups.outbox_written(session)


_OUTBOX = cast(Table, OutboxRow.__table__)  # the statements on the table itself load no objects
# Built once: no object for the session to track and flush at commit (ids still follow the calls).
_ENQUEUE = insert(_OUTBOX)


def queued_since(session: Session, lane: str, kind: str, since: datetime) -> bool:
    """Whether an item of ``kind`` was queued in ``lane`` since ``since`` and has not failed for good."""
    return session.execute(select(OutboxRow.id).where(
        OutboxRow.lane == lane, OutboxRow.kind == kind, OutboxRow.created_at >= since,
        OutboxRow.failed_at.is_(None)).limit(1)).first() is not None


def _lane_heads() -> Any:
    """The first undone item of each lane, read from the pending items' index alone (ix_outbox_pending_lane): a
    correlated subquery instead made SQLite scan the whole table, delivered history included, at every claim."""
    pending = aliased(OutboxRow)
    return (select(func.min(pending.id)).where(pending.delivered_at.is_(None), pending.failed_at.is_(None))
            .group_by(pending.lane))


# Built once, on the table (no ORM bulk update): the claim runs for every item delivered, and building these
# statements cost more than running them.
_FREE = or_(OutboxRow.claimed_at.is_(None), OutboxRow.claimed_at < bindparam("outbox_stale"))
_NEXT_ATTEMPT = (select(OutboxRow.next_attempt_at).where(OutboxRow.id.in_(_lane_heads()), _FREE)
                 .order_by(OutboxRow.next_attempt_at).limit(1))
_CLAIM = (update(_OUTBOX)
          .where(OutboxRow.id.in_(
              select(OutboxRow.id)
              .where(OutboxRow.id.in_(_lane_heads()), OutboxRow.next_attempt_at <= bindparam("now"), _FREE)
              .order_by(OutboxRow.id).limit(bindparam("limit", type_=Integer)).with_for_update(skip_locked=True)))
          .values(claimed_at=bindparam("now"), claimed_by=bindparam("owner"), attempts=OutboxRow.attempts + 1)
          .returning(OutboxRow.id, OutboxRow.kind, OutboxRow.payload, OutboxRow.attempts, OutboxRow.lane,
                     OutboxRow.created_at, OutboxRow.last_error))


def next_attempt(session: Session, now: datetime, *, lease: timedelta) -> datetime | None:
    """When the earliest lane head nobody holds may be tried (None: nothing waits)."""
    return session.execute(_NEXT_ATTEMPT, {"outbox_stale": now - lease}).scalar_one_or_none()


def next_attempt_query() -> Any:
    """`next_attempt` as a statement to read with others (its parameter: ``outbox_stale`` = now - lease)."""
    return _NEXT_ATTEMPT


@dataclass(frozen=True)
class Claimed:
    """An outbox item this process holds."""

    id: int
    kind: str
    payload: str
    attempts: int  # counting this one
    lane: str
    created_at: datetime
    last_error: str | None


def claim(session: Session, now: datetime, owner: str, *, lease: timedelta, limit: int) -> list[Claimed]:
    """The first undone item of each lane, when it is due and nobody holds it: one lane's items go one at a time,
    oldest first; other lanes go alongside. Replicas skip what another has locked (SKIP LOCKED on PostgreSQL).
    One statement (UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING), no objects."""
    rows = session.execute(_CLAIM, {"now": now, "outbox_stale": now - lease, "owner": owner, "limit": limit})
    return sorted((Claimed(*row) for row in rows), key=lambda item: item.id)


# The pending items behind given lanes' heads, a lane's first ``per_lane`` in order, with what says whether they may be
# taken now; read from the pending items' index.
_BEHIND = (select(OutboxRow.id, OutboxRow.lane, OutboxRow.next_attempt_at, OutboxRow.claimed_at)
           .where(OutboxRow.lane.in_(bindparam("lanes", expanding=True)), OutboxRow.delivered_at.is_(None),
                  OutboxRow.failed_at.is_(None), OutboxRow.id.not_in(bindparam("heads", expanding=True)))
           .add_columns(func.row_number().over(partition_by=OutboxRow.lane, order_by=OutboxRow.id).label("place"))
           .subquery())
_FOLLOWERS = (select(_BEHIND.c.id, _BEHIND.c.lane, _BEHIND.c.next_attempt_at, _BEHIND.c.claimed_at)
              .where(_BEHIND.c.place <= bindparam("per_lane", type_=Integer)).order_by(_BEHIND.c.id))
_CLAIM_FOLLOWERS = (update(_OUTBOX)
                    .where(OutboxRow.id.in_(bindparam("item_ids", expanding=True)), _FREE,
                           OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None))
                    .values(claimed_at=bindparam("now"), claimed_by=bindparam("owner"),
                            attempts=OutboxRow.attempts + 1)
                    .returning(OutboxRow.id, OutboxRow.kind, OutboxRow.payload, OutboxRow.attempts, OutboxRow.lane,
                               OutboxRow.created_at, OutboxRow.last_error))


def claim_followers(session: Session, now: datetime, owner: str, heads: list[Claimed], *, lease: timedelta,
                    per_lane: int) -> list[Claimed]:
    """The items queued behind ``heads`` (lane heads ``owner`` has just claimed), so that a lane's work goes in one
    claim, delivered one after another by whoever holds the head: up to ``per_lane`` of each lane, the run of them
    that is due and free, in order. Nobody else can take them meanwhile: another replica claims only lane heads.
    Returned in id order; a lane's run stops at the first item that could not be taken."""
    if not heads or per_lane < 1:
        return []
    stale = now - lease
    wanted: list[tuple[int, str]] = []
    stopped: set[str] = set()
    for item_id, lane, due, claimed_at in session.execute(_FOLLOWERS, {
            "lanes": sorted({head.lane for head in heads}), "heads": [head.id for head in heads],
            "per_lane": per_lane}):
        if lane in stopped:
            continue
        if due > now or (claimed_at is not None and claimed_at >= stale):
            stopped.add(lane)
            continue
        wanted.append((item_id, lane))
    if not wanted:
        return []
    taken = {row.id: Claimed(*row) for row in session.execute(_CLAIM_FOLLOWERS, {
        "item_ids": [item_id for item_id, _ in wanted], "now": now, "owner": owner, "outbox_stale": stale})}
    runs: list[Claimed] = []
    broken: set[str] = set()  # lanes whose run has a gap (taken meanwhile by nobody else, but not free any more)
    for item_id, lane in wanted:
        if lane not in broken and item_id in taken:
            runs.append(taken.pop(item_id))
        else:
            broken.add(lane)
    if taken:  # behind a gap: not to be delivered before what is missing
        release(session, list(taken), owner)
    return runs


def release(session: Session, item_ids: list[int], owner: str) -> None:
    """Give back ``owner``'s claims of items not tried (a lane's run stopped before them): free at once, their try not
    counted."""
    session.execute(update(OutboxRow).where(OutboxRow.id.in_(item_ids), OutboxRow.claimed_by == owner,
                                            OutboxRow.delivered_at.is_(None)).values(
        claimed_at=None, claimed_by=None, attempts=OutboxRow.attempts - 1))


_DELIVERED = (update(_OUTBOX)
              .where(OutboxRow.id.in_(bindparam("item_ids", expanding=True)),
                     OutboxRow.claimed_by == bindparam("owner"))
              .values(delivered_at=bindparam("now"), last_error=None))


def delivered(session: Session, item_ids: list[int], now: datetime, owner: str) -> None:
    """Mark done the items ``owner`` still holds (one whose claim ran out and was taken over is the new owner's). A
    plain statement built once: it runs for every claim."""
    session.connection().execute(_DELIVERED, {"item_ids": item_ids, "now": now, "owner": owner})


def renew(session: Session, item_ids: list[int], now: datetime, owner: str) -> None:
    """Keep ``owner``'s claims alive while their work goes on (a Retry-After sleep, a large tier's DMs…)."""
    session.execute(update(OutboxRow).where(OutboxRow.id.in_(item_ids), OutboxRow.claimed_by == owner,
                                            OutboxRow.delivered_at.is_(None)).values(claimed_at=now))


def retry_later(session: Session, item_id: int, at: datetime, error: str, owner: str) -> None:
    session.execute(update(OutboxRow).where(OutboxRow.id == item_id, OutboxRow.claimed_by == owner).values(
        next_attempt_at=at, claimed_at=None, claimed_by=None, last_error=error[:2000]))


def put_back(session: Session, item_id: int, at: datetime, owner: str) -> None:
    """Release ``owner``'s claim untried (it waits for its turn by Slack's limits): due again at ``at``, its try not
    counted, its last error kept."""
    session.execute(update(OutboxRow).where(OutboxRow.id == item_id, OutboxRow.claimed_by == owner).values(
        next_attempt_at=at, claimed_at=None, claimed_by=None, attempts=OutboxRow.attempts - 1))


def bring_forward(session: Session, lane: str, kind: str, now: datetime) -> int:
    """Make the unclaimed items of ``kind`` in ``lane`` that were put off due now; how many."""
    result = session.execute(update(OutboxRow).where(
        OutboxRow.lane == lane, OutboxRow.kind == kind, OutboxRow.delivered_at.is_(None),
        OutboxRow.failed_at.is_(None), OutboxRow.claimed_by.is_(None), OutboxRow.next_attempt_at > now)
        .values(next_attempt_at=now))
    return result.rowcount  # type: ignore[attr-defined]


def failed(session: Session, item_id: int, now: datetime, error: str, owner: str) -> bool:
    """Mark failed for good; False when ``owner`` no longer holds the item."""
    result = session.execute(update(OutboxRow).where(OutboxRow.id == item_id, OutboxRow.claimed_by == owner)
                             .values(failed_at=now, last_error=error[:2000]))
    return result.rowcount == 1  # type: ignore[attr-defined]


def undelivered(session: Session) -> int:
    return session.execute(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None))).scalar_one()


def oldest_pending(session: Session) -> datetime | None:
    """When the oldest item still to deliver was queued (None when nothing waits)."""
    return session.execute(select(func.min(OutboxRow.created_at)).where(
        OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None))).scalar_one()


def failures(session: Session) -> list[OutboxRow]:
    return list(session.execute(select(OutboxRow).where(OutboxRow.failed_at.is_not(None))
                                .order_by(OutboxRow.id)).scalars())


def failed_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.failed_at.is_not(None))).scalar_one()


def retry_failed(session: Session, item_ids: list[int] | None, now: datetime) -> list[int]:
    """Queue items that failed for good once more (all of them when ``item_ids`` is None), after the cause was
    fixed (the bot invited back, a new token…); returns the ids queued."""
    query = select(OutboxRow.id).where(OutboxRow.failed_at.is_not(None))
    if item_ids is not None:
        query = query.where(OutboxRow.id.in_(item_ids))
    ids = list(session.execute(query).scalars())
    if ids:
        session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(
            failed_at=None, attempts=0, next_attempt_at=now, claimed_at=None, claimed_by=None))
    return ids
