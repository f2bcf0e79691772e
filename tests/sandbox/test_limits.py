"""The opt-in limits mode: Slack's tiers per method and ~1 post per second per channel, answered with 429 and a
whole-second Retry-After, counted where a test can see them. The bucket arithmetic is checked with explicit
times; the served behaviour through slack_sdk's WebClient (and its RateLimitErrorRetryHandler)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.sandbox import RateLimits, SlackStandIn
from bot.sandbox.limits import TIER_1, TIER_2, TIER_3, TIER_4, Limiter
from tests.sandbox.conftest import ALICE

# --- the buckets, with explicit times -------------------------------------------------------------


def test_each_tier_takes_a_minutes_worth_then_refills_at_its_rate():
    limiter = Limiter(RateLimits())
    for method, per_minute in (("conversations.create", 20), ("chat.update", 50), ("views.open", 100)):
        assert [limiter.take(method, None, now=0.0) for _ in range(per_minute)] == [None] * per_minute
        gap = 60 / per_minute
        assert limiter.take(method, None, now=0.0) == max(1, round(gap + 0.4999))  # whole seconds, rounded up
        assert limiter.take(method, None, now=gap) is None  # one more after one interval
        assert limiter.take(method, None, now=gap) is not None


def test_tier_1_tolerates_a_small_burst_then_one_a_minute():
    limiter = Limiter(RateLimits())
    assert [limiter.take("apps.connections.open", None, now=0.0) for _ in range(3)] == [None, None, 60]
    assert limiter.take("apps.connections.open", None, now=59.5) == 1
    assert limiter.take("apps.connections.open", None, now=60.0) is None


def test_posting_is_limited_per_channel_with_a_short_burst():
    limiter = Limiter(RateLimits())
    assert [limiter.take("chat.postMessage", "C0A", now=0.0) for _ in range(4)] == [None, None, None, 1]
    assert limiter.take("chat.postMessage", "C0B", now=0.0) is None  # another channel has its own allowance
    assert limiter.take("chat.postMessage", "C0A", now=1.0) is None
    assert limiter.take("chat.postMessage", "C0A", now=1.0) == 1


def test_rates_bursts_tiers_and_the_clock_are_configurable():
    fast = Limiter(RateLimits(scale=60))  # a Tier 2 method takes 20 a second
    assert [fast.take("pins.add", None, now=0.0) for _ in range(21)][-1] == 1  # Retry-After stays >= 1 s
    assert fast.take("pins.add", None, now=0.05) is None
    custom = Limiter(RateLimits(per_minute={TIER_1: 1, TIER_2: 2, TIER_3: 3, TIER_4: 4}, burst={TIER_2: 1},
                                methods={"pins.add": TIER_3}, post_burst=1, posts_per_second=0.5))
    assert [custom.take("conversations.create", None, now=0.0) for _ in range(2)] == [None, 30]
    assert [custom.take("pins.add", None, now=0.0) for _ in range(4)] == [None, None, None, 20]
    assert [custom.take("chat.postMessage", "C0A", now=0.0) for _ in range(2)] == [None, 2]
    assert custom.take("made.up", None, now=0.0) is None  # a method with no tier is not limited
    with pytest.raises(ValueError):
        RateLimits(scale=0)


# --- served ---------------------------------------------------------------------------------------


class ManualClock:
    """The limits' clock, moved by the test (and by a retry handler's sleep)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited(slack: SlackStandIn, clock: ManualClock) -> Iterator[SlackStandIn]:
    slack.enforce_limits(RateLimits(), clock=clock)
    yield slack
    slack.enforce_limits(None)


def test_off_by_default(slack: SlackStandIn, client: WebClient):
    channel_id = client.conversations_create(name="inc-1")["channel"]["id"]
    for n in range(30):
        client.chat_postMessage(channel=channel_id, text=f"update {n}")
    assert slack.ratelimited() == {} and len(slack.messages(channel_id)) == 30


def test_a_burst_past_the_tier_is_answered_429_with_retry_after(limited: SlackStandIn, client: WebClient,
                                                                 clock: ManualClock):
    for _ in range(20):
        client.users_list()
    with pytest.raises(SlackApiError) as info:
        client.users_list()
    answer = info.value.response
    assert (answer.status_code, answer["error"], answer.headers["Retry-After"]) == (429, "ratelimited", "3")
    assert client.users_info(user=ALICE)["ok"]  # other methods are not limited by users.list's bucket
    assert limited.ratelimited() == {"users.list": 1}
    assert limited.calls_to("users.list")[-1].status == 429
    clock.sleep(3)
    assert client.users_list()["ok"]


def test_posts_to_one_channel_are_limited_and_other_channels_flow(limited: SlackStandIn, client: WebClient,
                                                                   clock: ManualClock):
    busy, quiet = (client.conversations_create(name=name)["channel"]["id"] for name in ("incidents", "inc-7"))
    for n in range(3):
        client.chat_postMessage(channel=busy, text=f"INC-{n} declared")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=busy, text="INC-3 declared")
    assert (info.value.response.status_code, info.value.response.headers["Retry-After"]) == (429, "1")
    assert [m.text for m in limited.messages(busy)] == ["INC-0 declared", "INC-1 declared", "INC-2 declared"]
    assert client.chat_postMessage(channel=quiet, text="update")["ok"]
    assert limited.ratelimited() == {"chat.postMessage": 1}
    clock.sleep(1)
    assert client.chat_postMessage(channel=busy, text="INC-3 declared")["ok"]


def test_slack_sdks_retry_handler_waits_out_retry_after_and_gets_through(
        limited: SlackStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch):
    from slack_sdk.http_retry import builtin_handlers
    monkeypatch.setattr(builtin_handlers, "time", clock)  # the handler's time.sleep moves the limits' clock
    client = WebClient(token=limited.token, base_url=limited.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    for _ in range(21):  # the 21st is refused once, waited for (Retry-After 3 + jitter), and sent again
        assert client.users_list()["ok"]
    assert limited.ratelimited() == {"users.list": 1} and 3 <= clock.now < 4
    assert [c.status for c in limited.calls_to("users.list")].count(200) == 21


def test_reset_refills_the_buckets_and_forgets_the_counts(limited: SlackStandIn, client: WebClient):
    for _ in range(20):
        client.users_list()
    with pytest.raises(SlackApiError):
        client.users_list()
    limited.reset()
    assert limited.ratelimited() == {}
    assert client.users_list()["ok"]  # still in limits mode, with a full bucket
