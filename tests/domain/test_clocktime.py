from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.clocktime import BusinessHours, counted, counting_intervals, due_at

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessHours("Europe/Berlin")  # Mon–Fri 09:00–17:00
H = timedelta(hours=1)
M = timedelta(minutes=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


# 2026-03-06 is a Friday; Berlin springs forward on Sunday 2026-03-29 and falls back on Sunday 2026-10-25,
# New York on Sunday 2026-03-08 and Sunday 2026-11-01.
FRIDAY_3PM = berlin(2026, 3, 6, 15, 0)
MONDAY_9AM = berlin(2026, 3, 9, 9, 0)


# Around the clock


def test_around_the_clock_counts_elapsed_time_and_answers_in_utc():
    start = datetime(2026, 3, 6, 23, 30, tzinfo=BERLIN)
    due = due_at(start, 4 * H, None)
    assert due == datetime(2026, 3, 7, 3, 30, tzinfo=BERLIN)
    assert due is not None and due.tzinfo is UTC
    assert counted(start, start + 90 * M, None) == 90 * M
    assert counting_intervals(start, start + H, None) == [(start.astimezone(UTC), (start + H).astimezone(UTC))]


def test_nothing_is_counted_before_the_start():
    assert counted(FRIDAY_3PM, FRIDAY_3PM, None) == timedelta(0)
    assert counted(FRIDAY_3PM, FRIDAY_3PM - H, OFFICE) == timedelta(0)
    assert counting_intervals(FRIDAY_3PM, FRIDAY_3PM - H, OFFICE) == []


def test_amount_zero_is_due_at_once_around_the_clock():
    assert due_at(FRIDAY_3PM, timedelta(0), None) == FRIDAY_3PM


# Business hours


def test_business_hours_carry_over_the_weekend():
    assert due_at(FRIDAY_3PM, 4 * H, OFFICE) == berlin(2026, 3, 9, 11, 0)
    assert counted(FRIDAY_3PM, berlin(2026, 3, 9, 11, 0), OFFICE) == 4 * H
    assert counting_intervals(FRIDAY_3PM, berlin(2026, 3, 9, 11, 0), OFFICE) == [
        (berlin(2026, 3, 6, 15, 0).astimezone(UTC), berlin(2026, 3, 6, 17, 0).astimezone(UTC)),
        (berlin(2026, 3, 9, 9, 0).astimezone(UTC), berlin(2026, 3, 9, 11, 0).astimezone(UTC)),
    ]


def test_a_holiday_pushes_the_deadline_further():
    thursday_3pm = berlin(2026, 3, 5, 15, 0)
    assert due_at(thursday_3pm, 4 * H, OFFICE) == berlin(2026, 3, 6, 11, 0)
    holiday_friday = BusinessHours("Europe/Berlin", holidays=frozenset({date(2026, 3, 6)}))
    assert due_at(thursday_3pm, 4 * H, holiday_friday) == berlin(2026, 3, 9, 11, 0)
    assert counted(thursday_3pm, berlin(2026, 3, 9, 9, 0), holiday_friday) == 2 * H


def test_a_start_on_saturday_begins_counting_monday_morning():
    saturday = berlin(2026, 3, 7, 12, 0)
    assert due_at(saturday, timedelta(0), OFFICE) == MONDAY_9AM
    assert due_at(saturday, H, OFFICE) == MONDAY_9AM + H
    assert counted(saturday, MONDAY_9AM, OFFICE) == timedelta(0)
    assert counted(saturday, MONDAY_9AM + 30 * M, OFFICE) == 30 * M


def test_a_start_in_the_evening_counts_from_the_next_morning():
    assert due_at(berlin(2026, 3, 9, 18, 0), 2 * H, OFFICE) == berlin(2026, 3, 10, 11, 0)
    assert due_at(berlin(2026, 3, 9, 7, 0), 2 * H, OFFICE) == berlin(2026, 3, 9, 11, 0)


def test_reminders_at_fractions_of_a_business_hours_window():
    start = berlin(2026, 3, 5, 13, 0)  # Thursday; an 8-hour window
    window = 8 * H
    # 4 h are counted the moment Thursday closes: the earliest instant, not Friday's opening.
    assert due_at(start, window * 0.5, OFFICE) == berlin(2026, 3, 5, 17, 0)
    assert due_at(start, window * 0.8, OFFICE) == berlin(2026, 3, 6, 11, 24)
    assert due_at(start, window, OFFICE) == berlin(2026, 3, 6, 13, 0)


def test_other_days_and_hours():
    weekends = BusinessHours("America/New_York", days=frozenset({5, 6}), start=time(10, 0), end=time(12, 30))
    assert due_at(new_york(2026, 3, 4, 12, 0), 3 * H, weekends) == new_york(2026, 3, 8, 10, 30)


def test_week_of_business_time_spans_weeks_of_calendar():
    # 7 days of business time = 21 working days of 8 h.
    assert due_at(MONDAY_9AM, timedelta(days=7), OFFICE) == berlin(2026, 4, 6, 17, 0)


# Pauses


def test_a_closed_pause_is_not_counted():
    start = berlin(2026, 3, 9, 10, 0)
    pause = (berlin(2026, 3, 9, 10, 30), berlin(2026, 3, 9, 11, 0))
    assert due_at(start, 2 * H, OFFICE, [pause]) == berlin(2026, 3, 9, 12, 30)
    assert due_at(start, 2 * H, None, [pause]) == berlin(2026, 3, 9, 12, 30)
    assert counted(start, berlin(2026, 3, 9, 12, 0), None, [pause]) == 90 * M


def test_an_open_pause_stops_the_clock_before_the_deadline():
    start = berlin(2026, 3, 9, 10, 0)
    open_pause = (berlin(2026, 3, 9, 11, 0), None)
    assert due_at(start, 2 * H, OFFICE, [open_pause]) is None
    assert due_at(start, 2 * H, None, [open_pause]) is None
    assert due_at(start, 30 * M, OFFICE, [open_pause]) == berlin(2026, 3, 9, 10, 30)
    assert due_at(start, H, None, [open_pause]) == berlin(2026, 3, 9, 11, 0)
    assert counted(start, berlin(2026, 3, 20, 12, 0), OFFICE, [open_pause]) == H


def test_an_open_pause_from_before_the_start_means_the_clock_never_counts():
    start = berlin(2026, 3, 9, 10, 0)
    open_pause = (start - H, None)
    assert due_at(start, timedelta(0), None, [open_pause]) is None
    assert due_at(start, H, OFFICE, [open_pause]) is None
    assert counting_intervals(start, start + 5 * H, OFFICE, [open_pause]) == []


def test_overlapping_pauses_count_once():
    start = berlin(2026, 3, 9, 10, 0)
    pauses = [(berlin(2026, 3, 9, 10, 45), berlin(2026, 3, 9, 11, 30)),
              (berlin(2026, 3, 9, 10, 30), berlin(2026, 3, 9, 11, 0)),
              (berlin(2026, 3, 9, 10, 50), berlin(2026, 3, 9, 10, 55))]
    for hours in (None, OFFICE):
        assert due_at(start, 2 * H, hours, pauses) == berlin(2026, 3, 9, 13, 0)
        assert counted(start, berlin(2026, 3, 9, 12, 0), hours, pauses) == H


def test_a_pause_partly_before_the_start():
    start = berlin(2026, 3, 9, 10, 0)
    pause = (berlin(2026, 3, 9, 8, 0), berlin(2026, 3, 9, 10, 30))
    for hours in (None, OFFICE):
        assert due_at(start, timedelta(0), hours, [pause]) == berlin(2026, 3, 9, 10, 30)
        assert due_at(start, H, hours, [pause]) == berlin(2026, 3, 9, 11, 30)


def test_a_pause_over_the_weekend_and_one_past_until():
    pause = (berlin(2026, 3, 6, 16, 0), berlin(2026, 3, 9, 10, 0))
    assert due_at(FRIDAY_3PM, 4 * H, OFFICE, [pause]) == berlin(2026, 3, 9, 13, 0)
    assert due_at(FRIDAY_3PM, 4 * H, None, [pause]) == berlin(2026, 3, 9, 13, 0)
    assert counted(FRIDAY_3PM, berlin(2026, 3, 6, 16, 30), OFFICE, [(berlin(2026, 3, 6, 16, 0), MONDAY_9AM)]) == H


def test_pauses_may_be_given_in_any_zone():
    start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # 10:00 Berlin
    pause = (new_york(2026, 3, 9, 5, 30), new_york(2026, 3, 9, 6, 0))  # 10:30–11:00 Berlin (EDT since 8 March)
    assert due_at(start, 2 * H, OFFICE, [pause]) == berlin(2026, 3, 9, 12, 30)


# Daylight saving time


def test_berlin_spring_forward_weekend():
    # Friday 27 March is CET (+01:00), Monday 30 March CEST (+02:00): 09:00 local is an hour earlier in UTC.
    friday = berlin(2026, 3, 27, 15, 0)
    due = due_at(friday, 4 * H, OFFICE)
    assert due == berlin(2026, 3, 30, 11, 0)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert counted(berlin(2026, 3, 27, 9, 0), berlin(2026, 3, 30, 17, 0), OFFICE) == 16 * H
    # Around the clock the Sunday has 23 hours.
    assert due_at(berlin(2026, 3, 28, 12, 0), 24 * H, None) == berlin(2026, 3, 29, 13, 0)


def test_berlin_fall_back_weekend():
    friday = berlin(2026, 10, 23, 15, 0)
    assert due_at(friday, 4 * H, OFFICE) == berlin(2026, 10, 26, 11, 0)
    assert due_at(friday, 4 * H, OFFICE) == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    week = counted(berlin(2026, 10, 19, 0, 0), berlin(2026, 11, 2, 0, 0), OFFICE)
    assert week == 10 * 8 * H
    assert due_at(berlin(2026, 10, 24, 12, 0), 24 * H, None) == berlin(2026, 10, 25, 11, 0)


def test_new_york_spring_forward_and_fall_back_weeks():
    office = BusinessHours("America/New_York")
    assert due_at(new_york(2026, 3, 6, 15, 0), 4 * H, office) == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    assert due_at(new_york(2026, 10, 30, 15, 0), 4 * H, office) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    assert counted(new_york(2026, 3, 2, 0, 0), new_york(2026, 3, 16, 0, 0), office) == 80 * H
    assert counted(new_york(2026, 10, 26, 0, 0), new_york(2026, 11, 9, 0, 0), office) == 80 * H


def test_hours_that_span_the_transition_are_shorter_or_longer():
    nights = BusinessHours("Europe/Berlin", days=frozenset(range(7)), start=time(0, 0), end=time(6, 0))
    assert counted(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), nights) == 5 * H
    assert counted(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), nights) == 7 * H


