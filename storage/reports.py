"""The rows a report reads: plain columns of the incidents declared in a period and of their clock runs,
escalations and feedback scores, four queries, no ORM objects (a report over years of incidents never loads them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from bot.domain.incident import incident_ref
from bot.domain.kpi import BREACHED, MET, RUNNING, ClockResult, IncidentRecord
from storage.models import FeedbackRow, IncidentRow, PageRow, SlaClockRow

RESOLVED = "resolved"


def _in_period(query: Select, since: datetime, until: datetime, teams: Sequence[str],
               severity: str | None) -> Select:
    query = query.where(IncidentRow.declared_at >= since, IncidentRow.declared_at < until)
    if teams:
        query = query.where(IncidentRow.team_id.in_(teams))
    if severity is not None:
        query = query.where(IncidentRow.severity == severity)
    return query


def incident_records(session: Session, since: datetime, until: datetime, now: datetime, *,
                     teams: Sequence[str] = (), severity: str | None = None) -> Iterator[IncidentRecord]:
    """The report records of the incidents declared in [since, until), oldest first; clocks judged at ``now``."""
    connection = session.connection()  # Core rows: the ORM's result machinery costs more than the rows here
    clocks: dict[int, list[ClockResult]] = defaultdict(list)
    # How each run stands at `now` (kpi.run_outcome's rule, in SQL: no datetimes cross to Python), counted per
    # incident, clock and outcome.
    stopped = SlaClockRow.stopped_at.is_not(None)
    standing = case((stopped & SlaClockRow.outcome.in_((MET, BREACHED)), SlaClockRow.outcome),
                    (stopped & (SlaClockRow.due_at.is_(None) | (SlaClockRow.stopped_at <= SlaClockRow.due_at)), MET),
                    (stopped, BREACHED),
                    (SlaClockRow.due_at <= now, BREACHED), else_=RUNNING)
    runs = _in_period(select(SlaClockRow.incident_id, SlaClockRow.clock, standing, func.count())
                      .join(IncidentRow, IncidentRow.id == SlaClockRow.incident_id)
                      .group_by(SlaClockRow.incident_id, SlaClockRow.clock, standing), since, until, teams, severity)
    for incident_id, clock, outcome, count in connection.execute(runs):
        clocks[incident_id].extend([ClockResult(clock, outcome)] * count)
    escalated = _in_period(select(PageRow.incident_id, func.count())
                           .join(IncidentRow, IncidentRow.id == PageRow.incident_id)
                           .where(PageRow.escalated_from.is_not(None)).group_by(PageRow.incident_id),
                           since, until, teams, severity)
    escalations = {incident_id: count for incident_id, count in connection.execute(escalated)}
    scores: dict[int, list[int]] = defaultdict(list)
    rated = _in_period(select(FeedbackRow.incident_id, FeedbackRow.score)
                       .join(IncidentRow, IncidentRow.id == FeedbackRow.incident_id), since, until, teams, severity)
    for incident_id, score in connection.execute(rated):
        scores[incident_id].append(score)
    incidents = _in_period(select(IncidentRow.id, IncidentRow.team_id, IncidentRow.number, IncidentRow.severity,
                                  IncidentRow.status, IncidentRow.declared_at, IncidentRow.acknowledged_at,
                                  IncidentRow.resolved_at, IncidentRow.reopened_at, IncidentRow.root_cause_category),
                           since, until, teams, severity).order_by(IncidentRow.declared_at, IncidentRow.id)
    for (incident_id, team_id, number, sev, status, declared_at, acknowledged_at, resolved_at, reopened_at,
         category) in connection.execute(incidents):
        yield IncidentRecord(
            ref=incident_ref(number), team_id=team_id, severity=sev, declared_at=declared_at,
            acknowledged_at=acknowledged_at, resolved_at=resolved_at if status == RESOLVED else None,
            reopened=reopened_at is not None, root_cause_category=category,
            escalations=escalations.get(incident_id, 0), clocks=tuple(clocks.get(incident_id, ())),
            scores=tuple(scores.get(incident_id, ())))
