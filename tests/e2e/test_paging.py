"""Paging tiers: DMs with an Acknowledge button, escalation L1 → L2 → L3 on the clock, once, across restarts."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest

from bot.config import FirebellConfig
from bot.services.incidents import export
from storage import schedule
from tests.e2e.conftest import ALICE, BROADCAST, T0, FakeClock, Timed, answer, declare_and_settle, start_timed, stop

ONE, ONE_B, TWO, THREE = "U0ONE", "U0ONEB", "U0TWO", "U0THREE"


def paging_config(**extra) -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "30m", "update_every": "1h", "resolve": "4h", "page": "L1"}},
        "tiers": [{"name": "L1", "members": [ONE, ONE_B], "ack_timeout": "10m"},
                  {"name": "L2", "members": [TWO], "ack_timeout": "15m"},
                  {"name": "L3", "members": [THREE], "ack_timeout": "5m"}],
        **extra,
    })


@pytest.fixture
def people(slack):
    for user, name in ((ONE, "one"), (ONE_B, "oneb"), (TWO, "two"), (THREE, "three")):
        slack.add_user(user, name)
    return slack


@pytest.fixture
def timed(people, database_url):
    running = start_timed(people, database_url, paging_config(), FakeClock(T0))
    yield running
    stop(running)


def declare(timed: Timed, text: str = "declare sev2 Orders stuck") -> str:
    return declare_and_settle(timed, text)


def page_dm(timed: Timed, user: str, *, index: int = -1):
    return timed.slack.wait_for(lambda: [m for m in timed.slack.dms(user) if "You are paged" in m.text])[index]


def pages(timed: Timed):
    return timed.incidents()[0].pages


def test_page_sends_dms_with_a_button_and_the_dm_acknowledges(timed: Timed):
    channel = declare(timed)
    assert answer(timed.driver.slash_command(ALICE, "page L1 DB latency is up", channel_id=channel)) == ""
    first, second = page_dm(timed, ONE), page_dm(timed, ONE_B)
    blocks = json.dumps(first.blocks)
    assert "Orders stuck" in blocks and f"<#{channel}>" in blocks and "DB latency is up" in blocks and "SEV2" in blocks
    timed.slack.wait_for(lambda: {ONE, ONE_B} <= timed.slack.channel(channel).members)
    note = timed.slack.wait_for(lambda: [m for m in timed.slack.messages(channel) if "paged *L1*" in m.text])[0]
    assert f"<@{ONE}>" in note.text and f"<@{ALICE}> paged" in note.text

    timed.driver.click(ONE_B, channel_id=second.channel, message_ts=second.ts, action_id="page_acknowledge")
    timed.slack.wait_for(lambda: "You acknowledged" in timed.slack.message(second.channel, second.ts).text)
    timed.slack.wait_for(lambda: f"Handled: <@{ONE_B}> acknowledged" in json.dumps(
        timed.slack.message(first.channel, first.ts).blocks))
    assert "page_acknowledge" not in json.dumps(timed.slack.message(first.channel, first.ts).blocks)
    [page] = pages(timed)
    assert (page.status, page.acknowledged_by, set(page.notified)) == ("acknowledged", ONE_B, {ONE, ONE_B})
    incident = timed.incidents()[0]
    assert incident.acknowledged_by == ONE_B and incident.status.value == "investigating"
    timed.tick(minutes=30)
    assert len(pages(timed)) == 1  # acknowledged: no escalation, ever


def test_a_page_acknowledged_twice_records_the_first(timed: Timed):
    channel = declare(timed)
    timed.driver.slash_command(ALICE, "page L1", channel_id=channel)
    first = page_dm(timed, ONE)
    page_dm(timed, ONE_B)
    click = timed.driver.click(ONE, channel_id=first.channel, message_ts=first.ts, action_id="page_acknowledge")
    # ONE_B clicked too, before the edit of their DM reached them: the same button, another person
    stale = {**click.sent, "user": {**click.sent["user"], "id": ONE_B, "username": "oneb", "name": "oneb"}}
    timed.driver.raw(urlencode({"payload": json.dumps(stale)}).encode(), "application/x-www-form-urlencoded")
    timed.slack.wait_for(lambda: any("already acknowledged by <@U0ONE>" in m.text
                                     for m in [*timed.slack.ephemerals, *timed.slack.dms(ONE_B)]))
    assert pages(timed)[0].acknowledged_by == ONE
    assert [e.kind for e in timed.incidents()[0].timeline].count("page acknowledged") == 1


def test_no_ack_escalates_through_the_tiers_and_the_last_renotifies_once(timed: Timed):
    channel = declare(timed, "declare sev1 Payments down")  # sev1 pages L1 by policy
    page_dm(timed, ONE)
    assert [p.tier for p in pages(timed)] == ["L1"] and pages(timed)[0].paged_by is None
    assert timed.tick(minutes=9, seconds=59) == 0
    assert timed.tick(seconds=1) == 1
    dm = page_dm(timed, TWO)
    assert "Escalated to L2" in json.dumps(dm.blocks) and "nobody in L1 acknowledged within 10m" in json.dumps(dm.blocks)
    timed.slack.wait_for(lambda: any("Escalated to L2" in m.text for m in timed.slack.messages(channel)))
    assert [(p.tier, p.status) for p in pages(timed)] == [("L1", "escalated"), ("L2", "active")]
    timed.tick(minutes=15)
    page_dm(timed, THREE)
    assert [p.tier for p in pages(timed)] == ["L1", "L2", "L3"]
    timed.tick(minutes=5)
    renotified = timed.slack.wait_for(lambda: [m for m in timed.slack.messages(channel) if "last tier" in m.text])
    assert f"<@{THREE}>" in renotified[0].text and f"<@{ALICE}>" in renotified[0].text
    assert len([m for m in timed.slack.dms(ALICE) if "Still nobody has acknowledged" in json.dumps(m.blocks)]) == 1
    timed.tick(minutes=60)
    assert len([m for m in timed.slack.messages(channel) if "last tier" in m.text]) == 1
    assert [p.tier for p in pages(timed)] == ["L1", "L2", "L3"]
    assert [e.kind for e in timed.incidents()[0].timeline].count("renotified") == 1


def test_escalation_stops_on_ack_command_on_resolve_and_on_a_manual_page(timed: Timed):
    channel = declare(timed, "declare sev1 Payments down")
    page_dm(timed, ONE)
    assert answer(timed.driver.slash_command(ONE, "ack", channel_id=channel)) == ""
    assert pages(timed)[0].status == "acknowledged"
    timed.tick(minutes=30)
    assert len(pages(timed)) == 1

    timed.driver.slash_command(ALICE, "page L2 second opinion", channel_id=channel)
    page_dm(timed, TWO)
    timed.driver.slash_command(ALICE, "page L3 take over", channel_id=channel)  # by hand: L2's escalation stops
    page_dm(timed, THREE)
    assert [(p.tier, p.status) for p in pages(timed)] == [("L1", "acknowledged"), ("L2", "stopped"), ("L3", "active")]
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "capacity"},
                                              "root_cause": {"value": "x"}, "resolution": {"value": "y"}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
    timed.tick(minutes=60)
    assert [p.status for p in pages(timed)] == ["acknowledged", "stopped", "stopped"]
    with timed.db.read() as session:
        assert [d for d in schedule.pending(session) if d.kind == "page"] == []


def test_unknown_tiers_list_the_valid_ones(timed: Timed):
    channel = declare(timed)
    assert answer(timed.driver.slash_command(ALICE, "page L9", channel_id=channel)) == (
        "There is no tier `L9`. Tiers: L1, L2, L3.")
    assert pages(timed) == ()


def test_a_raise_to_a_paging_severity_pages_by_policy(timed: Timed):
    channel = declare(timed)
    assert pages(timed) == ()
    timed.driver.slash_command(ALICE, "sev 1", channel_id=channel)
    page_dm(timed, ONE)
    assert [(p.tier, p.reason) for p in pages(timed)] == [("L1", "Severity raised to SEV1")]


def test_the_card_shows_pages_and_export_lists_them(timed: Timed, tmp_path):
    channel = declare(timed, "declare sev1 Payments down")
    page_dm(timed, ONE)
    card = timed.slack.wait_for(lambda: (m := timed.slack.message(channel, timed.incidents()[0].card_ts))
                                and "L1 paged" in json.dumps(m.blocks) and m)
    assert "waiting for an acknowledgement" in json.dumps(card.blocks)
    [incident] = export(timed.firebell.deps, None)
    [page] = incident["pages"]
    assert page["tier"] == "L1" and page["status"] == "active" and set(page["notified"]) == {ONE, ONE_B}
    assert page["paged_at"] == T0.isoformat() and page["acknowledged_at"] is None


def test_a_restart_between_page_and_timeout_still_escalates_on_time(people, database_url):
    clock = FakeClock(T0)
    first = start_timed(people, database_url, paging_config(), clock)
    declare(first, "declare sev1 Payments down")
    page_dm(first, ONE)
    stop(first)  # the bot goes away; the deadline stays in the database
    second = start_timed(people, database_url, paging_config(), clock)
    try:
        assert second.tick(minutes=9) == 0
        assert second.tick(minutes=1) == 1
        page_dm(second, TWO)
        assert [p.tier for p in pages(second)] == ["L1", "L2"]
    finally:
        stop(second)


def test_two_replicas_escalate_once(people, database_url):
    clock = FakeClock(T0)
    one = start_timed(people, database_url, paging_config(), clock)
    two = start_timed(people, database_url, paging_config(), clock)
    try:
        declare(one, "declare sev1 Payments down")
        page_dm(one, ONE)
        clock.advance(minutes=10)
        done: list[int] = []
        barrier = threading.Barrier(2)

        def tick(replica: Timed, owner: str) -> None:
            barrier.wait()
            done.append(replica.firebell.run_due(owner, clock.now))

        threads = [threading.Thread(target=tick, args=(r, f"replica-{i}")) for i, r in enumerate((one, two))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        one.firebell.settle(30)
        two.firebell.settle(30)
        assert sorted(done) == [0, 1]
        assert [p.tier for p in pages(one)] == ["L1", "L2"]
        assert len([m for m in people.dms(TWO) if "You are paged" in m.text]) == 1
    finally:
        stop(one)
        stop(two)


def test_the_card_page_button_opens_a_tier_picker(timed: Timed):
    channel = declare(timed)
    card_ts = timed.incidents()[0].card_ts
    timed.driver.click(ALICE, channel_id=channel, message_ts=card_ts, action_id="incident_page")
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    options = [o["value"] for b in view.blocks if b["block_id"] == "tier" for o in b["element"]["options"]]
    assert view.callback_id == "incident_page_modal" and options == ["L1", "L2", "L3"]
    timed.driver.submit_view(ALICE, view.id, {"tier": {"value": "L2"}, "message": {"value": "need a DBA"}})
    dm = page_dm(timed, TWO)
    assert "need a DBA" in json.dumps(dm.blocks)
    assert [(p.tier, p.paged_by) for p in pages(timed)] == [("L2", ALICE)]


def test_a_tier_can_name_a_user_group(people, database_url):
    people.add_usergroup("S0DBAS", "dbas", users=[TWO, THREE])
    config = FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST, "tiers": [{"name": "DBA", "members": ["S0DBAS", ONE], "ack_timeout": "5m"}]})
    timed = start_timed(people, database_url, config, FakeClock(T0))
    try:
        channel = declare(timed)
        timed.driver.slash_command(ALICE, "page dba", channel_id=channel)
        for person in (TWO, THREE, ONE):
            page_dm(timed, person)
        timed.slack.wait_for(lambda: set(pages(timed)[0].notified) == {ONE, TWO, THREE})
    finally:
        stop(timed)


PD_KEY = "0123456789abcdef0123456789abcdef"
OG_KEY = "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e"


def test_external_pagers_get_trigger_acknowledge_and_resolve(people, database_url, monkeypatch):
    from tests.pagers.vendor_standins import OpsgenieStandIn, PagerDutyStandIn

    monkeypatch.setenv("FIREBELL_TEST_PD_KEY", PD_KEY)
    monkeypatch.setenv("FIREBELL_TEST_OG_KEY", OG_KEY)
    with PagerDutyStandIn([PD_KEY]) as pagerduty, OpsgenieStandIn([OG_KEY]) as opsgenie:
        config = FirebellConfig.model_validate({"broadcast_channel": BROADCAST, "tiers": [
            {"name": "L1", "members": [ONE], "ack_timeout": "10m",
             "pager": {"type": "pagerduty", "key_env": "FIREBELL_TEST_PD_KEY", "url": pagerduty.url}},
            {"name": "L2", "members": [TWO],
             "pager": {"type": "opsgenie", "key_env": "FIREBELL_TEST_OG_KEY", "url": opsgenie.url}}]})
        timed = start_timed(people, database_url, config, FakeClock(T0))
        try:
            channel = declare(timed, "declare sev1 Payments down")
            timed.driver.slash_command(ALICE, "page L1 look at payments", channel_id=channel)
            page_dm(timed, ONE)
            timed.tick(minutes=10)  # escalates to L2, which goes to Opsgenie
            page_dm(timed, TWO)
            dm = page_dm(timed, TWO)
            timed.driver.click(TWO, channel_id=dm.channel, message_ts=dm.ts, action_id="page_acknowledge")
            timed.slack.wait_for(lambda: pages(timed)[-1].acknowledged_by == TWO)
            timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
            view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
            timed.driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "dependency"},
                                                      "root_cause": {"value": "x"}, "resolution": {"value": "y"}})
            timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
            timed.firebell.settle()
            key = f"firebell-{people.team_id}-INC-1-L1"
            assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [
                ("trigger", key), ("acknowledge", key), ("resolve", key)]
            trigger = pagerduty.events[0]
            assert trigger["payload"]["severity"] == "critical" and "INC-1 (SEV1): Payments down" in \
                trigger["payload"]["summary"]
            assert pagerduty.alerts() == {key: "resolved"}
            assert opsgenie.alerts() == {f"firebell-{people.team_id}-INC-1-L2": "closed"}
            assert pagerduty.rejected == [] and opsgenie.rejected == []
        finally:
            stop(timed)


def test_a_failing_pager_does_not_stop_the_slack_page(people, database_url, monkeypatch):
    from tests.pagers.vendor_standins import PagerDutyStandIn

    monkeypatch.setenv("FIREBELL_TEST_PD_KEY", PD_KEY)
    with PagerDutyStandIn([PD_KEY]) as pagerduty:
        pagerduty.fail(status=500, times=10)
        config = FirebellConfig.model_validate({"broadcast_channel": BROADCAST, "tiers": [
            {"name": "L1", "members": [ONE], "pager": {"type": "pagerduty", "key_env": "FIREBELL_TEST_PD_KEY",
                                                        "url": pagerduty.url}}]})
        timed = start_timed(people, database_url, config, FakeClock(T0))
        try:
            channel = declare(timed)
            timed.driver.slash_command(ALICE, "page L1", channel_id=channel)
            page_dm(timed, ONE)
            note = timed.slack.wait_for(lambda: [m.text for m in timed.slack.messages(channel) if "paged *L1*" in m.text])
            assert "pagerduty did not take the trigger for L1" in note[0] and PD_KEY not in note[0]
            assert pagerduty.events == []
        finally:
            stop(timed)
