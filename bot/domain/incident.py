"""Firebell's own words for an incident: severities, statuses, and the incident as the domain sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.followups import FollowUp
from bot.domain.sla import ClockRun


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def rank(self) -> int:
        """1 is the most severe."""
        return int(self.value[-1])


DEFAULT_SEVERITY = Severity.SEV3


class Status(StrEnum):
    DECLARED = "declared"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self is not Status.RESOLVED


OPEN_STATUSES = tuple(s for s in Status if s.is_open)


_REF = re.compile(r"^inc-?(\d+)$", re.IGNORECASE)


def incident_ref(number: int) -> str:
    return f"INC-{number}"


def parse_ref(text: str) -> int | None:
    """The number of an incident id as people write it (``INC-7``, ``inc7``); None when it is not one."""
    match = _REF.match(text.strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class PageView:
    id: int
    tier: str
    reason: str
    paged_at: datetime
    paged_by: str | None  # None: Firebell paged (severity policy or escalation)
    status: str  # active, acknowledged, escalated, stopped
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    escalated_at: datetime | None = None
    renotified_at: datetime | None = None
    notified: tuple[str, ...] = ()
    oncall_user: str | None = None  # whom the tier's schedule had on call when it was paged
    oncall_source: str | None = None  # why: "layer 1", "override #3", "gap"; None: a tier without a schedule


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str | None
    text: str
    permalink: str | None = None


@dataclass(frozen=True)
class SeverityChange:
    """One entry of an incident's severity history."""

    at: datetime
    by: str
    from_severity: Severity
    to_severity: Severity


class Role(StrEnum):
    COMMANDER = "commander"
    COMMS = "comms"
    SCRIBE = "scribe"


@dataclass(frozen=True)
class Incident:
    """A read-only view of one incident, as renderers and exports see it."""

    id: int
    team_id: str
    number: int
    title: str
    description: str
    severity: Severity
    status: Status
    declared_by: str
    commander: str
    declared_at: datetime
    comms: str | None = None
    scribe: str | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    root_cause_category: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    timeline: tuple[TimelineEntry, ...] = field(default=())
    follow_ups: tuple[FollowUp, ...] = field(default=())  # with the timeline only
    lessons_learned: str | None = None
    pages: tuple[PageView, ...] = field(default=())
    clocks: tuple[ClockRun, ...] = field(default=())  # every run of every SLA clock, oldest first
    severity_history: tuple[SeverityChange, ...] = field(default=())  # oldest first (with the timeline only)
    private: bool = False  # its channel is private: only its members are shown it (bot.services.visibility)
    detected_at: datetime | None = None  # when the trouble began (an alert group's earliest startsAt)

    @property
    def ref(self) -> str:
        return incident_ref(self.number)

    def holder(self, role: Role) -> str | None:
        return {Role.COMMANDER: self.commander, Role.COMMS: self.comms, Role.SCRIBE: self.scribe}[role]

    @property
    def current_clocks(self) -> tuple[ClockRun, ...]:
        """The latest run of each clock."""
        latest: dict[str, ClockRun] = {}
        for run in self.clocks:
            latest[run.clock] = run
        return tuple(latest.values())

    def last(self, kind: str) -> TimelineEntry | None:
        return next((e for e in reversed(self.timeline) if e.kind == kind), None)
