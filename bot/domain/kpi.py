"""The arithmetic of reports, as pure functions of incident records: MTTA, MTTR, SLA compliance, by severity, by
root-cause category, week by week.

Definitions (the README says the same):
- An incident is counted in the period it was declared in, whatever happened to it after.
- MTTA: first acknowledgement − declared. MTTR: final resolve − declared, on the wall clock (a reopened incident's
  time runs to its last resolve). Open incidents have no time to resolve yet and are left out of MTTR.
- Each figure is ``{count, median, p90, mean}`` in seconds. Percentiles interpolate linearly between the two
  closest ranks (the "inclusive" method: numpy's default, Excel's PERCENTILE.INC): p of n sorted values is at
  rank p·(n−1).
- SLA outcomes come from the recorded clock runs (so business hours and pauses count as configured): each run is
  met, breached, or still running; a running run already past its due time counts as breached (it can no longer
  be met). Compliance = met / (met + breached), None when both are 0. The update clock has one run per cycle.
- An incident is counted under its severity at the end (after any upgrade or downgrade); each clock run was judged
  against the target in force while it ran.
- Satisfaction: the feedback scores (1 to 5) people gave the response to the period's incidents: count, mean and
  how many gave each score.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

CLOCKS = ("ack", "resolve", "update")
MET, BREACHED, RUNNING = "met", "breached", "running"


class ClockResult(NamedTuple):
    clock: str
    outcome: str  # met | breached | running


@dataclass(slots=True)  # not frozen: a report builds thousands, and a frozen dataclass's __init__ costs twice as much
class IncidentRecord:
    """What a report needs of one incident (read-only by convention)."""

    ref: str
    team_id: str
    severity: str
    declared_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None  # the final resolve; None while open
    reopened: bool
    root_cause_category: str | None
    escalations: int
    clocks: tuple[ClockResult, ...] = ()
    scores: tuple[int, ...] = ()  # feedback on the response, 1 to 5, one per person who answered

    @property
    def time_to_acknowledge(self) -> float | None:
        return _seconds(self.acknowledged_at, self.declared_at)

    @property
    def time_to_resolve(self) -> float | None:
        return _seconds(self.resolved_at, self.declared_at)

    def outcome(self, clock: str) -> str | None:
        """The clock's outcome over all its runs: breached if any run was, else running if one is, else met."""
        outcomes = {c.outcome for c in self.clocks if c.clock == clock}
        for verdict in (BREACHED, RUNNING, MET):
            if verdict in outcomes:
                return verdict
        return None


def run_outcome(recorded: str | None, due_at: datetime | None, stopped_at: datetime | None, now: datetime) -> str:
    """How a recorded clock run stands at ``now``."""
    if stopped_at is not None and recorded in (MET, BREACHED):
        return recorded
    if stopped_at is not None:  # stopped but recorded by an older Firebell without its outcome
        return MET if due_at is None or stopped_at <= due_at else BREACHED
    if due_at is not None and due_at <= now:
        return BREACHED
    return RUNNING


def _seconds(end: datetime | None, start: datetime) -> float | None:
    return None if end is None else max((end - start).total_seconds(), 0.0)


@dataclass(frozen=True)
class Stats:
    count: int
    median: float | None
    p90: float | None
    mean: float | None

    def to_json(self) -> dict[str, float | int | None]:
        return {"count": self.count, "median": _round(self.median), "p90": _round(self.p90),
                "mean": _round(self.mean)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The ``p`` (0…1) percentile of sorted values, interpolating between the closest ranks; None for none."""
    if not ordered:
        return None
    rank = p * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stats(values: Iterable[float]) -> Stats:
    ordered = sorted(values)
    if not ordered:
        return Stats(0, None, None, None)
    return Stats(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9), sum(ordered) / len(ordered))


@dataclass(frozen=True)
class Compliance:
    met: int = 0
    breached: int = 0
    running: int = 0

    @property
    def compliance(self) -> float | None:
        judged = self.met + self.breached
        return None if judged == 0 else self.met / judged

    def to_json(self) -> dict[str, float | int | None]:
        value = self.compliance
        return {"met": self.met, "breached": self.breached, "running": self.running,
                "compliance": None if value is None else round(value, 4)}


def compliance(results: Iterable[ClockResult]) -> Compliance:
    counts = Counter(r.outcome for r in results)
    return Compliance(counts[MET], counts[BREACHED], counts[RUNNING])


@dataclass(frozen=True)
class Satisfaction:
    """Feedback scores of the period's incidents: how many, their mean, how many gave each score."""

    count: int
    mean: float | None
    distribution: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"count": self.count, "mean": None if self.mean is None else round(self.mean, 2),
                "distribution": {str(score): n for score, n in self.distribution.items()}}


