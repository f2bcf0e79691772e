"""On-call rotations as pure functions of (schedule, overrides, time): who is on call in a tier at an instant, the
shifts of a window, and the handoffs (shift changes) to come.

A tier's schedule is a list of layers, highest first; at each instant the first layer with someone on call wins, and
an override beats every layer. A layer rotates its users one per period (``every``) from its ``handoff``, a wall-clock
time in its own time zone: the periods are counted on the local calendar (python-dateutil's rrule), so a weekly 09:00
handoff stays at 09:00 local across daylight-saving changes. A layer with ``hours`` has someone on call only inside
those local hours. An instant nobody covers is a gap.

Times given and returned are aware; the functions compare instants, never wall clocks, except where a layer turns
its own wall clock into instants.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, HOURLY, MINUTELY, SECONDLY, WEEKLY, rrule

from bot.domain.errors import InvalidInput
from bot.domain.permissions import NotAllowed

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


class Source(StrEnum):
    """Why someone is on call (or why nobody is)."""

    LAYER = "layer"
    OVERRIDE = "override"
    GAP = "gap"


@dataclass(frozen=True)
class Hours:
    """The local hours a layer covers: on ``days`` (0 = Monday), from ``start`` to ``end`` (end after start)."""

    days: frozenset[int]
    start: time
    end: time

    def windows(self, zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The covered stretches that meet [start, end), as instants."""
        found = []
        day = start.astimezone(zone).date() - DAY
        last = end.astimezone(zone).date()
        while day <= last:
            if day.weekday() in self.days:
                opens, closes = _instant(datetime.combine(day, self.start), zone), _instant(
                    datetime.combine(day, self.end), zone)
                if opens < end and closes > start and opens < closes:
                    found.append((max(opens, start), min(closes, end)))
            day += DAY
        return found