def test_a_wall_time_in_the_gap_means_the_first_instant_after_it():
    # Berlin skips 02:00–03:00 on 29 March: a 02:30 opening opens at 03:00 CEST (01:00 UTC).
    early = BusinessHours("Europe/Berlin", days=frozenset(range(7)), start=time(2, 30), end=time(4, 0))
    assert early.window(date(2026, 3, 29)) == (datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                                               datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    assert due_at(berlin(2026, 3, 29, 0, 0), timedelta(0), early) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    # New York skips 02:00–03:00 on 8 March: a 02:30 closing closes at 03:00 EDT (07:00 UTC).
    ny = BusinessHours("America/New_York", days=frozenset(range(7)), start=time(1, 30), end=time(2, 30))
    assert ny.window(date(2026, 3, 8)) == (datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
                                           datetime(2026, 3, 8, 7, 0, tzinfo=UTC))


def test_a_repeated_wall_time_means_its_first_occurrence():
    # Berlin repeats 02:00–03:00 on 25 October: 02:30 opens in CEST (00:30 UTC), 04:00 closes in CET.
    early = BusinessHours("Europe/Berlin", days=frozenset(range(7)), start=time(2, 30), end=time(4, 0))
    assert early.window(date(2026, 10, 25)) == (datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                                                datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    ny = BusinessHours("America/New_York", days=frozenset(range(7)), start=time(1, 30), end=time(2, 30))
    assert ny.window(date(2026, 11, 1)) == (datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                                            datetime(2026, 11, 1, 7, 30, tzinfo=UTC))


# Properties

CALENDARS = [
    None,
    OFFICE,
    BusinessHours("America/New_York", holidays=frozenset({date(2026, 7, 3), date(2026, 11, 26), date(2026, 12, 25)})),
    BusinessHours("Europe/Berlin", days=frozenset({0, 2, 5}), start=time(2, 30), end=time(4, 15)),  # DST hours
    BusinessHours("Australia/Lord_Howe", days=frozenset(range(7)), start=time(1, 45), end=time(2, 15)),  # 30-min DST
    BusinessHours("UTC", days=frozenset(range(7)), start=time(0, 0), end=time(23, 59, 59, 999999)),
]
ZONES = [UTC, BERLIN, NEW_YORK, ZoneInfo("Asia/Kolkata")]

starts = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(ZONES),
)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
offsets = st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=30))
lengths = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4))


