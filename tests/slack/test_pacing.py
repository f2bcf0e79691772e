"""The pacer's arithmetic, with a clock the test moves: turns by Slack's tiers and per-channel posting, a 429's
Retry-After shared by every caller of the bucket, deferred callers told to come back one interval apart."""

from __future__ import annotations

import math
import threading

import pytest

from bot.config import Settings, SlackLimits
from bot.slack.pacing import TIER_2, Limits, Paced, Pacer

EXACT = Limits(headroom=0)  # Slack's bursts used to the last call: the arithmetic in whole seconds


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def turns(pacer: Pacer, method: str, count: int, channel: str | None = None) -> list[float]:
    return [round(pacer.take(method, channel), 6) for _ in range(count)]


def test_a_tier_lets_its_burst_through_then_one_call_per_interval():
    clock = Clock()
    pacer = Pacer(EXACT, clock)
    # conversations.create is Tier 2: 20 a minute, a minute's worth at once by default, then one every 3 s
    assert turns(pacer, "conversations.create", 22) == [0.0] * 20 + [3.0, 6.0]
    clock.now += 6.0
    assert turns(pacer, "conversations.create", 1) == [3.0]  # the two reserved turns were taken meanwhile
    assert turns(pacer, "chat.update", 50) == [0.0] * 50  # another method has a bucket of its own


def test_tier_1_bursts_two_then_one_a_minute():
    pacer = Pacer(Limits(methods={"apps.connections.open": 1}, headroom=0), Clock())
    assert turns(pacer, "apps.connections.open", 3) == [0.0, 0.0, 60.0]


def test_posts_are_paced_per_channel_one_a_second_after_a_burst():
    clock = Clock()
    pacer = Pacer(EXACT, clock)
    assert turns(pacer, "chat.postMessage", 5, "C0BROADCAST") == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert turns(pacer, "chat.postMessage", 3, "C0INC1") == [0.0, 0.0, 0.0]  # another channel flows
    clock.now += 10.0  # the bucket refills up to its burst, no further
    assert turns(pacer, "chat.postMessage", 4, "C0BROADCAST") == [0.0, 0.0, 0.0, 1.0]


def test_calls_that_wait_on_the_refill_keep_a_margin_for_jitter_a_full_burst_needs_none():
    clock = Clock()
    pacer = Pacer(Limits(), clock)  # a quarter of an interval by default, on each call past the burst
    assert turns(pacer, "chat.postMessage", 5, "C0BROADCAST") == [0.0, 0.0, 0.0, 1.25, 2.25]
    clock.now += 5.5  # full since 4 s (the last turn + its interval): for longer than the margin, a whole burst
    assert turns(pacer, "chat.postMessage", 4, "C0BROADCAST") == [0.0, 0.0, 0.0, 1.25]
    clock.now += 4.1  # full by this clock only 0.1 s ago, less than the margin: Slack's may not be yet
    assert turns(pacer, "chat.postMessage", 4, "C0BROADCAST") == [0.0, 0.0, 0.25, 1.25]
    pacer = Pacer(Limits(headroom=1), Clock())  # a whole interval
    assert turns(pacer, "chat.postMessage", 5, "C0BROADCAST") == [0.0, 0.0, 0.0, 2.0, 3.0]


def test_a_full_bucket_refills_at_the_rate():
    clock = Clock()
    pacer = Pacer(Limits(per_minute={TIER_2: 20}, burst={TIER_2: 2}, headroom=0), clock)
    assert turns(pacer, "pins.add", 2) == [0.0, 0.0]
    clock.now += 3.0  # one interval: one more call
    assert turns(pacer, "pins.add", 2) == [0.0, 3.0]


def test_methods_without_a_tier_and_pacing_off_go_at_once():
    assert turns(Pacer(Limits(), Clock()), "made.up", 100) == [0.0] * 100
    assert turns(Pacer(None, Clock()), "chat.postMessage", 100, "C0A") == [0.0] * 100


def test_a_429_holds_every_call_of_the_bucket_until_its_retry_after():
    clock = Clock()
    pacer = Pacer(Limits(), clock)
    assert pacer.penalise("chat.postMessage", "C0BUSY", 5) == 5
    assert pacer.held_for("chat.postMessage", "C0BUSY") == 5
    # after the hold, one a second: no burst right after Slack said stop
    assert turns(pacer, "chat.postMessage", 3, "C0BUSY") == [5.0, 6.0, 7.0]
    assert turns(pacer, "chat.postMessage", 1, "C0QUIET") == [0.0]
    assert pacer.held_for("chat.postMessage", "C0QUIET") == 0
    clock.now += 5
    assert pacer.held_for("chat.postMessage", "C0BUSY") == 0


def test_a_429_holds_callers_even_with_pacing_off():
    clock = Clock()
    pacer = Pacer(None, clock)
    pacer.penalise("users.list", None, 3)
    assert turns(pacer, "users.list", 2) == [3.0, 3.0]
    with pytest.raises(Paced):
        pacer.take("users.list", longest=1.0)
    clock.now += 3
    assert turns(pacer, "users.list", 2) == [0.0, 0.0]


def test_a_caller_that_may_come_back_is_told_when_and_reserves_nothing():
    clock = Clock()
    pacer = Pacer(EXACT, clock)
    assert turns(pacer, "chat.postMessage", 4, "C0B") == [0.0, 0.0, 0.0, 1.0]
    with pytest.raises(Paced) as first:
        pacer.take("chat.postMessage", "C0B", longest=1.0)
    with pytest.raises(Paced) as second:
        pacer.take("chat.postMessage", "C0B", longest=1.0)
    assert (first.value.wait, second.value.wait) == (2.0, 3.0)  # promised turns one interval apart
    clock.now += 2.0
    assert pacer.take("chat.postMessage", "C0B", longest=1.0) == 0.0  # nothing was reserved for the deferred ones
    assert pacer.take("chat.postMessage", "C0B", longest=1.0) == 1.0


def test_threads_get_distinct_turns():
    pacer = Pacer(EXACT, Clock())
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(10):
            wait = pacer.take("chat.postMessage", "C0B")
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0.0, 0.0, 0.0, *[float(n) for n in range(1, 78)]]


def test_limits_come_from_slack_limits_json_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLACK_LIMITS", '{"per_minute": {"2": 40}, "burst": {"2": 4}, "posts_per_second": 2}')
    limits = Settings(_env_file=None).slack_limits.limits()
    assert limits is not None
    assert limits.bucket("conversations.create") == (4, 40 / 60)
    assert limits.bucket("chat.update") == (50, 50 / 60)  # the tiers not given keep Slack's rates
    assert limits.bucket("chat.postMessage") == (3, 2.0)
    monkeypatch.setenv("SLACK_LIMITS", '{"pacing": false}')
    assert Settings(_env_file=None).slack_limits.limits() is None
    assert Settings(_env_file=None, slack_limits=SlackLimits()).slack_limits.limits() == Limits()
    assert SlackLimits.of(Limits().faster(10)).limits() == Limits().faster(10)


def test_faster_limits_scale_rates_and_the_longest_sleep():
    fast = Limits().faster(60)
    assert fast.bucket("conversations.create") == (20, 20.0)
    assert fast.bucket("chat.postMessage") == (3, 60.0)
    assert math.isclose(fast.longest_sleep, 1 / 60)
