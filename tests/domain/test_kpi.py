"""The arithmetic of reports: percentiles by the documented method, compliance, how a clock run stands."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import periods
from bot.domain.errors import InvalidInput
from bot.domain.kpi import ClockResult, IncidentRecord, build, percentile, run_outcome, stats, weeks

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_percentiles_interpolate_between_the_closest_ranks():
    assert percentile([40, 120, 1800, 3900], 0.5) == 960  # rank 1.5
    assert percentile([40, 120, 1800, 3900], 0.9) == pytest.approx(3270)  # rank 2.7
    assert percentile([7], 0.9) == 7 and percentile([], 0.5) is None
    assert stats([]).to_json() == {"count": 0, "median": None, "p90": None, "mean": None}


def test_a_run_stands_as_recorded_once_stopped_and_breached_once_overdue():
    due = T0 + timedelta(minutes=5)
    assert run_outcome("met", due, T0 + timedelta(minutes=1), T0) == "met"
    assert run_outcome(None, due, T0 + timedelta(minutes=6), T0) == "breached"  # an older row without its outcome
    assert run_outcome(None, due, None, T0 + timedelta(minutes=4)) == "running"
    assert run_outcome(None, due, None, due) == "breached"
    assert run_outcome(None, None, None, T0 + timedelta(days=9)) == "running"  # paused


def test_compliance_is_null_with_nothing_judged_and_weeks_start_on_monday():
    record = IncidentRecord("INC-1", "T", "sev2", T0, None, None, False, None, 0, (ClockResult("ack", "running"),))
    report = build([record], T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert report.sla["ack"].to_json() == {"met": 0, "breached": 0, "running": 1, "compliance": None}
    assert [w.isoformat() for w in weeks(T0, T0 + timedelta(days=8))] == ["2026-11-23", "2026-11-30"]


def test_periods_name_the_option_and_the_form():
    with pytest.raises(InvalidInput, match="--since '0d' must be between 1d and 3660d"):
        periods.last("0d", T0)
    assert periods.last("2w", T0).since == T0 - timedelta(days=14)
    assert periods.between("2026-11-01", "2026-11-30", T0).until == datetime(2026, 12, 1, tzinfo=UTC)