def closed_pauses(start, draw_offsets):
    return [(start + offset, start + offset + length) for offset, length in draw_offsets]


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=amounts, hours=st.sampled_from(CALENDARS),
       pause_spans=st.lists(st.tuples(offsets, lengths), max_size=4))
def test_counted_until_due_is_the_amount(start, amount, hours, pause_spans):
    pauses = closed_pauses(start, pause_spans)
    due = due_at(start, amount, hours, pauses)
    assert due is not None and due.tzinfo is UTC and due >= start
    assert counted(start, due, hours, pauses) == amount
    if amount:  # the earliest such instant
        assert counted(start, due - timedelta(microseconds=1), hours, pauses) < amount
    else:  # the first counting instant
        assert counting_intervals(start, due + timedelta(days=60), hours, pauses)[0][0] == due


@settings(max_examples=200, deadline=None)
@given(start=starts, span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
       hours=st.sampled_from(CALENDARS), pause_spans=st.lists(st.tuples(offsets, lengths), max_size=4),
       open_at=st.none() | offsets)
def test_counting_intervals_are_ordered_disjoint_inside_and_unpaused(start, span, hours, pause_spans, open_at):
    pauses = closed_pauses(start, pause_spans) + ([] if open_at is None else [(start + open_at, None)])
    until = start + span
    intervals = counting_intervals(start, until, hours, pauses)
    assert all(a.tzinfo is UTC and b.tzinfo is UTC and a < b for a, b in intervals)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(intervals, intervals[1:], strict=False))
    assert all(start <= a and b <= until for a, b in intervals)
    for a, b in intervals:
        for paused, resumed in pauses:
            if resumed == paused:  # a pause resumed the instant it began excludes nothing
                continue
            assert b <= paused or (resumed is not None and resumed <= a)
    assert counted(start, until, hours, pauses) == sum((b - a for a, b in intervals), timedelta(0))


