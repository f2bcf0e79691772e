"""Lengths of time as people read them (``2h 15m``): for messages and reports, not for parsing."""

from __future__ import annotations

from datetime import datetime, timedelta


def duration(length: timedelta) -> str:
    """``2h 15m``, ``4m 30s``, ``0s``."""
    seconds = int(length / timedelta(seconds=1))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return " ".join(p for p in parts if p) or "0s"


def span(start: datetime | None, end: datetime | None) -> str:
    """How long from ``start`` to ``end``, or ``—`` when either is unknown."""
    return "—" if start is None or end is None else duration(end - start)
