"""Follow-ups: the actions an incident leaves behind, each with an owner and a due date, open until done. Pure.

A line of the resolve form or of `/incident followup add` is free text in which ``@person`` (or a Slack mention)
names the owner and ``due YYYY-MM-DD`` the due date; both are taken out of the text. The owner's reminder is due
when the due date has passed (the end of that day, UTC) with the follow-up still open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain.errors import InvalidInput

MAX_TEXT = 500
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
_AT_NAME = re.compile(r"(?<![\w<@])@([A-Za-z0-9][\w.\-]{0,79})")
_DUE = re.compile(r"\bdue\s+(\S+)", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FollowUpLine:
    text: str
    owner: str | None = None  # a Slack user id
    owner_name: str | None = None  # "@name" as typed, until Slack says whose it is
    due: date | None = None


def parse_line(line: str) -> FollowUpLine:
    """One follow-up from what was typed; InvalidInput for a due date that is not a date."""
    owner = owner_name = None
    due = None
    text = line
    if (mention := _MENTION.search(text)) is not None:
        owner = mention[1]
        text = text[:mention.start()] + text[mention.end():]
    elif (named := _AT_NAME.search(text)) is not None:
        owner_name = named[1].rstrip(".,;:")
        text = text[:named.start()] + text[named.end():]
    if (found := _DUE.search(text)) is not None:
        written = found[1].rstrip(".,;:")
        if not _DATE.match(written):
            raise InvalidInput("follow_ups", f"`due {written}` is not a date; write it like `due 2026-12-20`.")
        try:
            due = date.fromisoformat(written)
        except ValueError:
            raise InvalidInput("follow_ups", f"`due {written}` is not a date; write it like `due 2026-12-20`.") \
                from None
        text = text[:found.start()] + text[found.end():]
    text = " ".join(text.split()).strip(" -–—,;:")
    if not text:
        raise InvalidInput("follow_ups", "A follow-up needs words saying what to do, e.g. "
                                         "`Add an alert on pool drain @alice due 2026-12-20`.")
    return FollowUpLine(text[:MAX_TEXT], owner, owner_name, due)


def reminder_due(due: date) -> datetime:
    """When a follow-up due on ``due`` is late: the end of that day (UTC)."""
    return datetime.combine(due + timedelta(days=1), time(0), UTC)


@dataclass(frozen=True)
class FollowUp:
    id: int
    incident_number: int
    text: str
    created_by: str
    owner: str | None = None
    owner_name: str | None = None
    due: date | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    channel_id: str | None = None

    @property
    def open(self) -> bool:
        return self.done_at is None

    @property
    def ref(self) -> str:
        return f"#{self.id}"

    def overdue(self, now: datetime) -> bool:
        return self.open and self.due is not None and now >= reminder_due(self.due)
