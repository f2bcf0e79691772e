"""The figures of a report, from the database: what `firebell report` and `/incident report` both compute. Only
the domain's arithmetic and the storage's rows: a shell command that prints figures loads nothing of Slack's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import kpi
from bot.domain.changes import failure_rate
from bot.domain.periods import Period
from storage import changes as change_rows
from storage import reports as report_rows


def records(session: Session, period: Period, now: datetime, *, teams: Sequence[str] = (),
            severity: str | None = None) -> list[kpi.IncidentRecord]:
    return list(report_rows.incident_records(session, period.since, period.until, now, teams=teams, severity=severity))


def build(session: Session, period: Period, now: datetime, *, teams: Sequence[str] = (),
          severity: str | None = None) -> kpi.Report:
    """The report of the incidents declared in ``period``, their clocks judged at ``now``."""
    rows = report_rows.incident_records(session, period.since, period.until, now, teams=teams, severity=severity)
    severities = (severity,) if severity else ("sev1", "sev2", "sev3", "sev4")
    return kpi.build(rows, period.since, period.until, severities)


def changes(session: Session, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """The changes recorded in the period, how many an incident was linked to, and their share."""
    total, linked = change_rows.counts(session, since, until)
    return {"changes": total, "changes_linked": linked, "change_failure_rate": failure_rate(total, linked)}
