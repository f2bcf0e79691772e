"""Storage on SQLite and PostgreSQL: migrations match the models, times stay UTC, numbers never repeat."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage import migrate
from storage import repositories as repo
from storage.db import SQLITE_MMAP_BYTES, make_engine
from storage.models import Base, IncidentCounter, IncidentRow
from storage.search import not_search_index


def test_migrations_build_exactly_the_models(db):
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.engine)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": not_search_index})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrading_a_database_that_holds_incidents_keeps_every_row(tmp_path):
    """Each migration since the first incidents were stored runs on a database with data in it."""
    from sqlalchemy import column, func, insert, select, table

    from storage.db import make_engine
    from storage.models import FollowUpRow, IncidentRow, TimelineEventRow

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0002")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        # the incidents table as it was at 0002: the model's later columns (and their defaults) did not exist yet
        at_0002 = table("incidents", *(column(name) for name in (
            "id", "team_id", "number", "title", "description", "severity", "status", "channel_id", "declared_by",
            "commander", "declared_at")))
        connection.execute(insert(at_0002).values(
            id=1, team_id="T1", number=1, title="old", description="", severity="sev2", status="resolved",
            channel_id="C1", declared_by="U1", commander="U1", declared_at=now))
        connection.execute(insert(TimelineEventRow.__table__).values(incident_id=1, at=now, kind="declared",
                                                                      actor="U1", text="Declared"))
        connection.execute(insert(FollowUpRow.__table__).values(incident_id=1, text="Add an alert", created_by="U1",
                                                                 created_at=now))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        counts = [connection.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in (IncidentRow.__table__, TimelineEventRow.__table__, FollowUpRow.__table__)]
        private = connection.execute(select(IncidentRow.private)).scalars().all()
    engine.dispose()
    assert counts == [1, 1, 1]
    assert private == [False]  # incidents from before private ones existed are public (migration 0013)


def test_upgrading_settles_clock_runs_an_older_firebell_left_running_and_keeps_the_severity_history(tmp_path):
    from sqlalchemy import insert, select

    from storage.db import make_engine
    from storage.models import IncidentRow, SeverityChangeRow, SlaClockRow, TimelineEventRow

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0009")
    t0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    clocks = SlaClockRow.__table__
    with engine.begin() as connection:
        connection.execute(insert(IncidentRow.__table__).values(
            id=1, team_id="T1", number=1, title="old", description="", severity="sev2", status="resolved",
            channel_id="C1", declared_by="U1", commander="U1", declared_at=t0, resolved_at=t0 + timedelta(hours=2)))
        connection.execute(insert(TimelineEventRow.__table__).values(
            incident_id=1, at=t0 + timedelta(minutes=5), kind="severity", actor="U2", text="Severity SEV1 → SEV2"))
        for start, due in ((0, 30), (40, 70), (100, 130)):  # three update runs, none stopped, as 0009's code left
            connection.execute(insert(clocks).values(
                incident_id=1, clock="update", started_at=t0 + timedelta(minutes=start), target_seconds=1800,
                due_at=t0 + timedelta(minutes=due), stopped_at=None))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        settled = connection.execute(select(clocks.c.stopped_at, clocks.c.outcome, clocks.c.by_seconds)
                                     .order_by(clocks.c.started_at)).all()
        history = connection.execute(select(SeverityChangeRow.__table__)).mappings().one()
    engine.dispose()
    assert [(s.replace(tzinfo=UTC) - t0, o, b) for s, o, b in settled] == [
        (timedelta(minutes=40), "breached", 600), (timedelta(minutes=100), "breached", 1800),
        (timedelta(hours=2), "met", 600)]
    assert (history["from_severity"], history["to_severity"], history["changed_by"]) == ("sev1", "sev2", "U2")


def _incident(session, number: int, declared_at: datetime, **extra):
    return repo.add_incident(
        session, team_id="T1", number=number, title=f"incident {number}", description="", severity="sev2",
        status=extra.pop("status", "declared"), declared_by="U1", commander="U1", declared_at=declared_at,
        **extra,
    )


def test_sqlite_connections_read_through_a_memory_map(db):
    if db.dialect != "sqlite":
        pytest.skip("a SQLite setting")
    with db.read() as session:
        assert session.execute(text("PRAGMA mmap_size")).scalar_one() == SQLITE_MMAP_BYTES


def test_connections_the_server_closed_are_replaced_before_anyone_uses_them(db):
    """A restart or failover of PostgreSQL closes every connection in the pool; the next transactions get new ones."""
    if db.dialect != "postgresql":
        pytest.skip("a PostgreSQL server closing connections")
    with db.transaction() as session:
        session.execute(IncidentCounter.__table__.insert().values(team_id="T1", last_number=4))
        first_backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = make_engine(db.engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_backend}).scalar()
            while connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": first_backend}).scalar():
                pass  # the backend is gone once it has closed its end
    finally:
        admin.dispose()
    with db.transaction() as session:
        assert repo.take_incident_number(session, "T1") == 5
        assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != first_backend
    with db.read() as session:
        assert session.execute(text("SELECT last_number FROM incident_counters")).scalar_one() == 5


def test_times_come_back_aware_utc(db):
    plus_two = timezone(timedelta(hours=2))
    with db.transaction() as session:
        row = _incident(session, 1, datetime(2026, 3, 1, 12, 0, tzinfo=plus_two))
        repo.add_timeline_event(session, row, at=datetime(2026, 3, 1, 12, 5, tzinfo=plus_two), kind="note",
                                actor="U1", text="x")
    with db.read() as session:
        incident = repo.to_domain(repo.find_by_number(session, "T1", 1))
    assert incident.declared_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert incident.declared_at.tzinfo == UTC
    assert incident.timeline[0].at == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def test_the_card_reads_the_pages_notices_and_clocks_the_incident_holds(db):
    """The card's read of plain rows gives what the incident's objects give: pages in the order paged (an earlier
    page added later comes first), who each one notified, its clock runs, and an incident without pages."""
    from bot.domain.sla import ClockRun, SlaClock
    from storage import schedule

    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    with db.transaction() as session:
        paged = _incident(session, 1, t0, card_ts="1.5")
        quiet = _incident(session, 2, t0)
        later = schedule.add_page(session, incident_id=paged.id, tier="L2", reason="escalated", paged_at=t0
                                  + timedelta(minutes=20), status="active", oncall_user="U7", oncall_source="layer 1")
        first = schedule.add_page(session, incident_id=paged.id, tier="L1", reason="sev2 policy", paged_at=t0,
                                  status="escalated", escalated_at=t0 + timedelta(minutes=20))
        for page, user in ((first, "U3"), (first, "U4"), (later, "U7")):
            schedule.record_notice(session, page.id, user, "D1", "2.0")
        schedule.record_clock_runs(session, paged, [
            ClockRun(clock=SlaClock.ACK, started_at=t0, target=timedelta(minutes=15), due_at=t0
                     + timedelta(minutes=15), stopped_at=t0 + timedelta(minutes=25)),
            ClockRun(clock=SlaClock.RESOLVE, started_at=t0, target=timedelta(hours=4), due_at=t0 + timedelta(hours=4),
                     stopped_at=None)])
        ids = paged.id, quiet.id
    with db.read() as session:
        cards = [repo.card_view(session, i) for i in ids]
    with db.read() as session:
        full = [repo.to_domain(session.get(IncidentRow, i), with_timeline=False) for i in ids]
    assert cards == full
    card = cards[0]
    assert [(p.tier, p.status, p.notified, p.oncall_user) for p in card.pages] == [
        ("L1", "escalated", ("U3", "U4"), None), ("L2", "active", ("U7",), "U7")]
    assert [(c.clock, c.due_at, c.stopped_at) for c in card.clocks] == [
        (SlaClock.ACK, t0 + timedelta(minutes=15), t0 + timedelta(minutes=25)),
        (SlaClock.RESOLVE, t0 + timedelta(hours=4), None)]
    assert card.card_ts == "1.5" and card.declared_at.tzinfo == UTC
    assert (cards[1].pages, cards[1].clocks) == ((), ())


def test_naive_times_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"), db.transaction() as session:
        _incident(session, 1, datetime(2026, 3, 1, 12, 0))


def test_concurrent_declares_take_distinct_numbers_without_gaps(db):
    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def take() -> None:
        try:
            start.wait()
            with db.transaction() as session:
                number = repo.take_incident_number(session, "T1")
                _incident(session, number, datetime.now(UTC))
            taken.append(number)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(taken) == list(range(1, 13))


def test_a_rolled_back_declare_gives_its_number_back(db):
    with pytest.raises(RuntimeError), db.transaction() as session:
        repo.take_incident_number(session, "T1")
        raise RuntimeError("Slack failed")
    with db.transaction() as session:
        assert repo.take_incident_number(session, "T1") == 1
        assert repo.take_incident_number(session, "T2") == 1
    with db.read() as session:
        assert session.get(IncidentCounter, "T1").last_number == 1


def test_a_request_is_claimed_once(db):
    now = datetime.now(UTC)
    with db.transaction() as session:
        assert repo.claim_request(session, "view:V1", now) is True
    with db.transaction() as session:
        assert repo.claim_request(session, "view:V1", now) is False
        assert repo.claim_request(session, "view:V2", now) is True


def test_open_incidents_newest_first_and_export_window(db):
    now = datetime.now(UTC)
    with db.transaction() as session:
        _incident(session, 1, now - timedelta(days=40))
        _incident(session, 2, now - timedelta(days=2), status="resolved")
        _incident(session, 3, now - timedelta(days=1))
    with db.read() as session:
        assert [i.number for i in repo.open_incidents(session, "T1")] == [3, 1]
        assert [i.number for i in repo.incidents_since(session, now - timedelta(days=30))] == [2, 3]
        assert len(repo.incidents_since(session, None)) == 3
