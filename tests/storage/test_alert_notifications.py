"""The notifications as stored at the alert doors, on SQLite and PostgreSQL: stored as they came, taken for routing
once (the routing's transaction marks them routed), however many transactions try."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from storage import alerts as rows

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
BODY = '{"version": "4", "groupKey": "{}:{alertname=\\"Down\\"}", "alerts": ["é"]}'


def test_a_notification_is_stored_as_it_came_and_taken_once(db):
    with db.transaction() as session:
        first, second = rows.store_notifications(session, "T1", [("alertmanager", BODY, NOW),  # in one statement
                                                                  ("grafana", "{}", NOW + timedelta(seconds=1))])
        [other] = rows.store_notifications(session, "T2", [("alertmanager", "{}", NOW)])
    assert first < second
    with db.read() as session:
        assert rows.unrouted_notifications(session, "T1") == [first, second]
        assert rows.unrouted_notifications(session) == sorted([first, second, other])
    with db.transaction() as session:
        taken = rows.take_notification(session, first, NOW + timedelta(minutes=1))
    assert taken == ("alertmanager", BODY, NOW) and taken[2].tzinfo is not None
    with db.transaction() as session:
        assert rows.take_notification(session, first, NOW + timedelta(minutes=2)) is None  # routed already
        assert rows.take_notification(session, 10**9, NOW) is None  # not known
    with db.read() as session:
        assert rows.unrouted_notifications(session, "T1") == [second]


def test_a_take_rolled_back_leaves_the_notification_to_route(db):
    with db.transaction() as session:
        [stored] = rows.store_notifications(session, "T1", [("alertmanager", BODY, NOW)])
    try:
        with db.transaction() as session:
            assert rows.take_notification(session, stored, NOW) is not None
            raise RuntimeError("the routing failed midway")
    except RuntimeError:
        pass
    with db.transaction() as session:
        assert rows.take_notification(session, stored, NOW) is not None


def test_two_transactions_taking_the_same_notification_at_once_take_it_once(db):
    with db.transaction() as session:
        [stored] = rows.store_notifications(session, "T1", [("alertmanager", BODY, NOW)])
    both = threading.Barrier(2)
    taken: list[object] = []

    def take() -> None:
        both.wait()
        with db.transaction() as session:
            taken.append(rows.take_notification(session, stored, NOW))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken, key=lambda t: t is None) == [("alertmanager", BODY, NOW), None]


def test_notifications_stored_together_keep_their_own_ids_in_order(db):
    with db.transaction() as session:
        ids = rows.store_notifications(session, "T1", [("alertmanager", f'{{"n": {n}}}', NOW) for n in range(5)])
    assert ids == sorted(ids) and len(set(ids)) == 5
    with db.transaction() as session:
        assert [rows.take_notification(session, i, NOW)[1] for i in ids] == [f'{{"n": {n}}}' for n in range(5)]
