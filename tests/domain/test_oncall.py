"""Rotation math: who is on call at an instant, shift changes at the configured local time across daylight-saving
changes, follow-the-sun hours, layers highest first, overrides above every layer, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.oncall import Hours, Layer, Override, Schedule, Source

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def berlin_weekly(users=("U01", "U02", "U03")) -> Layer:
    return Layer(tuple(users), timedelta(weeks=1), datetime(2026, 11, 30, 9), "Europe/Berlin")


def new_york_daytime() -> Layer:
    return Layer(("U07", "U08"), timedelta(days=1), datetime(2026, 11, 30, 17), "America/New_York",
                 Hours(WEEKDAYS, time(9), time(17)))


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def test_a_weekly_rotation_names_one_person_per_week_from_its_handoff():
    layer = berlin_weekly()
    assert layer.on_call(at(BERLIN, 2026, 11, 30, 9)) == "U01"
    assert layer.on_call(at(BERLIN, 2026, 12, 7, 8, 59)) == "U01"
    assert layer.on_call(at(BERLIN, 2026, 12, 7, 9)) == "U02"
    assert layer.on_call(at(BERLIN, 2026, 12, 14, 9)) == "U03"
    assert layer.on_call(at(BERLIN, 2026, 12, 21, 9)) == "U01"


def test_before_its_first_handoff_the_rotation_runs_backwards():
    layer = berlin_weekly()
    assert layer.on_call(at(BERLIN, 2026, 11, 30, 8, 59)) == "U03"
    assert layer.on_call(at(BERLIN, 2026, 11, 16, 9)) == "U02"


@pytest.mark.parametrize("week_of", [datetime(2027, 3, 29), datetime(2027, 11, 1), datetime(2027, 10, 25)])
def test_a_weekly_0900_handoff_stays_at_0900_local_across_daylight_saving(week_of):
    """Europe/Berlin moves its clocks on 2027-03-28 and 2027-10-31: the handoffs either side are still at 09:00."""
    schedule = Schedule((berlin_weekly(),))
    handoffs = schedule.handoffs(week_of.replace(tzinfo=UTC) - timedelta(weeks=2),
                                 week_of.replace(tzinfo=UTC) + timedelta(weeks=2))
    assert len(handoffs) == 4
    assert {h.at.astimezone(BERLIN).time() for h in handoffs} == {time(9)}
    assert {h.at.astimezone(BERLIN).weekday() for h in handoffs} == {0}
    offsets = {h.at.astimezone(BERLIN).utcoffset() for h in handoffs}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # both sides of a change


def test_a_daily_handoff_at_the_skipped_hour_happens_once_right_after_the_skip():
    """2027-03-28 02:30 does not exist in Berlin: that day's handoff happens when the clocks have jumped."""
    layer = Layer(("A", "B"), timedelta(days=1), datetime(2027, 3, 20, 2, 30), "Europe/Berlin")
    handoffs = Schedule((layer,)).handoffs(at(BERLIN, 2027, 3, 27, 12), at(BERLIN, 2027, 3, 29, 12))
    assert [h.at.astimezone(BERLIN).replace(tzinfo=None) for h in handoffs] == [
        datetime(2027, 3, 28, 3, 30), datetime(2027, 3, 29, 2, 30)]
    assert [h.on.user for h in handoffs] == ["A", "B"]


def test_a_two_week_rotation():
    layer = Layer(("U05", "U06"), timedelta(weeks=2), datetime(2026, 12, 7, 10), "UTC")
    schedule = Schedule((layer,))
    handoffs = schedule.handoffs(datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC))
    assert [(h.at, h.off.user, h.on.user) for h in handoffs] == [
        (datetime(2026, 12, 7, 10, tzinfo=UTC), "U06", "U05"),
        (datetime(2026, 12, 21, 10, tzinfo=UTC), "U05", "U06"),
        (datetime(2027, 1, 4, 10, tzinfo=UTC), "U06", "U05"),
        (datetime(2027, 1, 18, 10, tzinfo=UTC), "U05", "U06"),
    ]


def test_a_twelve_hour_rotation_keeps_its_local_times_across_daylight_saving():
    layer = Layer(("D", "N"), timedelta(hours=12), datetime(2027, 3, 1, 8), "America/New_York")
    handoffs = Schedule((layer,)).handoffs(at(NEW_YORK, 2027, 3, 13, 12), at(NEW_YORK, 2027, 3, 15, 12))
    assert {h.at.astimezone(NEW_YORK).time() for h in handoffs} == {time(8), time(20)}
    assert [h.on.user for h in handoffs] == ["N", "D", "N", "D"]


