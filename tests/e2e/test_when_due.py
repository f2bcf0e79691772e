"""The real scheduler on a clock the test moves: a deadline a change makes is taken at its due time, with no tick in
between (the scheduler learns of it from the commit and sleeps until then)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduling import Scheduler
from storage.models import DeadlineRow
from tests.e2e.conftest import ALICE, T0, FakeClock, Timed, declare_and_settle, start_timed, stop
from tests.e2e.test_sla import notices, sla_config


@pytest.fixture
def scheduled(slack, database_url):
    clock = FakeClock(T0)
    timed = start_timed(slack, database_url, sla_config(), clock)
    scheduler = timed.firebell.start_scheduler()
    clock.on_advance(scheduler.clock_moved)
    yield timed, scheduler
    stop(timed)


def sent_at(timed: Timed, key_part: str):
    with timed.db.read() as session:
        return [row.sent_at for row in session.execute(select(DeadlineRow).where(
            DeadlineRow.key.contains(key_part)).order_by(DeadlineRow.due_at)).scalars()]


def test_a_declare_wakes_the_scheduler_and_its_reminder_is_sent_at_its_due_time(scheduled):
    timed, scheduler = scheduled
    channel = declare_and_settle(timed, "declare sev1 Payments down")
    half = T0 + timedelta(minutes=2, seconds=30)  # 50% of the 5m time to acknowledge
    timed.slack.wait_for(lambda: scheduler.sleeping_until == half)
    timed.clock.advance(minutes=2, seconds=29)
    timed.firebell.settle(30)
    assert notices(timed, channel) == [] and scheduler.sleeping_until == half
    timed.clock.advance(seconds=1)
    [reminder] = timed.slack.wait_for(lambda: notices(timed, channel, "time to acknowledge"))
    assert "50% of the *time to acknowledge*" in reminder and "late" not in reminder
    assert sent_at(timed, "sla:ack:")[0] == half  # taken when due, by the scheduler on its own
    timed.slack.wait_for(lambda: scheduler.sleeping_until == T0 + timedelta(minutes=4))  # then the 80% one


def test_a_change_that_makes_an_earlier_deadline_wakes_a_sleeping_scheduler(scheduled):
    timed, scheduler = scheduled
    channel = declare_and_settle(timed, "declare sev3 Slow search")
    timed.slack.wait_for(lambda: scheduler.sleeping_until == T0 + timedelta(minutes=30))  # 50% of sev3's 1h ack
    timed.clock.advance(minutes=1)
    timed.driver.slash_command(ALICE, "sev 1", channel_id=channel)  # a 5m ack target: its 50% is 10:02:30
    half = T0 + timedelta(minutes=2, seconds=30)
    timed.slack.wait_for(lambda: scheduler.sleeping_until == half)
    timed.clock.advance(minutes=1, seconds=30)
    [reminder] = timed.slack.wait_for(lambda: notices(timed, channel, "time to acknowledge"))
    assert "50% of the *time to acknowledge* (5m)" in reminder
    assert sent_at(timed, "sla:ack:")[0] == half


def test_what_came_due_before_the_start_is_sent_at_once_and_late(slack, database_url):
    clock = FakeClock(T0)
    timed = start_timed(slack, database_url, sla_config(), clock)
    try:
        channel = declare_and_settle(timed, "declare sev1 Down while down")
        clock.advance(minutes=8)  # no scheduler ran meanwhile
        scheduler: Scheduler = timed.firebell.start_scheduler()
        [breach] = timed.slack.wait_for(lambda: notices(timed, channel, "time to acknowledge"))
        assert breach.startswith("🚨") and "Sent 3m late" in breach
        timed.firebell.settle(30)
        assert scheduler.sleeping_until is not None and len(notices(timed, channel, "time to acknowledge")) == 1
    finally:
        stop(timed)
