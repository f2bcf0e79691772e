"""Handoffs at shift changes, over HTTP against the stand-in, on each database: one notice in oncall_channel naming
who goes off and who comes on with the open incidents and their SLA clocks, the same by DM to the person coming on,
the tier's user group set to them; once each, on time, across restarts and two replicas."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bot.config import FirebellConfig
from storage import oncall as rows
from tests.e2e.conftest import ALICE, BROADCAST, T0, FakeClock, Timed, declare_and_settle, start_timed, stop

ONE, TWO, THREE = "U0ONE", "U0TWO", "U0THREE"
ONCALL, GROUP = "C0ONCALL", "S0L1ONCALL"
# T0 is Tuesday 2026-11-24 10:00 UTC; L1 hands over daily at 11:00 UTC: ONE until 11:00, then TWO.
HANDOFF = datetime(2026, 11, 24, 11, tzinfo=UTC)


def config() -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "oncall_channel": ONCALL,
        "tiers": [{"name": "L1", "usergroup": GROUP,
                   "schedule": [{"users": [ONE, TWO], "every": "1d", "handoff": "2026-11-23T11:00",
                                 "timezone": "UTC"}]},
                  {"name": "L2", "members": [THREE]}],
    })


@pytest.fixture
def people(slack):
    for user, name in ((ONE, "one"), (TWO, "two"), (THREE, "three")):
        slack.add_user(user, name)
    slack.add_channel("oncall", channel_id=ONCALL, members=[ALICE])
    slack.add_usergroup(GROUP, "l1-oncall", [ONE])
    return slack


@pytest.fixture
def timed(people, database_url):
    running = start_timed(people, database_url, config(), FakeClock(T0))
    yield running
    stop(running)


def notices(timed: Timed) -> list:
    return [m for m in timed.slack.messages(ONCALL) if "L1 handoff" in m.text]


def test_a_shift_change_posts_one_notice_with_the_open_incidents_dms_and_sets_the_group(timed: Timed):
    channel = declare_and_settle(timed, "declare sev2 Orders stuck")
    timed.tick(minutes=59)  # 10:59 (the incident's SLA reminders go to its channel)
    assert notices(timed) == []
    timed.tick(minutes=1)  # 11:00
    [notice] = timed.slack.wait_for(lambda: notices(timed))
    assert f"<@{ONE}> (layer 1) → <@{TWO}> (layer 1)" in notice.text
    body = str(notice.blocks)
    assert "INC-1" in body and "Orders stuck" in body and f"<#{channel}>" in body and "Time to resolve: due" in body
    [dm] = timed.slack.wait_for(lambda: [m for m in timed.slack.dms(TWO) if "L1 handoff" in m.text])
    assert dm.text == notice.text
    timed.slack.wait_for(lambda: timed.slack.usergroup_members(GROUP) == [TWO])
    timed.tick(minutes=1)
    assert len(notices(timed)) == 1
    with timed.db.read() as session:
        planned = [(h.due_at, h.sent_at is not None) for h in rows.handoffs(session, "L1") if h.cancelled_at is None]
    assert planned == [(HANDOFF, True), (datetime(2026, 11, 25, 11, tzinfo=UTC), False)]


def test_no_open_incidents_says_so(timed: Timed):
    timed.tick(hours=1)
    [notice] = timed.slack.wait_for(lambda: notices(timed))
    assert "No open incidents." in str(notice.blocks)


def test_a_handoff_missed_while_down_is_sent_once_late_after_the_restart(people, database_url):
    clock = FakeClock(T0)
    first = start_timed(people, database_url, config(), clock)
    stop(first)
    clock.advance(hours=3)  # 13:00: the 11:00 handoff passed while no Firebell ran
    second = start_timed(people, database_url, config(), clock)
    try:
        assert second.tick() == 1
        [notice] = second.slack.wait_for(lambda: notices(second))
        assert "late: Firebell was not running at the shift change" in str(notice.blocks)
        stop(second)
        second = start_timed(people, database_url, config(), clock)
        assert second.tick(minutes=1) == 0
        second.firebell.settle(30)
        assert len(notices(second)) == 1
    finally:
        stop(second)


def test_two_replicas_send_each_handoff_once(people, database_url):
    clock = FakeClock(T0)
    one = start_timed(people, database_url, config(), clock)
    two = start_timed(people, database_url, config(), clock)  # both planned the same handoff: one row
    try:
        with one.db.read() as session:
            assert len([h for h in rows.handoffs(session, "L1") if h.cancelled_at is None]) == 1
        clock.advance(hours=1)
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
        timed_dms = [m for m in one.slack.dms(TWO) if "L1 handoff" in m.text]
        assert len(notices(one)) == 1 and len(timed_dms) == 1
    finally:
        stop(one)
        stop(two)


def test_an_override_makes_its_own_shift_changes(timed: Timed):
    timed.driver.slash_command(THREE, f"oncall override L1 <@{THREE}> 30m", channel_id="C0GENERAL")
    timed.tick()
    [first] = timed.slack.wait_for(lambda: notices(timed))
    assert f"<@{ONE}> (layer 1) → <@{THREE}> (🔁 override #1)" in first.text
    timed.tick(minutes=30)
    second = timed.slack.wait_for(lambda: notices(timed)[1:])[0]
    assert f"<@{THREE}> (🔁 override #1) → <@{ONE}> (layer 1)" in second.text
    timed.slack.wait_for(lambda: timed.slack.usergroup_members(GROUP) == [ONE])


def test_at_start_the_user_group_is_set_to_the_on_call_now(slack, database_url):
    for user, name in ((ONE, "one"), (TWO, "two"), (THREE, "three")):
        slack.add_user(user, name)
    slack.add_channel("oncall", channel_id=ONCALL, members=[ALICE])
    slack.add_usergroup(GROUP, "l1-oncall", [THREE])  # stale: set by hand, or before a shift changed while down
    running = start_timed(slack, database_url, config(), FakeClock(T0))
    try:
        running.slack.wait_for(lambda: running.slack.usergroup_members(GROUP) == [ONE])
    finally:
        stop(running)