@dataclass(frozen=True)
class Layer:
    """One rotation: ``users`` in turn, one per ``every``, the first from ``handoff`` (naive local wall-clock time in
    ``timezone``). Before its first handoff the rotation runs backwards, so a layer covers all time (inside its
    hours)."""

    users: tuple[str, ...]
    every: timedelta
    handoff: datetime  # naive: wall-clock time in `timezone`
    timezone: str = "UTC"
    hours: Hours | None = None

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError("a layer needs at least one user")
        if self.every <= timedelta(0):
            raise ValueError("a layer's period must be longer than zero")
        if self.handoff.tzinfo is not None:
            raise ValueError("a layer's handoff is a local wall-clock time, without an offset")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _period(self, index: int) -> datetime:
        """The instant period ``index`` starts (0: the configured handoff; negative: before it)."""
        return _instant(self.handoff + index * self.every, self.zone)

    def _index_at(self, at: datetime) -> int:
        """The period that holds instant ``at``."""
        local = at.astimezone(self.zone).replace(tzinfo=None)
        index = (local - self.handoff) // self.every  # a first guess on the wall clock; DST may put it one off
        while self._period(index) > at:
            index -= 1
        while self._period(index + 1) <= at:
            index += 1
        return index

    def _rule(self, first: int) -> rrule:
        """The periods' wall-clock starts from period ``first`` on, as a calendar recurrence."""
        seconds = int(self.every.total_seconds())
        for size, freq in ((WEEK, WEEKLY), (DAY, DAILY), (timedelta(hours=1), HOURLY), (timedelta(minutes=1),
                                                                                        MINUTELY)):
            unit = int(size.total_seconds())
            if seconds % unit == 0:
                return rrule(freq, interval=seconds // unit, dtstart=self.handoff + first * self.every)
        return rrule(SECONDLY, interval=seconds, dtstart=self.handoff + first * self.every)

    def rotation(self, start: datetime, end: datetime) -> list[Segment]:
        """Who the rotation names across [start, end), ignoring hours."""
        first = self._index_at(start)
        segments: list[Segment] = []
        index = first
        begins = self._period(first)
        for local in self._rule(first).xafter(self.handoff + first * self.every, inc=False):
            ends = _instant(local, self.zone)
            if ends > begins:  # a period that falls in a skipped hour (spring forward) has no length
                segments.append(Segment(max(begins, start), min(ends, end), self.users[index % len(self.users)]))
            index += 1
            if ends >= end:
                break
            begins = max(begins, ends)
        return [s for s in segments if s.start < s.end]

    def segments(self, start: datetime, end: datetime) -> list[Segment]:
        """Who this layer has on call across [start, end): the rotation, cut to the layer's hours."""
        rotation = self.rotation(start, end)
        if self.hours is None:
            return rotation
        cut = []
        for opens, closes in self.hours.windows(self.zone, start, end):
            for segment in rotation:
                lo, hi = max(opens, segment.start), min(closes, segment.end)
                if lo < hi:
                    cut.append(Segment(lo, hi, segment.user))
        return cut

    def on_call(self, at: datetime) -> str | None:
        found = self.segments(at, at + timedelta(microseconds=1))
        return found[0].user if found else None


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    user: str


@dataclass(frozen=True)
class Override:
    """``user`` is on call in ``tier`` from ``start`` to ``end``, whatever the layers say. ``id`` is its number."""

    id: int
    tier: str
    user: str
    start: datetime
    end: datetime
    created_by: str = ""


@dataclass(frozen=True)
class Shift:
    """Who is on call across [start, end) and why: a layer (its position, 1 = highest), an override, or a gap."""

    start: datetime
    end: datetime
    user: str | None
    source: Source
    layer: int | None = None
    override: int | None = None

    @property
    def who(self) -> tuple[str | None, Source, int | None, int | None]:
        return self.user, self.source, self.layer, self.override

    def describe(self) -> str:
        if self.source is Source.OVERRIDE:
            return f"override #{self.override}"
        if self.source is Source.LAYER:
            return f"layer {self.layer}"
        return "gap"


@dataclass(frozen=True)
class Handoff:
    """A shift change at ``at``: ``off`` goes off, ``on`` comes on (None: nobody, a gap)."""

    at: datetime
    off: Shift
    on: Shift


@dataclass(frozen=True)
class TierOnCall:
    """A tier at an instant: who its schedule has on call (and until when), who is next, and its members (always
    paged too)."""

    tier: str
    current: Shift
    following: Shift | None
    members: tuple[str, ...]
    scheduled: bool  # whether the tier has a schedule at all


@dataclass(frozen=True)
class Schedule:
    """A tier's layers, highest first."""

    layers: tuple[Layer, ...] = ()
    horizon: timedelta = field(default=timedelta(days=60))  # how far `now_and_next` looks for a change

    def shifts(self, start: datetime, end: datetime, overrides: Sequence[Override] = ()) -> list[Shift]:
        """The shifts covering [start, end) exactly, adjacent ones with the same person and reason merged."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if start >= end:
            return []
        per_layer = [layer.segments(start, end) for layer in self.layers]
        live = [o for o in overrides if o.start < end and o.end > start]
        edges = {start, end}
        for segments in per_layer:
            for s in segments:
                edges.update((s.start, s.end))
        for o in live:
            edges.update((max(o.start, start), min(o.end, end)))
        points = sorted(e.astimezone(UTC) for e in edges if start <= e <= end)
        shifts: list[Shift] = []
        cursors = [0] * len(per_layer)
        for lo, hi in zip(points, points[1:], strict=False):
            shift = self._who(lo, hi, per_layer, cursors, live)
            if shifts and shifts[-1].who == shift.who and shifts[-1].end == shift.start:
                shifts[-1] = Shift(shifts[-1].start, shift.end, *shift.who)
            else:
                shifts.append(shift)
        return shifts

    @staticmethod
    def _who(lo: datetime, hi: datetime, per_layer: list[list[Segment]], cursors: list[int],
             overrides: Sequence[Override]) -> Shift:
        covering = [o for o in overrides if o.start <= lo and o.end >= hi]
        if covering:
            winner = max(covering, key=lambda o: o.id)  # the latest override wins over earlier ones
            return Shift(lo, hi, winner.user, Source.OVERRIDE, override=winner.id)
        for position, segments in enumerate(per_layer):
            while cursors[position] < len(segments) and segments[cursors[position]].end <= lo:
                cursors[position] += 1
            if cursors[position] < len(segments) and segments[cursors[position]].start <= lo:
                return Shift(lo, hi, segments[cursors[position]].user, Source.LAYER, layer=position + 1)
        return Shift(lo, hi, None, Source.GAP)

    def at(self, at: datetime, overrides: Sequence[Override] = ()) -> Shift:
        """The shift that holds instant ``at`` (its start and end cut to a day around it)."""
        return self.now_and_next(at, overrides)[0]

    def _windows(self, start: datetime) -> Iterator[datetime]:
        """Ends of ever larger windows from ``start`` (a few periods first, doubling up to the horizon): a short
        rotation is not computed for two months to find its next change."""
        longest = max((layer.every for layer in self.layers), default=DAY)
        step = max(longest * 4, timedelta(days=4) if any(layer.hours for layer in self.layers) else longest * 4)
        while step < self.horizon:
            yield start + step
            step *= 2
        yield start + self.horizon

    def now_and_next(self, at: datetime, overrides: Sequence[Override] = ()) -> tuple[Shift, Shift | None]:
        """The shift holding ``at`` (with its true end, within the horizon) and the one after it."""
        for end in self._windows(at):
            shifts = self.shifts(at, end, overrides)
            if len(shifts) >= 3:  # the next shift's own end is inside the window too
                break
        return shifts[0], shifts[1] if len(shifts) > 1 else None

    def handoffs(self, start: datetime, end: datetime, overrides: Sequence[Override] = ()) -> list[Handoff]:
        """Every shift change in (start, end]: each instant the person on call changes."""
        shifts = self.shifts(start, end + timedelta(microseconds=1), overrides)
        return [Handoff(after.start, before, after) for before, after in zip(shifts, shifts[1:], strict=False)
                if before.user != after.user and start < after.start <= end]

    def next_handoff(self, after: datetime, overrides: Sequence[Override] = ()) -> Handoff | None:
        """The first shift change after ``after``, within the horizon, with the true end of the shift it begins (a
        window that cuts that shift short is widened, as in `now_and_next`)."""
        last = after + self.horizon
        for end in self._windows(after):
            shifts = self.shifts(after, end + timedelta(microseconds=1), overrides)
            for before, on in zip(shifts, shifts[1:], strict=False):
                if before.user != on.user and after < on.start <= end:
                    if on is not shifts[-1] or end >= last:
                        return Handoff(on.start, before, on)
                    break  # the new shift runs past this window: look again in a wider one
        return None

    def gaps(self, start: datetime, end: datetime, overrides: Sequence[Override] = ()) -> list[Shift]:
        if any(layer.hours is None for layer in self.layers):
            return []  # a layer without hours always has someone on call
        return [s for s in self.shifts(start, end, overrides) if s.source is Source.GAP]


EARLIEST = timedelta(minutes=5)  # a start written for "now" that this much in the past still counts as now


def override_window(now: datetime, zone: str, *, duration: timedelta | None = None, start: datetime | None = None,
                    end: datetime | None = None) -> tuple[datetime, datetime]:
    """An override's start and end as instants: ``duration`` from now, or until the local time ``end``, or from the
    local ``start`` until ``end`` (local times are naive, in ``zone``: the person's own time zone). Refuses one that
    ends before it starts or is already over."""
    tz = ZoneInfo(zone)
    begins = _instant(start, tz) if start is not None else now
    if start is not None and begins < now - EARLIEST:
        raise InvalidInput("from", f"{_shown(start)} ({zone}) is in the past; an override starts now or later.")
    begins = max(begins, now)
    if duration is not None:
        return begins, begins + duration
    if end is None:
        raise InvalidInput("until", "Say how long: a duration like `8h`, or `until YYYY-MM-DD HH:MM`.")
    ends = _instant(end, tz)
    if ends <= now:
        raise InvalidInput("until", f"{_shown(end)} ({zone}) is in the past; an override must end later.")
    if ends <= begins:
        raise InvalidInput("until", f"The override would end ({_shown(end)}) before it starts; write the end later "
                                    "than the start.")
    return begins, ends


def check_may_override(actor: str, user: str, admins: Sequence[str]) -> None:
    """Anyone may put themselves on call; admins may put anyone."""
    if actor != user and actor not in admins:
        raise NotAllowed("You can override only yourself in; Firebell admins (firebell.yml `admins`) can override "
                         "anyone.")


def check_may_cancel(actor: str, override: Override, admins: Sequence[str]) -> None:
    if actor not in (override.user, override.created_by) and actor not in admins:
        raise NotAllowed(f"Override #{override.id} is <@{override.user}>'s: only they, whoever made it, or a Firebell "
                         "admin can cancel it.")


def _shown(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M")


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as an aware UTC instant. A time the clocks skip (spring forward) is read with the
    offset before the change, i.e. it lands after the skip; a time they repeat (fall back) is its first occurrence."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)

