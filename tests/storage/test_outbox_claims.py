"""The outbox's claim on each database: a lane's head with the items queued behind it, in order, which nobody else
can take meanwhile; a run stops at an item that may not go yet; what is given back is free at once, untried."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update

from storage import outbox
from storage.db import Database
from storage.models import OutboxRow

LEASE = timedelta(seconds=15)


def queue(db: Database, lanes: list[str]) -> list[int]:
    now = outbox.now()
    with db.transaction() as session:
        for place, lane in enumerate(lanes):
            outbox.enqueue(session, lane, "post", {"place": place}, now)
    with db.read() as session:
        return [row.id for row in session.query(OutboxRow).order_by(OutboxRow.id)]


def places(items: list[outbox.Claimed]) -> list[tuple[str, int, int]]:
    return [(item.lane, json.loads(item.payload)["place"], item.attempts) for item in items]


def claim(db: Database, owner: str, per_lane: int = 2) -> tuple[list[outbox.Claimed], list[outbox.Claimed]]:
    now = outbox.now()
    with db.transaction() as session:
        heads = outbox.claim(session, now, owner, lease=LEASE, limit=16)
        return heads, outbox.claim_followers(session, now, owner, heads, lease=LEASE, per_lane=per_lane)


def test_a_lane_head_is_claimed_with_the_items_behind_it_which_nobody_else_can_take(db: Database):
    queue(db, ["incident:1", "incident:1", "incident:1", "incident:1", "incident:2"])
    heads, followers = claim(db, "replica-a")
    assert places(heads) == [("incident:1", 0, 1), ("incident:2", 4, 1)]
    assert places(followers) == [("incident:1", 1, 1), ("incident:1", 2, 1)]  # two behind the head, in order
    assert claim(db, "replica-b") == ([], [])  # the heads are held: nothing of theirs for another replica

    now = outbox.now()
    with db.transaction() as session:  # the head and the first behind it delivered; the second given back untried
        outbox.delivered(session, [heads[0].id, followers[0].id, heads[1].id], now, "replica-a")
        outbox.release(session, [followers[1].id], "replica-a")
    heads, followers = claim(db, "replica-b")
    assert places(heads) == [("incident:1", 2, 1)]  # free at once, and its first try
    assert places(followers) == [("incident:1", 3, 1)]


def test_a_run_stops_at_an_item_that_may_not_go_yet(db: Database):
    ids = queue(db, ["incident:1", "incident:1", "incident:1"])
    with db.transaction() as session:  # the second waits for a retry: the third may not overtake it
        session.execute(update(OutboxRow).where(OutboxRow.id == ids[1]).values(
            next_attempt_at=outbox.now() + timedelta(minutes=1)))
    heads, followers = claim(db, "replica-a")
    assert places(heads) == [("incident:1", 0, 1)] and followers == []


def test_no_items_are_taken_behind_when_none_are_asked_for(db: Database):
    queue(db, ["incident:1", "incident:1"])
    heads, followers = claim(db, "replica-a", per_lane=0)
    assert places(heads) == [("incident:1", 0, 1)] and followers == []


def test_items_put_off_are_brought_forward_by_lane_and_kind_and_claimable_at_once(db: Database):
    now = outbox.now()
    with db.transaction() as session:
        outbox.enqueue(session, "alerts:team:T1", "alert_route", {"place": 0}, now)
        outbox.enqueue(session, "alerts:team:T1", "alert_route", {"place": 1}, now)
        outbox.enqueue(session, "alerts:team:T2", "alert_route", {"place": 2}, now)
    heads, _ = claim(db, "replica-a", per_lane=0)
    later = now + timedelta(seconds=2)
    with db.transaction() as session:  # both heads put off (the doors were busy)
        for head in heads:
            outbox.put_back(session, head.id, later, "replica-a")
    assert claim(db, "replica-b") == ([], [])
    with db.transaction() as session:
        assert outbox.bring_forward(session, "alerts:team:T1", "alert_route", outbox.now()) == 1  # its head only
        assert outbox.bring_forward(session, "alerts:team:T1", "alert_post", outbox.now()) == 0
    heads, followers = claim(db, "replica-b")
    assert places(heads) == [("alerts:team:T1", 0, 1)]  # T2's stays put off
    assert places(followers) == [("alerts:team:T1", 1, 1)]
    with db.transaction() as session:  # a claimed item is left alone
        assert outbox.bring_forward(session, "alerts:team:T1", "alert_route", outbox.now()) == 0
