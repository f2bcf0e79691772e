"""Report periods as people write them: the last ``7d``/``30d``/``90d`` (any whole number of days or weeks), or a
range of calendar dates (UTC) from ``--from`` to ``--to``, both days included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain.errors import InvalidInput

MAX_DAYS = 3660  # ten years
_LAST = re.compile(r"^(\d+)([dw])$")
SINCE_FORM = "write it like 7d, 30d or 90d (days) or 2w (weeks)"
DATE_FORM = "write it like 2026-11-01 (YYYY-MM-DD)"


@dataclass(frozen=True)
class Period:
    """[since, until): incidents declared in it are counted in it."""

    since: datetime
    until: datetime
    label: str  # "the last 30 days", "2026-11-01 to 2026-11-30"

    @property
    def days(self) -> float:
        return (self.until - self.since) / timedelta(days=1)


def last(text: str, now: datetime, option: str = "--since") -> Period:
    """The last N days (``30d``) or weeks (``2w``) up to ``now``."""
    match = _LAST.match(text.strip().lower())
    if match is None:
        raise InvalidInput(option, f"{option} {text!r} is not a period; {SINCE_FORM}.")
    count, unit = int(match[1]), match[2]
    days = count * (7 if unit == "w" else 1)
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(option, f"{option} {text!r} must be between 1d and {MAX_DAYS}d; {SINCE_FORM}.")
    noun = ("week" if unit == "w" else "day") + ("s" if count != 1 else "")
    return Period(now - timedelta(days=days), now, f"the last {count} {noun}" if count != 1 else f"the last {noun}")


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(option, f"{option} {text!r} is not a date; {DATE_FORM}.") from None


def between(start: str, end: str | None, now: datetime) -> Period:
    """From the start of day ``start`` to the end of day ``end`` (UTC), or to ``now`` when there is no end."""
    first = parse_date(start, "--from")
    since = datetime.combine(first, time(0), UTC)
    if end is None:
        if since >= now:
            raise InvalidInput("--from", f"--from {start} is not in the past; {DATE_FORM}.")
        return Period(since, now, f"{first.isoformat()} to now")
    final = parse_date(end, "--to")
    if final < first:
        raise InvalidInput("--to", f"--from {first.isoformat()} is after --to {final.isoformat()}; "
                                   "--from is the first day, --to the last.")
    if (final - first).days >= MAX_DAYS:
        raise InvalidInput("--to", f"--from … --to spans more than {MAX_DAYS} days; pick a shorter range.")
    return Period(since, datetime.combine(final + timedelta(days=1), time(0), UTC),
                  f"{first.isoformat()} to {final.isoformat()}")
