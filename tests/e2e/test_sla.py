"""SLA clocks end to end: reminders, breaches, pauses, severity changes, reopen; each notice once."""

from __future__ import annotations

import json

import pytest

from bot.config import FirebellConfig
from bot.services.incidents import export
from tests.e2e.conftest import (
    ALICE,
    BOB,
    BROADCAST,
    T0,
    FakeClock,
    Timed,
    answer,
    declare_and_settle,
    start_timed,
    stop,
)


def sla_config(**extra) -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "reminders_at": [0.5, 0.8],
        "severities": {"sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h"},
                       "sev3": {"ack": "1h", "update_every": "4h", "resolve": "3d"}},
        **extra,
    })


@pytest.fixture
def timed(slack, database_url):
    running = start_timed(slack, database_url, sla_config(), FakeClock(T0))
    yield running
    stop(running)


def declare(timed: Timed, text: str = "declare sev1 Payments down") -> str:
    return declare_and_settle(timed, text)


def notices(timed: Timed, channel: str, marker: str = "") -> list[str]:
    return [m.text for m in timed.slack.messages(channel) if m.text.startswith(("⏳", "🚨")) and marker in m.text]


def test_reminders_then_the_breach_each_exactly_once(timed: Timed):
    channel = declare(timed)
    assert timed.tick(minutes=2, seconds=29) == 0
    timed.tick(seconds=1)
    [half] = notices(timed, channel, "time to acknowledge")
    assert "50% of the *time to acknowledge* (5m) has passed; 2m 30s left, due <!date^" in half
    assert f"<@{ALICE}>: acknowledge with `/incident ack`" in half  # no tier paged: the commander acts
    timed.tick(minutes=1, seconds=30)
    assert "80%" in notices(timed, channel, "time to acknowledge")[-1]
    timed.tick(minutes=1)
    breach = notices(timed, channel, "time to acknowledge")[-1]
    assert breach.startswith("🚨") and "SLA is breached (5m" in breach
    assert any("SLA is breached" in m.text and f"<#{channel}>" in m.text for m in timed.slack.messages(BROADCAST))
    for _ in range(3):
        timed.tick(seconds=20)
    assert len(notices(timed, channel, "time to acknowledge")) == 3
    card = json.dumps(timed.slack.message(channel, timed.incidents()[0].card_ts).blocks, ensure_ascii=False)
    assert "🚨 Time to acknowledge: was due" in card


def test_a_reminder_leaves_the_card_as_it_was_and_the_breach_edits_it(timed: Timed):
    channel = declare(timed)
    card_ts = timed.incidents()[0].card_ts
    edits = lambda: [c for c in timed.slack.calls_to("chat.update") if c.args.get("ts") == card_ts]  # noqa: E731
    before = len(edits())
    timed.tick(minutes=2, seconds=30)
    timed.tick(minutes=1, seconds=30)
    assert len(notices(timed, channel, "time to acknowledge")) == 2  # 50% and 80%: the card's line is still "due"
    assert len(edits()) == before
    assert "⏱ Time to acknowledge: due" in json.dumps(timed.slack.message(channel, card_ts).blocks,
                                                       ensure_ascii=False)
    timed.tick(minutes=1)
    assert notices(timed, channel, "time to acknowledge")[-1].startswith("🚨")
    assert len(edits()) == before + 1
    assert "🚨 Time to acknowledge: was due" in json.dumps(timed.slack.message(channel, card_ts).blocks,
                                                          ensure_ascii=False)


def test_acknowledging_in_time_means_no_ack_notices_and_a_met_record(timed: Timed):
    channel = declare(timed)
    timed.clock.advance(minutes=1)
    timed.driver.slash_command(BOB, "ack", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].acknowledged_by == BOB)
    timed.tick(minutes=10)
    assert notices(timed, channel, "time to acknowledge") == []
    [incident] = export(timed.firebell.deps, None)
    ack = next(c for c in incident["sla"] if c["clock"] == "ack")
    assert (ack["outcome"], ack["by_seconds"], ack["due_at"]) == ("met", 240, "2026-11-24T10:05:00+00:00")
    resolve = next(c for c in incident["sla"] if c["clock"] == "resolve")
    assert resolve["outcome"] == "running" and resolve["due_at"] == "2026-11-24T14:00:00+00:00"


def test_a_severity_raise_recomputes_from_the_declare_time(timed: Timed):
    channel = declare(timed, "declare sev3 Slow search")
    timed.tick(minutes=20)
    assert notices(timed, channel) == []
    timed.driver.slash_command(ALICE, "sev 1", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].severity.value == "sev1")
    timed.tick()
    # 20 minutes after declare, a 5m ack target is long breached: the breach only, not three notices
    assert [n[:1] for n in notices(timed, channel, "time to acknowledge")] == ["🚨"]
    assert len(notices(timed, channel, "status update")) == 1  # 30m cadence: 50% (15m) passed, 80% not yet


def test_posting_an_update_restarts_the_update_cadence(timed: Timed):
    channel = declare(timed)
    timed.driver.slash_command(ALICE, "ack", channel_id=channel)
    timed.tick(minutes=15)
    assert len(notices(timed, channel, "status update")) == 1
    timed.clock.advance(minutes=5)
    timed.driver.slash_command(ALICE, "update Rolling back", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].timeline[-1].kind == "update")
    timed.tick(minutes=4)  # 24m after declare: the old cycle's 80% would have been due; it is gone
    assert len(notices(timed, channel, "status update")) == 1
    timed.tick(minutes=11)  # 15m after the update: the new cycle's 50%
    assert len(notices(timed, channel, "status update")) == 2


