"""Where a page goes when nobody acknowledges it: the next tier in the configured order."""

from __future__ import annotations

from collections.abc import Sequence


def next_tier(order: Sequence[str], current: str) -> str | None:
    """The tier after ``current`` in ``order`` (matched without regard to case); None from the last tier, or from a
    tier no longer configured (it is treated as the last)."""
    names = [name.lower() for name in order]
    if current.lower() not in names:
        return None
    position = names.index(current.lower())
    return order[position + 1] if position + 1 < len(order) else None
