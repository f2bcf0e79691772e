"""On-call rows on SQLite and PostgreSQL: a handoff planned by many is one row, overrides come back as stored, and
migration 0012 keeps the deadlines a database already holds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from storage import migrate
from storage import oncall as rows
from storage.models import DeadlineRow, IncidentRow

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def pending(db, tier: str = "L1") -> list[datetime]:
    with db.read() as session:
        return [h.due_at for h in rows.handoffs(session, tier) if h.sent_at is None and h.cancelled_at is None]


def test_planning_a_handoff_again_and_again_keeps_one_row(db):
    for _ in range(3):
        with db.transaction() as session:
            rows.plan_handoff(session, "L1", T0 + timedelta(hours=1), T0)
    assert pending(db) == [T0 + timedelta(hours=1)]
    with db.transaction() as session:  # the schedule changed: the new time replaces the old
        rows.plan_handoff(session, "L1", T0 + timedelta(hours=2), T0)
    assert pending(db) == [T0 + timedelta(hours=2)]
    with db.transaction() as session:  # and back: the cancelled row is brought back, not duplicated
        rows.plan_handoff(session, "L1", T0 + timedelta(hours=1), T0)
    assert pending(db) == [T0 + timedelta(hours=1)]
    with db.read() as session:
        assert len(rows.handoffs(session, "L1")) == 2


def test_a_handoff_already_due_is_kept_to_be_sent_late(db):
    with db.transaction() as session:
        rows.plan_handoff(session, "L1", T0, T0 - timedelta(hours=1))
    with db.transaction() as session:  # later (after downtime), the next one is planned
        rows.plan_handoff(session, "L1", T0 + timedelta(days=1), T0 + timedelta(hours=3))
    assert pending(db) == [T0, T0 + timedelta(days=1)]


def test_replicas_planning_the_same_handoff_at_once_make_one_row(db):
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def plan() -> None:
        try:
            barrier.wait()
            with db.transaction() as session:
                rows.plan_handoff(session, "L1", T0 + timedelta(hours=1), T0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=plan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and pending(db) == [T0 + timedelta(hours=1)]


def test_overrides_come_back_aware_and_filtered(db):
    with db.transaction() as session:
        first = rows.add_override(session, team_id="T1", tier="L1", user_id="U1", starts_at=T0,
                                  ends_at=T0 + timedelta(hours=2), created_by="U1", created_at=T0)
        rows.add_override(session, team_id="T1", tier="L2", user_id="U2", starts_at=T0,
                          ends_at=T0 + timedelta(hours=5), created_by="U9", created_at=T0)
        rows.add_override(session, team_id="T2", tier="L1", user_id="U3", starts_at=T0,
                          ends_at=T0 + timedelta(hours=5), created_by="U3", created_at=T0)
    with db.read() as session:
        assert rows.overrides(session, "T1", ending_after=T0, tier="L1") == [first]
        assert [o.user for o in rows.overrides(session, "T1", ending_after=T0 + timedelta(hours=3))] == ["U2"]
        assert len(rows.overrides(session, None, ending_after=T0)) == 3
    assert first.start.tzinfo == UTC


def test_migration_0012_keeps_the_deadlines_a_database_holds(tmp_path):
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(insert(IncidentRow.__table__).values(
            id=1, team_id="T1", number=1, title="old", description="", severity="sev2", status="declared",
            declared_by="U1", commander="U1", declared_at=T0))
        connection.execute(insert(DeadlineRow.__table__).values(
            incident_id=1, key="sla:ack:x:0.5", kind="sla", clock="ack", fraction=0.5, due_at=T0, attempts=0))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DeadlineRow.__table__)).scalar_one() == 1
    engine.dispose()
