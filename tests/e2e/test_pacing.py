"""Slack's rate limits, respected: the stand-in in its limits mode (429 + Retry-After past Slack's tiers) and Firebell
pacing its calls, over real HTTP, on each database. The limits run on a faster clock (``SCALE``) to keep the tests
short; nothing here asserts a duration."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from bot.config import SlackLimits
from bot.sandbox import RateLimits, SlackStandIn
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.pacing import TIER_2, Limits, Pacer
from storage.models import OutboxRow
from tests.e2e.conftest import ALICE, BROADCAST, Running, start, stop

SCALE = 10.0  # the limits' clock, Slack's and Firebell's alike, runs ten times faster than the real one


@pytest.fixture
def limited(slack: SlackStandIn) -> Iterator[SlackStandIn]:
    slack.enforce_limits(RateLimits(scale=SCALE))
    yield slack
    slack.enforce_limits(None)


def declare_at_once(running: Running, count: int) -> None:
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def declare(i: int) -> None:
        barrier.wait()
        statuses.append(running.driver.slash_command(ALICE, f"declare sev2 Storm {i}", channel_id="C0GENERAL").status)

    threads = [threading.Thread(target=declare, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * count


def test_twenty_incidents_at_once_announce_in_one_channel_without_a_429_each_in_order(limited: SlackStandIn,
                                                                                      database_url: str):
    # a whole call of headroom (a quarter by default): calls reach the stand-in up to one interval (0.1 s for the
    # broadcast channel's posts here) closer together than sent, on a test machine busy with other tests
    running = start(limited, database_url, slack_limits=SlackLimits.of(Limits(headroom=1).faster(SCALE)))
    try:
        declare_at_once(running, 20)
        limited.wait_for(lambda: len(limited.response_posts()) == 20, timeout=60)
        assert running.firebell.settle(60)
        incidents = running.incidents()
        assert sorted(i.number for i in incidents) == list(range(1, 21))
        assert limited.ratelimited() == {}
        announced = [m for m in limited.messages(BROADCAST)]
        assert len(announced) == 20
        calls = [c for c in limited.calls if c.ok]
        for incident in incidents:
            channel = incident.channel_id
            # the incident's own channel in its order; its announcement in a lane of its own (the broadcast
            # channel's limit holds it, not the card), once
            steps = [c.method for c in calls if c.args.get("channel") == channel]
            assert steps == ["conversations.setTopic", "conversations.invite", "chat.postMessage", "pins.add"], steps
            announcing = [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == BROADCAST
                          and f"<#{channel}>" in str(c.args.get("blocks"))]
            assert len(announcing) == 1
            assert limited.channel(channel).pins  # the card is up
    finally:
        stop(running)


def test_posts_to_other_channels_flow_while_one_channel_is_throttled(slack: SlackStandIn, database_url: str):
    """The broadcast channel takes a burst of two posts, then one per 100 s here: the first two incidents are
    announced, the third's announcement waits in the outbox (put back, not failed, not counted as a try), and its card
    goes up meanwhile."""
    slow = Limits(posts_per_second=0.01, post_burst=2, longest_sleep=0.05)
    running = start(slack, database_url, slack_limits=SlackLimits.of(slow))
    try:
        declare_at_once(running, 3)
        slack.wait_for(lambda: len([c for c in slack.channels if c.pins]) == 3, timeout=30)

        def announcements() -> list[tuple[int, str | None, object]]:
            with running.db.read() as session:
                return sorted((row.attempts, row.last_error, row.failed_at) for row in session.query(OutboxRow)
                              if '"channel": "C0INCIDENTS"' in row.payload)

        # two went out (marked done with the next claim); one waits for its turn, untried and without an error. An
        # item being sent counts one try too: wait for the two posts first
        slack.wait_for(lambda: len(slack.messages(BROADCAST)) >= 2)
        assert slack.wait_for(lambda: announcements() == [(0, None, None), (1, None, None), (1, None, None)])
        assert len(slack.messages(BROADCAST)) == 2
        # the waiting announcement's incident moves on: its channel hears it and its card shows it at once, while its
        # broadcast posts (the announcement, then this update) wait their turn, in that order
        waiting = next(i for i in running.incidents()
                       if not any(f"<#{i.channel_id}>" in str(m.blocks) for m in slack.messages(BROADCAST)))
        assert running.driver.slash_command(ALICE, "status identified found it",
                                            channel_id=waiting.channel_id).status == 200
        slack.wait_for(lambda: any("found it" in m.text + str(m.blocks) for m in slack.messages(waiting.channel_id)))
        assert slack.wait_for(lambda: "Identified" in str(running.card(waiting.channel_id).blocks))
        with running.db.read() as session:
            queued = [(row.kind, json.loads(row.payload)["channel"]) for row in session.query(OutboxRow)
                      .filter(OutboxRow.lane == f"incident:{waiting.id}:broadcast", OutboxRow.delivered_at.is_(None))
                      .order_by(OutboxRow.id)]
        assert queued == [("post", BROADCAST), ("post", BROADCAST)]
        assert len(slack.messages(BROADCAST)) == 2
        assert running.firebell.delivery.failed_for_good == 0
    finally:
        stop(running)


def test_a_429_makes_every_call_of_that_method_wait_out_its_retry_after(slack: SlackStandIn):
    """Firebell here believes users.list takes 25 calls at once; Slack (the stand-in) takes 20. The 21st is refused
    with Retry-After 3; a call of the same method from another thread then waits those 3 s too, instead of running
    into a second 429, while other methods go on at once."""

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock, lock, release = Clock(), threading.Lock(), threading.Event()
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the limits' clock moves when a sleeper wakes (once the test lets it)
        with lock:
            start, _ = clock.now, slept.append(seconds)
        release.wait(30)
        with lock:
            clock.now = max(clock.now, start + seconds)

    slack.enforce_limits(RateLimits(), clock=clock)
    try:
        pacer = Pacer(Limits(burst={TIER_2: 25}), clock)
        gateway = SlackGateway(make_client(slack.token, slack.api_url, pacer=pacer, sleep=sleep), sleep=sleep)
        for _ in range(20):
            assert gateway.find_user("alice") == ALICE
        found: list[str | None] = []
        first = threading.Thread(target=lambda: found.append(gateway.find_user("alice")))
        first.start()
        slack.wait_for(lambda: slept == [3.0])  # the 21st got 429 Retry-After 3, and waits
        second = threading.Thread(target=lambda: found.append(gateway.find_user("bob")))
        second.start()
        slack.wait_for(lambda: len(slept) == 2)
        assert slept == [3.0, 3.0]  # the other caller waits out the same Retry-After before it calls at all
        assert len(slack.calls_to("users.list")) == 21
        assert gateway.user_info(ALICE) is not None  # another method: at once
        assert len(slept) == 2
        release.set()
        first.join(30)
        second.join(30)
        assert sorted(map(str, found)) == sorted([ALICE, "U0BOB"])
        assert slack.ratelimited() == {"users.list": 1}
        assert [c.status for c in slack.calls_to("users.list")].count(200) == 22
    finally:
        slack.enforce_limits(None)
