"""What every use case needs, built once by the composition root (bot/runtime.py) and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.background import Background, Busy, Coalescing, KeyedLocks, Together
from bot.caching import ChangeAwareCache, Recently
from bot.config import FirebellConfig
from bot.observability.metrics import Metrics
from bot.pagers import Pagers
from bot.services.effects import Outbox
from bot.slack.gateway import SlackGateway
from storage.db import Database

Clock = Callable[[], datetime]  # the time source: aware UTC now


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    config: FirebellConfig  # the policy (firebell.yml)
    db: Database
    slack: SlackGateway  # the one door to Slack's Web API
    team_id: str  # the workspace this Firebell serves, and who it is there
    bot_user_id: str
    background: Background = field(default_factory=Background)  # work after the ack
    outbox: Outbox = field(default_factory=Outbox)  # Slack work written in a change's transaction
    pagers: Pagers = field(default_factory=lambda: Pagers({}))  # each tier's external pager
    clock: Clock = utc_now
    cache: ChangeAwareCache = field(default_factory=ChangeAwareCache)  # reads many ask for, dropped on a change
    declare_locks: KeyedLocks = field(default_factory=KeyedLocks)  # orders one team's declares on SQLite
    alert_doors: Busy = field(default_factory=Busy)  # notifications being taken, which their routing gives way to
    # the notifications taken at once, stored together: (source, body, received at) → id
    alert_writes: Together[tuple[str, str, datetime], int] = field(default_factory=Together)
    # App Home dashboards, refreshed after changes: a round a second at most (a card changes many times a second in
    # a storm, and each round publishes to every recent viewer; views.publish is Tier 4)
    home_refresh: Coalescing = field(default_factory=lambda: Coalescing(spacing=1.0))
    charts: ChangeAwareCache = field(default_factory=lambda: ChangeAwareCache(ttl=60))  # drawn report charts (PNG)
    recent_asks: Recently = field(default_factory=Recently)  # requests lately answered in this process
    metrics: Metrics = field(default_factory=lambda: Metrics(process=False))  # what /metrics reports
