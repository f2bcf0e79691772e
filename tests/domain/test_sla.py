"""SLA planning as pure functions of (incident facts, policy)."""

from datetime import UTC, date, datetime, time, timedelta

from bot.domain.clocktime import BusinessHours
from bot.domain.sla import Facts, Policy, SlaClock, nearest, notices, runs

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SEV1 = Policy(ack=timedelta(minutes=5), resolve=timedelta(hours=4), update_every=timedelta(minutes=30))


def at(**delta) -> datetime:
    return T0 + timedelta(**delta)


def by_clock(clock_runs):
    return {r.clock: r for r in clock_runs}


def test_a_fresh_incident_runs_every_clock_from_declare():
    clocks = by_clock(runs(Facts(T0, None, None, None, None), SEV1))
    assert clocks[SlaClock.ACK].due_at == at(minutes=5)
    assert clocks[SlaClock.RESOLVE].due_at == at(hours=4)
    assert clocks[SlaClock.UPDATE].due_at == at(minutes=30)
    assert nearest(list(clocks.values())).clock is SlaClock.ACK


def test_notices_at_each_fraction_and_the_breach():
    planned = notices(runs(Facts(T0, None, None, None, None), SEV1), [0.5, 0.8])
    ack = [(n.fraction, n.due_at) for n in planned if n.clock is SlaClock.ACK]
    assert ack == [(0.5, at(minutes=2, seconds=30)), (0.8, at(minutes=4)), (1.0, at(minutes=5))]
    assert len({n.key for n in planned}) == len(planned) == 9


def test_acknowledging_stops_the_ack_clock_and_records_how_it_ended():
    clocks = runs(Facts(T0, at(minutes=3), None, None, None), SEV1)
    ack = by_clock(clocks)[SlaClock.ACK]
    assert not ack.running and ack.outcome(at(hours=1)) == ("met", timedelta(minutes=2))
    assert [n.clock for n in notices(clocks, [0.5])].count(SlaClock.ACK) == 0
    late = by_clock(runs(Facts(T0, at(minutes=7), None, None, None), SEV1))[SlaClock.ACK]
    assert late.outcome(at(hours=1)) == ("breached", timedelta(minutes=2))


def test_a_severity_change_recomputes_from_the_original_start():
    sev3 = Policy(ack=timedelta(hours=1), resolve=timedelta(days=3), update_every=timedelta(hours=4))
    facts = Facts(T0, None, None, None, None)
    assert by_clock(runs(facts, sev3))[SlaClock.ACK].due_at == at(hours=1)
    assert by_clock(runs(facts, SEV1))[SlaClock.ACK].due_at == at(minutes=5)


def test_an_update_restarts_the_update_cadence():
    clocks = by_clock(runs(Facts(T0, None, None, None, at(minutes=20)), SEV1))
    assert clocks[SlaClock.UPDATE].started_at == at(minutes=20) and clocks[SlaClock.UPDATE].due_at == at(minutes=50)


def test_resolve_stops_everything_and_reopen_restarts_resolve_and_updates():
    resolved = runs(Facts(T0, at(minutes=1), at(hours=1), None, None), SEV1)
    assert all(not r.running for r in resolved) and notices(resolved, [0.5]) == []
    reopened = by_clock(runs(Facts(T0, at(minutes=1), at(hours=1), at(hours=2), None), SEV1))
    assert reopened[SlaClock.RESOLVE].started_at == at(hours=2) and reopened[SlaClock.RESOLVE].due_at == at(hours=6)
    assert reopened[SlaClock.UPDATE].due_at == at(hours=2, minutes=30)
    assert not reopened[SlaClock.ACK].running


def test_a_pause_excludes_its_time_from_the_resolve_clock():
    open_pause = by_clock(runs(Facts(T0, None, None, None, None, ((at(hours=1), None),)), SEV1))
    assert open_pause[SlaClock.RESOLVE].due_at is None
    assert [n for n in notices(list(open_pause.values()), [0.5]) if n.clock is SlaClock.RESOLVE] == []
    resumed = by_clock(runs(Facts(T0, None, None, None, None, ((at(hours=1), at(hours=3)),)), SEV1))
    assert resumed[SlaClock.RESOLVE].due_at == at(hours=6)
    assert resumed[SlaClock.ACK].due_at == at(minutes=5)  # only the resolve clock pauses


def test_business_hours_across_a_weekend_and_a_holiday():
    berlin = BusinessHours("Europe/Berlin", frozenset({0, 1, 2, 3, 4}), time(9), time(17),
                           frozenset({date(2026, 11, 30)}))
    sev3 = Policy(ack=timedelta(hours=1), resolve=timedelta(hours=16), update_every=timedelta(hours=4), hours=berlin)
    friday_4pm = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    clocks = by_clock(runs(Facts(friday_4pm, None, None, None, None), sev3))
    # the hour fits Friday 16:00–17:00
    assert clocks[SlaClock.ACK].due_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    # 16h: 1h Friday, Monday off, Tuesday 8h, Wednesday 7h -> Wednesday 16:00 Berlin
    assert clocks[SlaClock.RESOLVE].due_at == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    reminders = [n.due_at for n in notices(list(clocks.values()), [0.5]) if n.clock is SlaClock.RESOLVE]
    assert reminders[0] == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 8h: 1h Fri + 7h Tue -> Tue 16:00 Berlin


def test_settle_keeps_a_stopped_run_as_recorded_and_stops_a_superseded_update_run():
    from bot.domain.sla import settle

    facts = Facts(T0, at(seconds=40), None, None, at(minutes=20))
    recorded, _ = settle([], runs(Facts(T0, at(seconds=40), None, None, None), SEV1))
    sev2 = Policy(ack=timedelta(minutes=15), resolve=timedelta(hours=8), update_every=timedelta(hours=1))
    record, current = settle(recorded, runs(facts, sev2))
    by_key = {(r.clock, r.started_at): r for r in record}
    ack = by_key[(SlaClock.ACK, T0)]
    assert (ack.target, ack.verdict()) == (timedelta(minutes=5), ("met", timedelta(minutes=4, seconds=20)))
    first_update = by_key[(SlaClock.UPDATE, T0)]
    assert (first_update.stopped_at, first_update.verdict()) == (at(minutes=20), ("met", timedelta(minutes=10)))
    current_update = by_clock(current)[SlaClock.UPDATE]
    assert (current_update.started_at, current_update.running) == (at(minutes=20), True)
    assert by_clock(current)[SlaClock.RESOLVE].due_at == at(hours=8)  # running: re-planned from the declare


def test_a_run_stopped_while_paused_is_judged_by_the_time_counted():
    from bot.domain.sla import settle

    facts = Facts(T0, at(minutes=1), at(hours=6), None, None, pauses=((at(hours=1), None),))
    _, current = settle([], runs(facts, SEV1))
    resolve = by_clock(current)[SlaClock.RESOLVE]
    assert resolve.verdict() == ("met", timedelta(hours=3))  # 1h counted of 4h; 5h paused are not counted
