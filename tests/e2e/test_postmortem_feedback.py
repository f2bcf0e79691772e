"""The post-incident report for stakeholders (names, severity history, SLA verdicts, times, lessons, follow-ups,
a draft while open), `/incident describe`, and feedback on the response: one DM each, one answer per person."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.config import FirebellConfig
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

ONE = "U0ONE"


@pytest.fixture
def timed(slack, database_url):
    slack.add_user(ONE, "one", real_name="Olive One")
    config = FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h", "page": "L1"}},
        "tiers": [{"name": "L1", "members": [ONE], "ack_timeout": "10m"}]})
    running = start_timed(slack, database_url, config, FakeClock(T0))
    yield running
    stop(running)


def postmortem_cli(capsys, monkeypatch, database_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["postmortem", "INC-1"]) == 0
    return capsys.readouterr().out


def run_incident(timed: Timed) -> str:
    channel = declare_and_settle(timed, "declare sev2 Checkout errors")
    timed.clock.advance(minutes=2)
    timed.driver.slash_command(ALICE, "describe EU customers cannot pay by card", channel_id=channel)
    timed.driver.slash_command(ALICE, "sev 1", channel_id=channel)  # pages L1
    timed.slack.wait_for(lambda: timed.slack.dms(ONE))  # the page reached them
    timed.firebell.settle(30)
    timed.clock.advance(minutes=2)
    timed.driver.slash_command(ONE, "ack", channel_id=channel)
    timed.clock.advance(minutes=20)
    timed.driver.slash_command(ALICE, "status monitoring Flag reverted", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "monitoring")
    timed.clock.advance(minutes=30)
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {
        "root_cause_category": {"value": "configuration"}, "root_cause": {"value": "A flag sent EU to a drained pool"},
        "resolution": {"value": "Flag reverted"}, "lessons_learned": {"value": "Flags need a second pair of eyes"},
        "follow_ups": {"value": "Review flag changes @bob due 2026-12-20"}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
    timed.firebell.settle(30)
    return channel


def test_an_open_incidents_report_is_a_draft_and_describe_sets_the_description(timed: Timed, capsys, monkeypatch,
                                                                                   database_url):
    channel = declare_and_settle(timed, "declare sev2 Checkout errors")
    printed = postmortem_cli(capsys, monkeypatch, database_url)
    assert "> **Draft**: INC-1 is still open (declared)" in printed and "_No description was given._" in printed
    assert answer(timed.driver.slash_command(ALICE, "describe", channel_id=channel)).startswith("Say what to record.")
    timed.driver.slash_command(ALICE, "describe EU customers <cannot> pay", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].description == "EU customers <cannot> pay")
    assert "EU customers <cannot> pay" in postmortem_cli(capsys, monkeypatch, database_url)
    assert any("described INC-1: EU customers &lt;cannot&gt; pay" in m.text for m in timed.slack.messages(channel))
    card = json.dumps(timed.slack.message(channel, timed.incidents()[0].card_ts).blocks, ensure_ascii=False)
    assert "EU customers &lt;cannot&gt; pay" in card


def test_the_shared_report_names_people_and_tells_the_whole_story(timed: Timed, capsys, monkeypatch, database_url):
    channel = run_incident(timed)
    [shared] = [f for f in timed.slack.files if f.filename == "INC-1-postmortem.md"]
    report = (shared.content or b"").decode()
    assert channel in shared.channels and "Draft" not in report
    assert "EU customers cannot pay by card" in report
    assert "- Severity: SEV1 (changed: SEV2 → SEV1 by" in report
    assert "- Acknowledged: 2026-11-24 10:04:00 UTC by Olive One" in report  # a name, not U0ONE
    assert "- Time to acknowledge: 4m" in report and "- Time to mitigate: 24m" in report
    assert "- Time to resolve: 54m" in report
    assert "- Declared: 4m\n" in report and "- Investigating: 20m\n" in report and "- Monitoring: 30m\n" in report
    assert "- Time to acknowledge: met by 1m (target 5m)" in report
    assert "- L1 paged 2026-11-24 10:02:00 UTC by Firebell: acknowledged, acknowledged by Olive One after 2m" in report
    assert "## Lessons learned\n\nFlags need a second pair of eyes" in report
    assert "- [ ] #1 Review flag changes (bob, due 2026-12-20)" in report  # matched to bob, named as Slack names him
    assert "description" in [e.kind for e in timed.incidents()[0].timeline]
    printed = postmortem_cli(capsys, monkeypatch, database_url)
    assert "Olive One" in printed and "## Lessons learned" in printed  # the shell uses the names kept


def test_feedback_once_per_person_in_the_report_and_the_post_incident_report(timed: Timed, capsys, monkeypatch,
                                                                              database_url):
    run_incident(timed)
    asked = {user: [m for m in timed.slack.dms(user) if "How did the response to INC-1 go?" in m.text]
             for user in (ALICE, ONE, BOB)}
    assert (len(asked[ALICE]), len(asked[ONE]), len(asked[BOB])) == (1, 1, 0)  # commander/declarer, paged; not BOB
    dm = asked[ONE][0]
    timed.driver.click(ONE, channel_id=dm.channel, message_ts=dm.ts, action_id="feedback_score_4")
    [form] = timed.slack.wait_for(lambda: timed.slack.open_views(ONE))
    timed.driver.submit_view(ONE, form.id, {"comment": {"value": "Paging was quick"}})
    timed.driver.click(ONE, channel_id=dm.channel, message_ts=dm.ts, action_id="feedback_score_1")
    timed.slack.wait_for(lambda: any("already recorded" in m.text for m in timed.slack.dms(ONE)))
    dm = asked[ALICE][0]
    timed.driver.click(ALICE, channel_id=dm.channel, message_ts=dm.ts, action_id="feedback_score_5")
    [form] = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))
    timed.driver.submit_view(ALICE, form.id, {})  # no comment: the score alone is kept
    timed.firebell.settle(30)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["report", "--from", "2026-11-24", "--to", "2026-11-24", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["satisfaction"] == {"count": 2, "mean": 4.5,
                                       "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}}
    printed = postmortem_cli(capsys, monkeypatch, database_url)
    assert "Rated 4.5 out of 5 by the 2 people who answered." in printed and "Paging was quick" not in printed
    channel = timed.incident_channel(1).id
    timed.driver.slash_command(ALICE, "reopen It is back", channel_id=channel)
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "investigating")
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "configuration"},
                                              "root_cause": {"value": "x"}, "resolution": {"value": "y"}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
    timed.firebell.settle(30)
    assert len([m for m in timed.slack.dms(ONE) if "How did the response" in m.text]) == 1  # asked once per incident
