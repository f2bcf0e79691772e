"""The SLA record stays true: a stopped run keeps the target and outcome it stopped with, every run of a resolved
incident is stopped, an update run ends at the next update, and the severity history is kept."""

from __future__ import annotations

import pytest

from bot.config import FirebellConfig
from bot.services.incidents import export
from tests.e2e.conftest import ALICE, BOB, BROADCAST, T0, FakeClock, Timed, declare_and_settle, start_timed, stop


@pytest.fixture
def timed(slack, database_url):
    config = FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h"},
                       "sev2": {"ack": "15m", "update_every": "1h", "resolve": "8h"}},
    })
    running = start_timed(slack, database_url, config, FakeClock(T0))
    yield running
    stop(running)


def runs(timed: Timed, clock: str) -> list[dict]:
    [incident] = export(timed.firebell.deps, None)
    return [c for c in incident["sla"] if c["clock"] == clock]


def resolve(timed: Timed, channel: str) -> None:
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "capacity"},
                                              "root_cause": {"value": "x"}, "resolution": {"value": "y"}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")


def test_a_downgrade_keeps_the_stopped_ack_run_as_it_stopped_and_replans_the_running_ones(timed: Timed):
    channel = declare_and_settle(timed, "declare sev1 Payments down")
    timed.clock.advance(seconds=40)
    timed.driver.slash_command(BOB, "ack", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].acknowledged_by == BOB)
    timed.clock.advance(minutes=10)
    timed.driver.slash_command(ALICE, "sev 2", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].severity.value == "sev2")
    [ack] = runs(timed, "ack")
    assert (ack["target_seconds"], ack["outcome"], ack["by_seconds"]) == (300, "met", 260)
    [resolve_run] = runs(timed, "resolve")  # still running: the SEV2 target, from the declare
    assert (resolve_run["target_seconds"], resolve_run["due_at"], resolve_run["outcome"]) == (
        8 * 3600, "2026-11-24T18:00:00+00:00", "running")


def test_a_resolved_incident_has_no_running_clock_and_each_update_run_ends_at_the_next_update(timed: Timed):
    channel = declare_and_settle(timed, "declare sev1 Payments down")
    timed.driver.slash_command(ALICE, "ack", channel_id=channel)
    timed.clock.advance(minutes=20)  # within the 30m cadence
    timed.driver.slash_command(ALICE, "update Rolling back", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].timeline[-1].kind == "update")
    timed.clock.advance(minutes=45)  # 15m past the cadence
    timed.driver.slash_command(ALICE, "update Rolled back; watching", channel_id=channel)
    timed.slack.wait_for(lambda: [e.kind for e in timed.incidents()[0].timeline].count("update") == 2)
    timed.clock.advance(minutes=10)
    resolve(timed, channel)
    updates = runs(timed, "update")
    assert [(u["started_at"], u["stopped_at"], u["outcome"], u["by_seconds"]) for u in updates] == [
        ("2026-11-24T10:00:00+00:00", "2026-11-24T10:20:00+00:00", "met", 600),
        ("2026-11-24T10:20:00+00:00", "2026-11-24T11:05:00+00:00", "breached", 900),
        ("2026-11-24T11:05:00+00:00", "2026-11-24T11:15:00+00:00", "met", 1200),
    ]
    [incident] = export(timed.firebell.deps, None)
    assert [c["outcome"] for c in incident["sla"] if c["outcome"] == "running"] == []


def test_the_severity_history_is_in_the_export_and_on_the_timeline(timed: Timed):
    channel = declare_and_settle(timed, "declare sev2 Search slow")
    timed.clock.advance(minutes=3)
    timed.driver.slash_command(ALICE, "sev 1", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].severity.value == "sev1")
    timed.clock.advance(minutes=30)
    timed.driver.slash_command(ALICE, "sev 2", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].severity.value == "sev2")
    [incident] = export(timed.firebell.deps, None)
    assert incident["severity_history"] == [
        {"from": "sev2", "to": "sev1", "by": ALICE, "at": "2026-11-24T10:03:00+00:00"},
        {"from": "sev1", "to": "sev2", "by": ALICE, "at": "2026-11-24T10:33:00+00:00"},
    ]
    assert [e["text"] for e in incident["timeline"] if e["kind"] == "severity"] == [
        "Severity SEV2 → SEV1", "Severity SEV1 → SEV2"]
