"""The stand-in's opt-in limits mode: Slack's Web API rate limits, answered with HTTP 429 and `Retry-After`.

Slack limits each method per app per workspace by tier (Tier 1 ~1/min, Tier 2 ~20/min, Tier 3 ~50/min,
Tier 4 ~100/min, each with some tolerance for bursts), and `chat.postMessage` to about one message per second
per channel with short bursts. Slack does not publish its exact algorithm; this model is a token bucket per
method (per channel for `chat.postMessage`): it holds `burst` calls (by default a minute's worth, at least two:
"a small amount of burst behavior is tolerated" even in Tier 1), refills at the tier's rate, and a call that
finds it empty is refused with `Retry-After` = whole seconds until the next call would pass (at least 1, as
Slack sends whole seconds). A refused call does not count against the limit.

`scale` speeds the limits' clock up for tests: with `scale=60`, a Tier 2 method takes 20 calls a *second*.
Retry-After still says real seconds, rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

TIER_1, TIER_2, TIER_3, TIER_4 = 1, 2, 3, 4
POST_MESSAGE = "chat.postMessage"

# The tier of every method the stand-in answers, from each method's reference ("Rate limits" fact). Methods
# marked "Special" there are put in the tier nearest to what their page describes.
METHOD_TIERS: dict[str, int] = {
    "api.test": TIER_4,  # special
    "apps.connections.open": TIER_1,
    "auth.test": TIER_4,  # special
    "bookmarks.add": TIER_2,
    "chat.delete": TIER_3,
    "chat.getPermalink": TIER_4,  # special
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.archive": TIER_2,
    "conversations.create": TIER_2,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.invite": TIER_3,
    "conversations.join": TIER_3,
    "conversations.list": TIER_2,
    "conversations.members": TIER_4,
    "conversations.open": TIER_3,
    "conversations.setPurpose": TIER_2,
    "conversations.setTopic": TIER_2,
    "files.completeUploadExternal": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "pins.add": TIER_2,
    "pins.list": TIER_2,
    "pins.remove": TIER_2,
    "reactions.add": TIER_3,
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "usergroups.users.update": TIER_2,
    "users.info": TIER_4,
    "users.list": TIER_2,
    "views.open": TIER_4,
    "views.publish": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
}


@dataclass(frozen=True)
class RateLimits:
    """How much the limits mode lets through. The defaults are Slack's documented tiers."""

    per_minute: dict[int, float] = field(default_factory=lambda: {TIER_1: 1, TIER_2: 20, TIER_3: 50, TIER_4: 100})
    burst: dict[int, int] | None = None  # calls a full bucket holds, per tier; None: a minute's worth (at least 2)
    posts_per_second: float = 1.0  # chat.postMessage, per channel
    post_burst: int = 3  # chat.postMessage calls one channel takes at once
    methods: dict[str, int] = field(default_factory=dict)  # tier overrides (or additions) by method name
    scale: float = 1.0  # the limits' clock runs this many times faster than the real one

    def __post_init__(self) -> None:
        if self.scale <= 0 or self.posts_per_second <= 0 or self.post_burst < 1:
            raise ValueError("scale, posts_per_second and post_burst must be positive")
        if any(rate <= 0 for rate in self.per_minute.values()):
            raise ValueError("every tier's per_minute must be positive")

    def tier(self, method: str) -> int | None:
        return self.methods.get(method, METHOD_TIERS.get(method))

    def bucket(self, method: str) -> tuple[float, float] | None:
        """(capacity, refill per real second) of the bucket a call of `method` draws from; None: unlimited."""
        if method == POST_MESSAGE:
            return float(self.post_burst), self.posts_per_second * self.scale
        tier = self.tier(method)
        if tier is None or tier not in self.per_minute:
            return None
        rate = self.per_minute[tier]
        capacity = float(self.burst[tier]) if self.burst and tier in self.burst else max(rate, 2.0)
        return capacity, rate / 60.0 * self.scale


@dataclass
class _Bucket:
    level: float
    at: float


@dataclass
class Limiter:
    """The buckets' state; not thread-safe (the workspace lock guards it)."""

    limits: RateLimits
    clock: Callable[[], float] | None = None  # seconds; None: the real monotonic clock (tests pass their own)
    buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def take(self, method: str, channel: str | None, now: float) -> int | None:
        """Let one call through (None), or refuse it: the Retry-After in whole seconds."""
        shape = self.limits.bucket(method)
        if shape is None:
            return None
        capacity, refill = shape
        key = (method, channel or "") if method == POST_MESSAGE else (method, "")
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(capacity, now)
        bucket.level = min(capacity, bucket.level + (now - bucket.at) * refill)
        bucket.at = now
        if bucket.level >= 1.0:
            bucket.level -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.level) / refill))