@settings(max_examples=60, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 10)).map(
           lambda d: d.replace(minute=d.minute // 15 * 15, second=0, microsecond=0, tzinfo=BERLIN)),
       quarters=st.integers(min_value=0, max_value=4 * 24 * 10),
       pause_quarters=st.lists(st.tuples(st.integers(-20, 400), st.integers(0, 200)), max_size=3))
def test_counted_agrees_with_counting_quarter_hours_by_hand(start, quarters, pause_quarters):
    quarter = timedelta(minutes=15)
    origin = start.astimezone(UTC)  # aware arithmetic on a Berlin datetime would add wall-clock time
    pauses = [(origin + a * quarter, origin + (a + n) * quarter) for a, n in pause_quarters]
    calendar = BusinessHours("Europe/Berlin", holidays=frozenset({date(2026, 4, 3), date(2026, 5, 1)}))
    expected = timedelta(0)
    for i in range(quarters):
        moment = (origin + i * quarter).astimezone(BERLIN)
        working = moment.weekday() in calendar.days and moment.date() not in calendar.holidays
        if working and time(9) <= moment.time() < time(17) and not any(p <= moment < r for p, r in pauses):
            expected += quarter
    assert counted(start, origin + quarters * quarter, calendar, pauses) == expected


# Bad input


@pytest.mark.parametrize("call", [
    lambda: due_at(datetime(2026, 3, 9, 10, 0), H, None),
    lambda: counted(FRIDAY_3PM, datetime(2026, 3, 9, 10, 0), OFFICE),
    lambda: counted(datetime(2026, 3, 6, 10, 0), FRIDAY_3PM, None),
    lambda: counting_intervals(FRIDAY_3PM, MONDAY_9AM, OFFICE, [(datetime(2026, 3, 6, 16, 0), None)]),
    lambda: due_at(FRIDAY_3PM, H, OFFICE, [(FRIDAY_3PM, datetime(2026, 3, 6, 16, 0))]),
])
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_a_negative_amount_or_a_pause_that_ends_before_it_begins_is_refused():
    with pytest.raises(ValueError, match="amount"):
        due_at(FRIDAY_3PM, -H, OFFICE)
    with pytest.raises(ValueError, match="before it began"):
        counted(FRIDAY_3PM, MONDAY_9AM, OFFICE, [(MONDAY_9AM, FRIDAY_3PM)])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"timezone": "Europe/Atlantis"}, "Europe/Atlantis"),
    ({"timezone": ""}, "IANA"),
    ({"timezone": "../etc/passwd"}, "IANA"),
    ({"timezone": "Europe/Berlin", "start": time(17), "end": time(9)}, "before end"),
    ({"timezone": "Europe/Berlin", "start": time(9), "end": time(9)}, "before end"),
    ({"timezone": "Europe/Berlin", "days": frozenset()}, "at least one"),
    ({"timezone": "Europe/Berlin", "days": frozenset({7})}, "0-6"),
    ({"timezone": "Europe/Berlin", "start": time(9, tzinfo=UTC)}, "without tzinfo"),
    ({"timezone": "Europe/Berlin", "holidays": frozenset({datetime(2026, 12, 25, tzinfo=UTC)})}, "dates"),
])
def test_bad_calendars_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BusinessHours(**kwargs)


def test_a_calendar_with_no_working_time_left_is_refused():
    mondays = frozenset(date(2026, 3, 9) + timedelta(weeks=w) for w in range(-1, 420))
    no_mondays = BusinessHours("Europe/Berlin", days=frozenset({0}), holidays=mondays)
    with pytest.raises(ValueError, match="within 400 weeks"):
        due_at(FRIDAY_3PM, H, no_mondays)
    assert counted(FRIDAY_3PM, FRIDAY_3PM + timedelta(weeks=10), no_mondays) == timedelta(0)


def test_calendars_are_hashable_values_and_take_any_collection():
    listed = BusinessHours("Europe/Berlin", days=[0, 1, 2, 3, 4], holidays=[date(2026, 12, 25)])  # type: ignore[arg-type]
    assert listed == BusinessHours("Europe/Berlin", holidays=frozenset({date(2026, 12, 25)}))
    assert hash(listed) == hash(BusinessHours("Europe/Berlin", holidays=frozenset({date(2026, 12, 25)})))
