"""Incident channel names that Slack accepts: lowercase letters, digits, - and _, at most 80 chars."""

from __future__ import annotations

import re
import unicodedata

MAX_CHANNEL_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALLOWED.sub("-", ascii_text.lower()).strip("-")


def channel_name(prefix: str, number: int, title: str, attempt: int = 1) -> str:
    """``<prefix>-<number>-<slug>``; ``attempt`` > 1 adds ``-<attempt>`` after a name collision."""
    head = f"{prefix}-{number}"
    tail = f"-{attempt}" if attempt > 1 else ""
    room = MAX_CHANNEL_NAME - len(head) - len(tail) - 1
    slug = slugify(title)[:room].rstrip("-") if room > 0 else ""
    return f"{head}-{slug}{tail}" if slug else f"{head}{tail}"
