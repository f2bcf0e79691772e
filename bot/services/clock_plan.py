"""Planning an incident's SLA clocks inside every change: their runs recorded, their pending notices made to match."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.config import FirebellConfig
from bot.deps import Deps
from bot.domain import sla
from bot.domain.incident import Severity, Status
from storage import schedule
from storage.models import IncidentRow


def facts(session: Session, row: IncidentRow) -> sla.Facts:
    """What the clocks depend on, read off the incident (and its pauses)."""
    return sla.Facts(
        declared_at=row.declared_at, acknowledged_at=row.acknowledged_at, resolved_at=row.resolved_at,
        reopened_at=row.reopened_at, last_update_at=row.last_update_at,
        pauses=tuple((p.started_at, p.ended_at) for p in schedule.pauses(session, row.id)),
    )


def policy(config: FirebellConfig, severity: str) -> sla.Policy:
    return config.severities[Severity(severity)].sla()


def refresh(deps: Deps, session: Session, row: IncidentRow) -> list[sla.ClockRun]:
    """Re-plan the incident's running clocks from their original starts (stopped runs stay as recorded, see
    ``sla.settle``) and make its pending notices match."""
    planned = sla.runs(facts(session, row), policy(deps.config, row.severity))
    record, current = sla.settle(schedule.recorded_clock_runs(session, row), planned)
    schedule.record_clock_runs(session, row, record)
    wanted = sla.notices(current, deps.config.reminders_at) if Status(row.status) is not Status.RESOLVED else []
    schedule.plan_sla_notices(session, row, wanted, deps.clock())
    return current