def test_follow_the_sun_hours_cover_weekdays_in_new_york_only():
    layer = new_york_daytime()
    assert layer.on_call(at(NEW_YORK, 2026, 12, 1, 10)) == "U07"  # Tuesday: the first period began Monday 17:00
    assert layer.on_call(at(NEW_YORK, 2026, 12, 1, 16, 59)) == "U07"
    assert layer.on_call(at(NEW_YORK, 2026, 12, 1, 17)) is None
    assert layer.on_call(at(NEW_YORK, 2026, 12, 2, 8, 59)) is None
    assert layer.on_call(at(NEW_YORK, 2026, 12, 2, 9)) == "U08"
    assert layer.on_call(at(NEW_YORK, 2026, 12, 5, 12)) is None  # Saturday


def test_the_first_layer_with_someone_on_call_wins():
    schedule = Schedule((new_york_daytime(), berlin_weekly()))
    assert schedule.at(at(NEW_YORK, 2026, 12, 1, 10)).who == ("U07", Source.LAYER, 1, None)
    assert schedule.at(at(NEW_YORK, 2026, 12, 1, 18)).who == ("U01", Source.LAYER, 2, None)


def test_now_and_next_say_until_when_and_who_follows():
    schedule = Schedule((new_york_daytime(), berlin_weekly()))
    current, following = schedule.now_and_next(at(NEW_YORK, 2026, 12, 1, 10))
    assert current.end == at(NEW_YORK, 2026, 12, 1, 17)
    assert following is not None and following.user == "U01" and following.layer == 2


def test_an_override_beats_every_layer_and_the_latest_override_wins():
    schedule = Schedule((berlin_weekly(),))
    first = Override(1, "L1", "U09", at(BERLIN, 2026, 12, 1, 12), at(BERLIN, 2026, 12, 3, 12))
    second = Override(2, "L1", "U10", at(BERLIN, 2026, 12, 2, 12), at(BERLIN, 2026, 12, 2, 18))
    overrides = [first, second]
    assert schedule.at(at(BERLIN, 2026, 12, 1, 11), overrides).user == "U01"
    assert schedule.at(at(BERLIN, 2026, 12, 1, 12), overrides).who == ("U09", Source.OVERRIDE, None, 1)
    assert schedule.at(at(BERLIN, 2026, 12, 2, 13), overrides).who == ("U10", Source.OVERRIDE, None, 2)
    assert schedule.at(at(BERLIN, 2026, 12, 2, 18), overrides).user == "U09"
    handoffs = schedule.handoffs(at(BERLIN, 2026, 12, 1), at(BERLIN, 2026, 12, 4), overrides)
    assert [(h.at, h.off.user, h.on.user) for h in handoffs] == [
        (at(BERLIN, 2026, 12, 1, 12), "U01", "U09"), (at(BERLIN, 2026, 12, 2, 12), "U09", "U10"),
        (at(BERLIN, 2026, 12, 2, 18), "U10", "U09"), (at(BERLIN, 2026, 12, 3, 12), "U09", "U01")]


def test_an_override_fills_a_gap_and_an_empty_schedule_is_all_gap():
    schedule = Schedule((new_york_daytime(),))
    saturday = at(NEW_YORK, 2026, 12, 5, 12)
    assert schedule.at(saturday).who == (None, Source.GAP, None, None)
    cover = Override(3, "L1", "U09", saturday - timedelta(hours=1), saturday + timedelta(hours=1))
    assert schedule.at(saturday, [cover]).user == "U09"
    assert Schedule().at(saturday).source is Source.GAP


def test_gaps_list_the_uncovered_stretches():
    schedule = Schedule((new_york_daytime(),))
    gaps = schedule.gaps(at(NEW_YORK, 2026, 12, 1, 12), at(NEW_YORK, 2026, 12, 2, 12))
    assert [(g.start, g.end) for g in gaps] == [(at(NEW_YORK, 2026, 12, 1, 17), at(NEW_YORK, 2026, 12, 2, 9))]
    assert Schedule((berlin_weekly(),)).gaps(at(BERLIN, 2026, 12, 1), at(BERLIN, 2027, 1, 1)) == []


def test_a_layer_refuses_what_cannot_rotate():
    with pytest.raises(ValueError):
        Layer((), timedelta(days=1), datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Layer(("A",), timedelta(0), datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Layer(("A",), timedelta(days=1), datetime(2026, 1, 1, tzinfo=UTC))


# properties

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"]
PERIODS = [timedelta(hours=8), timedelta(hours=12), timedelta(days=1), timedelta(days=3), timedelta(weeks=1),
           timedelta(weeks=2)]
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31),
                        timezones=st.just(UTC))


