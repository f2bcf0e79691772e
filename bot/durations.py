"""Durations as people write them in firebell.yml: ``90s``, ``5m``, ``4h``, ``3d`` or ISO-8601 ``PT5M``."""

from __future__ import annotations

import re
from datetime import timedelta

_SHORT = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse a duration; raise ValueError with the accepted forms when it is not one."""
    if isinstance(text, timedelta):
        value = text
    elif isinstance(text, bool):
        raise ValueError("a duration is written like 90s, 5m, 4h, 3d or PT5M")
    elif isinstance(text, int | float):
        value = timedelta(seconds=text)
    else:
        value = _parse_text(str(text))
    if value <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return value


def _parse_text(text: str) -> timedelta:
    short = _SHORT.match(text.lower())
    if short:
        return timedelta(**{_UNITS[short.group(2)]: int(short.group(1))})
    iso = _ISO.match(text.strip().upper())
    if iso and any(iso.groupdict().values()) and not text.strip().upper().endswith("T"):
        return timedelta(**{k: int(v) for k, v in iso.groupdict().items() if v})
    raise ValueError(f"{text!r} is not a duration; write it like 90s, 5m, 4h, 3d or PT5M")


def format_duration(value: timedelta) -> str:
    """The shortest exact form in the units above (``1h30m`` → ``90m``)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
