"""What /healthz says about the outbox: ok, or degraded with reasons a person can act on."""

from __future__ import annotations

from bot.observability.health import assess
from bot.observability.metrics import DatabaseFigures


def test_nothing_pending_is_ok():
    health = assess(DatabaseFigures(0, 0, 0.0))
    assert (health.status, health.reasons) == ("ok", ())
    assert health.body(DatabaseFigures(0, 0, 0.0)) == {
        "status": "ok", "outbox": {"pending": 0, "failed": 0, "oldest_pending_seconds": 0.0}}


def test_work_pending_for_a_little_while_is_ok():
    assert assess(DatabaseFigures(12, 0, 299.0)).status == "ok"


def test_work_pending_for_more_than_five_minutes_is_degraded():
    figures = DatabaseFigures(4, 0, 432.0)
    health = assess(figures)
    assert health.status == "degraded"
    assert health.reasons == ("the oldest pending Slack delivery has waited 7m12s (more than 5m): Slack is slow or "
                              "refusing, or no replica is delivering",)
    assert health.body(figures)["reasons"] == list(health.reasons)


def test_work_that_failed_for_good_is_degraded_and_says_what_to_run():
    health = assess(DatabaseFigures(0, 2, 0.0))
    assert health.status == "degraded"
    assert "2 Slack delivery(ies) failed for good" in health.reasons[0]
    assert "`firebell outbox retry`" in health.reasons[0]


def test_both_reasons_at_once():
    health = assess(DatabaseFigures(1, 1, 7300.0))
    assert len(health.reasons) == 2 and "2h01m" in health.reasons[1]