@st.composite
def layers(draw, *, with_hours: bool | None = None) -> Layer:
    users = tuple(draw(st.lists(st.sampled_from(["A", "B", "C", "D", "E"]), min_size=1, max_size=4, unique=True)))
    handoff = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31))).replace(
        second=0, microsecond=0)
    hours = None
    if with_hours or (with_hours is None and draw(st.booleans())):
        start = draw(st.integers(0, 22))
        end = draw(st.integers(start + 1, 23))
        days = frozenset(draw(st.lists(st.integers(0, 6), min_size=1, unique=True)))
        hours = Hours(days, time(start), time(end))
    return Layer(users, draw(st.sampled_from(PERIODS)), handoff, draw(st.sampled_from(ZONES)), hours)


def _inside_hours(layer: Layer, moment: datetime) -> bool:
    if layer.hours is None:
        return True
    local = moment.astimezone(layer.zone)
    return local.weekday() in layer.hours.days and layer.hours.start <= local.time() < layer.hours.end


@settings(max_examples=150, deadline=None)
@given(layers(), instants)
def test_exactly_one_person_per_layer_at_any_instant_inside_its_hours(layer: Layer, moment: datetime):
    found = layer.segments(moment, moment + timedelta(microseconds=1))
    if layer.hours is None or (_inside_hours(layer, moment) and not _skipped_by_the_clocks(layer, moment)):
        assert len(found) == 1 and found[0].user in layer.users  # without hours, someone always is
    elif not _skipped_by_the_clocks(layer, moment):
        assert found == []


def _skipped_by_the_clocks(layer: Layer, moment: datetime) -> bool:
    """The hours' edges sit on wall-clock times; on a day the clocks skip one, the window moves with the clocks."""
    local = moment.astimezone(layer.zone)
    return local.utcoffset() != (local - timedelta(hours=3)).utcoffset() or local.utcoffset() != (
        local + timedelta(hours=3)).utcoffset()


@settings(max_examples=150, deadline=None)
@given(layers(with_hours=False), instants)
def test_the_shifts_of_a_window_cover_it_exactly_with_no_gap_without_hours(layer: Layer, moment: datetime):
    end = moment + timedelta(days=20)
    shifts = Schedule((layer,)).shifts(moment, end)
    assert shifts[0].start == moment and shifts[-1].end == end
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))
    assert all(s.source is Source.LAYER for s in shifts)


@settings(max_examples=150, deadline=None)
@given(layers(with_hours=False), instants)
def test_handoffs_happen_at_the_configured_local_time(layer: Layer, moment: datetime):
    if len(layer.users) < 2:
        return
    handoffs = Schedule((layer,)).handoffs(moment, moment + timedelta(days=30))
    assert handoffs
    for handoff in handoffs:
        local = handoff.at.astimezone(layer.zone)
        if local.utcoffset() == (handoff.at - timedelta(hours=3)).astimezone(layer.zone).utcoffset():
            elapsed = local.replace(tzinfo=None) - layer.handoff
            assert elapsed % layer.every == timedelta(0), (local, layer)


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=3), instants, st.integers(1, 72), st.integers(0, 48))
def test_an_override_wins_over_every_layer(stack: list[Layer], moment: datetime, hours: int, into: int):
    override = Override(7, "L1", "OVERRIDDEN", moment, moment + timedelta(hours=hours))
    schedule = Schedule(tuple(stack))
    inside = moment + timedelta(hours=min(into, hours - 1))
    assert schedule.at(inside, [override]).who == ("OVERRIDDEN", Source.OVERRIDE, None, 7)
    after = moment + timedelta(hours=hours)
    assert schedule.at(after, [override]).user != "OVERRIDDEN"


@settings(max_examples=100, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=3), instants)
# a gap that begins inside the first window and ends past it: the handoff names the gap's true end
@example([Layer(("A",), timedelta(hours=8), datetime(2026, 1, 1), "UTC",
                Hours(frozenset({0}), time(0), time(1)))], datetime(2025, 12, 1, tzinfo=UTC))
def test_looking_ahead_in_growing_windows_finds_what_the_whole_horizon_shows(stack: list[Layer], moment: datetime):
    schedule = Schedule(tuple(stack), horizon=timedelta(days=30))
    whole = schedule.shifts(moment, moment + schedule.horizon)
    current, following = schedule.now_and_next(moment)
    assert current == whole[0]
    assert following == (whole[1] if len(whole) > 1 else None)
    changes = schedule.handoffs(moment, moment + schedule.horizon)
    assert schedule.next_handoff(moment) == (changes[0] if changes else None)
    assert schedule.gaps(moment, moment + timedelta(days=14)) == [
        s for s in schedule.shifts(moment, moment + timedelta(days=14)) if s.source is Source.GAP]