def satisfaction(scores: Iterable[int]) -> Satisfaction:
    given = list(scores)
    counts = Counter(given)
    return Satisfaction(len(given), sum(given) / len(given) if given else None,
                        {score: counts[score] for score in range(1, 6)})


@dataclass(frozen=True)
class SeverityFigures:
    incidents: int
    mtta: Stats
    mttr: Stats


@dataclass(frozen=True)
class Week:
    start: date  # a Monday (UTC)
    declared: int
    resolved: int
    mtta_median: float | None
    mttr_median: float | None
    sla_compliance: float | None


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    incidents: int
    resolved: int
    open: int
    mtta: Stats
    mttr: Stats
    by_severity: dict[str, SeverityFigures]
    by_root_cause_category: dict[str, int]
    sla: dict[str, Compliance]
    escalations: int
    reopened: int
    weekly: list[Week] = field(default_factory=list)
    satisfaction: Satisfaction = field(default_factory=lambda: satisfaction(()))

    @property
    def empty(self) -> bool:
        return self.incidents == 0


def build(records: Iterable[IncidentRecord], since: datetime, until: datetime,
          severities: Sequence[str] = ("sev1", "sev2", "sev3", "sev4")) -> Report:
    """The report of the incidents declared in [since, until). ``severities`` are always listed (0 when none)."""
    chosen = [r for r in records if since <= r.declared_at < until]
    by_severity: dict[str, list[IncidentRecord]] = {s: [] for s in severities}
    by_week: dict[date, list[IncidentRecord]] = defaultdict(list)
    for record in chosen:
        by_severity.setdefault(record.severity, []).append(record)
        by_week[week_start(record.declared_at)].append(record)
    categories = Counter(r.root_cause_category for r in chosen if r.resolved_at and r.root_cause_category)
    return Report(
        since=since, until=until, incidents=len(chosen),
        resolved=sum(1 for r in chosen if r.resolved_at is not None),
        open=sum(1 for r in chosen if r.resolved_at is None),
        mtta=_mtta(chosen), mttr=_mttr(chosen),
        by_severity={s: SeverityFigures(len(rs), _mtta(rs), _mttr(rs)) for s, rs in sorted(by_severity.items())},
        by_root_cause_category=dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        sla={clock: compliance(c for r in chosen for c in r.clocks if c.clock == clock) for clock in CLOCKS},
        escalations=sum(r.escalations for r in chosen),
        reopened=sum(1 for r in chosen if r.reopened),
        weekly=[_week(start, by_week.get(start, [])) for start in weeks(since, until)],
        satisfaction=satisfaction(score for r in chosen for score in r.scores),
    )


def _mtta(records: Sequence[IncidentRecord]) -> Stats:
    return stats(t for r in records if (t := r.time_to_acknowledge) is not None)


def _mttr(records: Sequence[IncidentRecord]) -> Stats:
    return stats(t for r in records if (t := r.time_to_resolve) is not None)


def week_start(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def weeks(since: datetime, until: datetime) -> list[date]:
    """The Mondays (UTC) of every week the period touches."""
    first, result = week_start(since), []
    while datetime.combine(first, datetime.min.time(), since.tzinfo) < until:
        result.append(first)
        first += timedelta(days=7)
    return result


def _week(start: date, records: Sequence[IncidentRecord]) -> Week:
    return Week(start=start, declared=len(records), resolved=sum(1 for r in records if r.resolved_at is not None),
                mtta_median=_mtta(records).median, mttr_median=_mttr(records).median,
                sla_compliance=compliance(c for r in records for c in r.clocks).compliance)


def to_json(report: Report) -> dict[str, object]:
    """The report as `firebell report --json` prints it."""
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "incidents": report.incidents,
        "resolved": report.resolved,
        "open": report.open,
        "mtta_seconds": report.mtta.to_json(),
        "mttr_seconds": report.mttr.to_json(),
        "by_severity": {s: {"incidents": f.incidents, "mtta_seconds": f.mtta.to_json(),
                            "mttr_seconds": f.mttr.to_json()} for s, f in report.by_severity.items()},
        "by_root_cause_category": report.by_root_cause_category,
        "sla": {clock: c.to_json() for clock, c in report.sla.items()},
        "escalations": report.escalations,
        "reopened": report.reopened,
        "satisfaction": report.satisfaction.to_json(),
        "weekly": [{"week_start": w.start.isoformat(), "declared": w.declared, "resolved": w.resolved,
                    "mtta_median_seconds": _round(w.mtta_median), "mttr_median_seconds": _round(w.mttr_median),
                    "sla_compliance": None if w.sla_compliance is None else round(w.sla_compliance, 4)}
                   for w in report.weekly],
    }
