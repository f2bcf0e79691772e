"""Change events: what changed in which service, when, by whom, with a link (a pull request, a deploy). Shown when
an incident starts, linked to the incident it caused; the change failure rate is the share of changes that led to
an incident (a DORA metric)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Change:
    service: str
    summary: str
    at: datetime
    url: str | None = None
    author: str | None = None
    key: str | None = None  # the sender's idempotency key
    id: int | None = None  # once stored
    recorded_by: str | None = None  # the Slack user who typed it


def newest_first(changes: Sequence[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.at, c.id or 0), reverse=True)


def failure_rate(changes: int, linked: int) -> float | None:
    """Changes linked to an incident ÷ changes in the period; None when there were none."""
    return round(linked / changes, 4) if changes else None
