"""What every use case needs, built once by the composition root and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.background import Background, KeyedLocks, Recent
from bot.config import FirebellConfig
from bot.slack.gateway import SlackGateway
from storage.db import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    config: FirebellConfig
    db: Database
    slack: SlackGateway
    background: Background
    team_id: str
    bot_user_id: str
    clock: Clock = utc_now
    wake: Callable[[], None] = lambda: None  # tells the outbox delivery there is new work (set by the runtime)
    declare_locks: KeyedLocks = field(default_factory=KeyedLocks)
    recent: Recent = field(default_factory=Recent)  # the open-incident list, between changes
