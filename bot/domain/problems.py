"""Problem records: the cause behind recurring incidents (ITIL problem management). Pure: no SQL, no Slack.

A problem is numbered per team (PRB-1, PRB-2, …), links any number of incidents (an incident belongs to at most
one), and moves ``open`` → ``known-error`` (the cause is known, maybe with a workaround) → ``resolved`` (fixed for
good). A problem that comes back after it was resolved is opened again. Admins and the commanders of its
incidents change it; anyone may link an incident to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import FirebellError, InvalidInput, UsageError

MAX_TITLE = 150
MAX_TEXT = 3000
_REF = re.compile(r"(?:prb-?)?(\d{1,9})", re.IGNORECASE)


class ProblemStatus(StrEnum):
    OPEN = "open"
    KNOWN_ERROR = "known-error"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"open": "Open", "known-error": "Known error", "resolved": "Resolved"}[self.value]


@dataclass(frozen=True)
class ProblemSummary:
    """A problem as an incident shows it: which one, and what to do meanwhile."""

    number: int
    title: str
    status: ProblemStatus
    workaround: str | None

    @property
    def ref(self) -> str:
        return ref(self.number)


@dataclass(frozen=True)
class LinkedIncident:
    incident_id: int
    number: int
    title: str
    status: str
    declared_at: datetime
    commander: str
    channel_id: str | None
    private: bool = False


@dataclass(frozen=True)
class Problem:
    id: int
    team_id: str
    number: int
    title: str
    status: ProblemStatus
    workaround: str | None
    root_cause: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    incidents: tuple[LinkedIncident, ...]  # oldest first

    @property
    def ref(self) -> str:
        return ref(self.number)

    @property
    def commanders(self) -> set[str]:
        return {incident.commander for incident in self.incidents}

    def summary(self) -> ProblemSummary:
        return ProblemSummary(self.number, self.title, self.status, self.workaround)


@dataclass(frozen=True)
class ProblemCount:
    """A line of `/incident problems`."""

    summary: ProblemSummary
    incidents: int
    last_declared_at: datetime | None


_NEXT = {
    ProblemStatus.OPEN: (ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED),
    ProblemStatus.KNOWN_ERROR: (ProblemStatus.RESOLVED, ProblemStatus.OPEN),
    ProblemStatus.RESOLVED: (ProblemStatus.OPEN,),
}


class InvalidProblemChange(FirebellError):
    pass


class NotAllowedOnProblem(FirebellError):
    pass


def ref(number: int) -> str:
    return f"PRB-{number}"


def parse_ref(text: str) -> int:
    """``PRB-3``, ``prb3`` or ``3``."""
    match = _REF.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"`{text}` is not a problem; problems are written like `PRB-3`.")
    return int(match.group(1))


def parse_status(text: str) -> ProblemStatus:
    value = text.strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return ProblemStatus(value)
    except ValueError:
        raise InvalidInput("status", f"`{text}` is not a problem status; use "
                           + ", ".join(s.value for s in ProblemStatus) + ".") from None


def change_status(current: ProblemStatus, wanted: ProblemStatus, problem_ref: str) -> ProblemStatus:
    if wanted is current:
        raise InvalidProblemChange(f"{problem_ref} is already {wanted.value}.")
    allowed = _NEXT[current]
    if wanted not in allowed:
        raise InvalidProblemChange(f"{problem_ref} is {current.value}; it can go to: "
                                   + ", ".join(s.value for s in allowed) + ".")
    return wanted


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("title", "A problem needs a title: name the cause or the pattern, e.g. "
                           "`/incident problem new Connection pool exhaustion under load`.")
    if len(title) > MAX_TITLE:
        raise InvalidInput("title", f"The title is {len(title):,} characters long; keep it to {MAX_TITLE}.")
    return title


def clean_text(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("text", f"Say what the {what} is, after the word.")
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"The {what} is over {MAX_TEXT:,} characters; shorten it.")
    return text


def check_may_change(actor: str, *, problem_ref: str, commanders: Collection[str], admins: Collection[str]) -> None:
    """Admins and the commanders of the problem's incidents may change it."""
    if actor in admins or actor in commanders:
        return
    who = []
    if commanders:
        who.append("the commanders of its incidents (" + ", ".join(f"<@{u}>" for u in sorted(commanders)) + ")")
    if admins:
        who.append("Firebell admins (" + ", ".join(f"<@{u}>" for u in sorted(admins)) + ")")
    raise NotAllowedOnProblem(f"Only {' and '.join(who) or 'Firebell admins'} can change {problem_ref}. "
                              "Anyone can link an incident to it.")
