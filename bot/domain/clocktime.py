"""Counting time for SLA clocks: around the clock or in business hours, minus paused time.

A clock counts from its start. With ``BusinessHours`` it counts only inside each working day's window (local
wall-clock ``start``..``end`` in the calendar's time zone, on the calendar's weekdays, holidays excepted);
without, it counts all the time. Either way it does not count while paused. Everything here is a function of
its arguments (no clock reads); inputs must be timezone-aware, outputs are aware UTC.

A working day's window opens at the first instant the local clock reads ``start`` or later and closes at the
first instant it reads ``end`` or later. So a wall time inside a spring-forward gap means the instant the gap
ends, and a wall time that occurs twice at a fall-back means its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Pause = tuple[datetime, datetime | None]  # (paused at, resumed at or None while still paused)

SEARCH_WEEKS = 400  # due_at gives up (ValueError) when business hours would need more calendar than this
_DAY = timedelta(days=1)
_FOREVER = datetime.max.replace(tzinfo=UTC)  # the end of a pause that has not ended


@dataclass(frozen=True)
class BusinessHours:
    """The hours a clock counts in: ``days`` (Monday=0 … Sunday=6) from ``start`` to ``end`` local wall-clock
    time in ``timezone`` (an IANA name), except on ``holidays`` (local dates)."""

    timezone: str
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ValueError(f"business hours: {self.timezone!r} is not an IANA time zone (e.g. Europe/Berlin)"
                             ) from None
        days = _frozen(self.days, "days")
        if not days:
            raise ValueError("business hours: days must name at least one weekday (Monday=0 … Sunday=6)")
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValueError(f"business hours: days must be weekday numbers 0-6 (Monday=0), got {sorted(days)}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"business hours: {name} must be a local wall-clock time without tzinfo")
        if self.start >= self.end:
            raise ValueError(f"business hours: start {self.start} must be before end {self.end}")
        holidays = _frozen(self.holidays, "holidays")
        if any(isinstance(h, datetime) or not isinstance(h, date) for h in holidays):
            raise ValueError("business hours: holidays must be dates")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "holidays", holidays)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC instants the business hours of local date ``day`` open and close (None on a day off)."""
        if day.weekday() not in self.days or day in self.holidays:
            return None
        zone = self.zone
        return _to_utc(datetime.combine(day, self.start, zone)), _to_utc(datetime.combine(day, self.end, zone))


def counting_intervals(start: datetime, until: datetime, hours: BusinessHours | None,
                       pauses: Sequence[Pause] = ()) -> list[tuple[datetime, datetime]]:
    """The parts of [start, until) in which the clock counts: in business hours (all of it when ``hours`` is
    None) and outside every pause. Sorted, non-overlapping, aware UTC."""
    start, until = _utc(start, "start"), _utc(until, "until")
    merged = _merge(pauses)
    if until <= start:
        return []
    return list(_counting(start, until, hours, merged))


def counted(start: datetime, until: datetime, hours: BusinessHours | None,
            pauses: Sequence[Pause] = ()) -> timedelta:
    """How much the clock has counted from ``start`` by ``until`` (timedelta(0) when until <= start)."""
    return sum((b - a for a, b in counting_intervals(start, until, hours, pauses)), timedelta(0))


def due_at(start: datetime, amount: timedelta, hours: BusinessHours | None,
           pauses: Sequence[Pause] = ()) -> datetime | None:
    """The earliest instant t >= start with counted(start, t) == amount (aware UTC).

    ``amount`` 0 gives the first instant at or after ``start`` at which the clock counts. None when a pause
    that has not ended (resumed at None) stops the clock before it gets there. ValueError when business hours
    give too little time within SEARCH_WEEKS weeks of calendar after ``start`` (e.g. holidays on every day).
    """
    start = _utc(start, "start")
    if not isinstance(amount, timedelta) or amount < timedelta(0):
        raise ValueError(f"amount must be a timedelta >= 0, got {amount!r}")
    merged = _merge(pauses)
    open_since = merged[-1][0] if merged and merged[-1][1] == _FOREVER else None
    horizon = _FOREVER if hours is None else start + timedelta(weeks=SEARCH_WEEKS)
    stop = horizon if open_since is None else min(open_since, horizon)
    left = amount
    if start < stop:
        for a, b in _counting(start, stop, hours, merged):
            if left <= b - a:
                return a + left
            left -= b - a
    if open_since is not None and open_since <= horizon:
        return None
    raise ValueError(f"business hours in {hours.timezone if hours else 'UTC'} do not give {amount} of counting "
                     f"time within {SEARCH_WEEKS} weeks of {start.isoformat()}")


def _counting(start: datetime, stop: datetime, hours: BusinessHours | None,
              pauses: list[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime]]:
    """Counting intervals within [start, stop), in order: business windows with the (merged) pauses cut out."""
    windows = [(start, stop)] if hours is None else _windows(hours, start, stop)
    i = 0
    for a, b in windows:
        while i < len(pauses) and pauses[i][1] <= a:
            i += 1
        cursor = a
        for paused, resumed in pauses[i:]:
            if paused >= b:
                break
            if paused > cursor:
                yield cursor, paused
            cursor = max(cursor, resumed)
            if cursor >= b:
                break
        if cursor < b:
            yield cursor, b


def _windows(hours: BusinessHours, start: datetime, stop: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business-hour windows clipped to [start, stop), in order, one local date at a time."""
    day = start.astimezone(hours.zone).date() - _DAY  # a day early: cheap insurance against odd zone histories
    last = stop.date()  # UTC; local dates are within a day of it, and stop may be near datetime.max
    while (day - last).days <= 1:
        window = hours.window(day)
        if window is not None:
            opens, closes = max(window[0], start), min(window[1], stop)
            if window[0] >= stop:
                return
            if opens < closes:
                yield opens, closes
        day += _DAY


def _to_utc(local: datetime) -> datetime:
    """The first instant at which the local clock reads ``local`` or later (aware UTC)."""
    before = local.utcoffset()
    after = local.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    naive = local.replace(tzinfo=None)
    if before >= after:  # an ordinary time, or one repeated at a fall-back: its first occurrence
        return (naive - before).replace(tzinfo=UTC)
    # In a spring-forward gap: the wall clock skips it, so the answer is the instant of the transition, which
    # lies between the readings with either offset. Offsets stay constant on each side; bisect to it.
    zone = local.tzinfo
    lo, hi = (naive - after).replace(tzinfo=UTC), (naive - before).replace(tzinfo=UTC)
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _merge(pauses: Iterable[Pause]) -> list[tuple[datetime, datetime]]:
    """Pauses in UTC, sorted, overlapping and touching ones merged, empty ones dropped; open ones end never."""
    spans = []
    for paused, resumed in pauses:
        begin = _utc(paused, "pause start")
        finish = _FOREVER if resumed is None else _utc(resumed, "pause end")
        if finish < begin:
            raise ValueError(f"pause resumed at {finish.isoformat()} before it began at {begin.isoformat()}")
        if finish > begin:
            spans.append((begin, finish))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def _frozen(values: Iterable[object], name: str) -> frozenset:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"business hours: {name} must be a collection, got {values!r}")
    return frozenset(values)