def test_pause_and_resume_exclude_the_paused_time(timed: Timed):
    channel = declare(timed)
    timed.driver.slash_command(ALICE, "ack", channel_id=channel)
    timed.clock.advance(hours=1)
    assert "can pause or resume the SLA clock" in answer(timed.driver.slash_command(BOB, "sla pause vendor",
                                                                                      channel_id=channel))
    assert answer(timed.driver.slash_command(ALICE, "sla pause waiting on the vendor", channel_id=channel)) == ""
    assert "already paused" in answer(timed.driver.slash_command(ALICE, "sla pause again", channel_id=channel))
    shown = answer(timed.driver.slash_command(BOB, "sla", channel_id=channel))
    assert "⏸ Time to resolve: paused" in shown
    timed.tick(hours=2)  # 3h after declare: without the pause, the 50% resolve reminder (2h) would be out
    assert notices(timed, channel, "time to resolve") == []
    assert answer(timed.driver.slash_command(ALICE, "sla resume", channel_id=channel)) == ""
    timed.slack.wait_for(lambda: any("paused 2h" in m.text for m in timed.slack.messages(channel)))
    timed.tick(minutes=59)  # resolve target 4h + 2h paused: 50% at 2h counted = 4h after declare
    assert notices(timed, channel, "time to resolve") == []
    timed.tick(minutes=1)
    assert len(notices(timed, channel, "time to resolve")) == 1
    assert [e.kind for e in timed.incidents()[0].timeline if e.kind.startswith("sla")] == ["sla paused", "sla resumed"]


def test_resolve_stops_every_clock_and_reopen_restarts_resolve(timed: Timed):
    channel = declare(timed)
    timed.clock.advance(minutes=1)
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "capacity"},
                                              "root_cause": {"value": "x"}, "resolution": {"value": "y"}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
    timed.tick(hours=5)
    assert notices(timed, channel) == []
    timed.driver.slash_command(ALICE, "reopen It is back", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "investigating")
    timed.tick(hours=2)
    assert len(notices(timed, channel, "time to resolve")) == 1  # 50% of a fresh 4h from the reopen
    [incident] = export(timed.firebell.deps, None)
    resolve_runs = [c for c in incident["sla"] if c["clock"] == "resolve"]
    assert [r["outcome"] for r in resolve_runs] == ["met", "running"]


def test_a_deadline_missed_while_down_is_sent_late_and_says_by_how_much(timed: Timed):
    channel = declare(timed)
    timed.tick(minutes=8)  # nothing ticked for 8 minutes: 50%, 80% and the breach are all overdue
    [breach] = notices(timed, channel, "time to acknowledge")
    assert breach.startswith("🚨") and "Sent 3m late: Firebell was not running when it was due." in breach


def test_the_card_sla_command_and_list_show_the_deadlines(timed: Timed):
    channel = declare(timed)
    card = json.dumps(timed.slack.message(channel, timed.incidents()[0].card_ts).blocks, ensure_ascii=False)
    assert "⏱ Time to acknowledge: due <!date^1795514700^" in card  # 10:05 UTC
    assert "⏱ Time to resolve: due <!date^1795528800^" in card
    listing = answer(timed.driver.slash_command(BOB, "list", channel_id="C0GENERAL"))
    assert "next: time to acknowledge due <!date^1795514700^" in listing
    assert "Time to acknowledge: due" in answer(timed.driver.slash_command(BOB, "INC-1 sla", channel_id="C0GENERAL"))
    assert "not an SLA action" in answer(timed.driver.slash_command(BOB, "sla stop", channel_id=channel))


def test_business_hours_from_the_yaml(slack, database_url):
    config = sla_config(severities={"sev3": {"ack": "1h", "update_every": "4h", "resolve": "16h", "business_hours": {
        "timezone": "Europe/Berlin", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00",
        "holidays": ["2026-11-30"]}}})
    friday_4pm_berlin = FakeClock(T0.replace(day=27, hour=15))
    timed = start_timed(slack, database_url, config, friday_4pm_berlin)
    try:
        channel = declare(timed, "declare sev3 Reports are late")
        [incident] = export(timed.firebell.deps, None)
        resolve = next(c for c in incident["sla"] if c["clock"] == "resolve")
        assert resolve["due_at"] == "2026-12-02T15:00:00+00:00"  # Monday is a holiday
        timed.tick(hours=1)  # Friday 17:00 Berlin: the ack hour is over
        assert len(notices(timed, channel, "time to acknowledge")) == 1
        timed.tick(days=3, hours=15)  # Monday (holiday) 09:00 Berlin: no resolve reminder yet
        assert notices(timed, channel, "time to resolve") == []
        timed.tick(days=1, hours=7)  # Tuesday 16:00 Berlin: 8h counted, 50%
        assert len(notices(timed, channel, "time to resolve")) == 1
    finally:
        stop(timed)


def test_a_private_incidents_breach_is_told_in_its_channel_only(timed: Timed):
    channel = declare(timed, "declare --private sev1 Leaked signing keys")
    timed.tick(minutes=5)
    assert notices(timed, channel, "SLA is breached")  # its members are told
    said = [m.text for m in timed.slack.messages(BROADCAST)]
    assert len(said) == 1 and "private incident" in said[0]  # the declare's word only: no breach, no title
    assert not any("Leaked" in text or "breached" in text for text in said)
