"""The served app over real HTTP, against the Slack stand-in, on each database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import FirebellConfig, Settings, SlackLimits
from bot.demo.transcript import is_json
from bot.http_server import HttpServer
from bot.runtime import Firebell, build
from bot.sandbox import SlackDriver, SlackStandIn
from storage import repositories as repo
from tests.conftest import ALICE, BOB, BROADCAST, CAROL  # noqa: F401 - the e2e tests import them from here

SIGNING_SECRET = "e2e-signing-secret"
RETRY_PAUSE = 0.05  # seconds before a failed Slack call is tried again (1 s in production): retries, not waits, matter
# The stand-in does not limit calls unless a test switches its limits mode on; nor does Firebell pace them unless that
# test does too (tests/e2e/test_pacing.py): at Slack's rates, a test posting ten updates would wait ten seconds.
UNPACED = SlackLimits(pacing=False)


@dataclass
class Running:
    firebell: Firebell
    server: HttpServer
    driver: SlackDriver
    slack: SlackStandIn

    @property
    def db(self):
        return self.firebell.deps.db

    def incidents(self):
        with self.db.read() as session:
            return repo.incidents_since(session, None)

    def incident_channel(self, number: int):
        return self.slack.wait_for(lambda: next((c for c in self.slack.channels if c.name.startswith(f"inc-{number}-")
                                                 or c.name == f"inc-{number}"), None))

    def card(self, channel_id: str):
        """The pinned card, once it is there."""
        def pinned():
            channel = self.slack.channel(channel_id)
            return self.slack.message(channel_id, channel.pins[0]) if channel.pins else None
        return self.slack.wait_for(pinned)


def settings_for(slack: SlackStandIn, database_url: str) -> Settings:
    return Settings(slack_bot_token=slack.token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
                    database_url=database_url, slack_retry_pause=RETRY_PAUSE, slack_limits=UNPACED, _env_file=None)


def e2e_config(**overrides) -> FirebellConfig:
    return FirebellConfig.model_validate({"broadcast_channel": BROADCAST, **overrides})


def start(slack: SlackStandIn, database_url: str, config: FirebellConfig | None = None, **settings: Any) -> Running:
    """Firebell served over real HTTP against the stand-in; ``settings`` override fields of Settings (slack_timeout)."""
    firebell = build(settings_for(slack, database_url).model_copy(update=settings), config or e2e_config())
    server = firebell.server("127.0.0.1", 0).start()
    return Running(firebell, server, SlackDriver(f"{server.url}/slack/events", SIGNING_SECRET, slack), slack)


@pytest.fixture
def running(slack: SlackStandIn, database_url: str) -> Iterator[Running]:
    served = start(slack, database_url)
    try:
        yield served
    finally:
        stop(served)


def answer(response) -> str:
    """What the person sees of an ack: Bolt answers a text-only ack as plain text, richer ones as JSON."""
    assert response.status == 200, (response.status, response.text)
    if is_json(response.headers):
        body = response.json()
        blocks = body.get("blocks")
        return body.get("text", "") + (json.dumps(blocks, ensure_ascii=False) if blocks else "")
    return response.text


class FakeClock:
    """Firebell's clock in tests: time moves only when the test says so (Slack signatures use real time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._moved: list[Callable[[], None]] = []

    def __call__(self) -> datetime:
        return self.now

    def on_advance(self, moved: Callable[[], None]) -> None:
        """Tell ``moved`` each time the clock moves (a running scheduler looks at it again)."""
        self._moved.append(moved)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        for moved in self._moved:
            moved()
        return self.now


T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday


@dataclass
class Timed(Running):
    clock: FakeClock

    def tick(self, **advance: float) -> int:
        """Move the clock, run the scheduler's tick once at that time, wait for the work it queued."""
        if advance:
            self.clock.advance(**advance)
        done = self.firebell.run_due("test-owner", self.clock.now)
        self.firebell.settle(30)
        return done


def start_timed(slack: SlackStandIn, database_url: str, config: FirebellConfig, clock: FakeClock,
                **settings: Any) -> Timed:
    firebell = build(settings_for(slack, database_url).model_copy(update=settings), config, clock=clock)
    server = firebell.server("127.0.0.1", 0).start()
    return Timed(firebell, server, SlackDriver(f"{server.url}/slack/events", SIGNING_SECRET, slack), slack, clock)


def stop(running: Running) -> None:
    running.server.stop()
    running.firebell.close()


def declare_and_settle(running: Running, text: str) -> str:
    """Declare INC-1 by command; return its channel once the card is up and queued work is done."""
    running.driver.slash_command(ALICE, text, channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    running.card(channel.id)
    running.firebell.settle(30)
    return channel.id
