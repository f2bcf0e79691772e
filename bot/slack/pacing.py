"""Pacing of Web API calls by Slack's rate limits, so that a burst of work does not run into 429s.

Slack limits each method per app per workspace by tier (Tier 1 ~1/min, Tier 2 ~20/min, Tier 3 ~50/min, Tier 4
~100/min, short bursts tolerated) and `chat.postMessage` to about one message per second per channel. The pacer
keeps a bucket per method (per channel for `chat.postMessage`), each a GCRA "virtual scheduling" bucket: it lets
``burst`` calls through at once, then one per ``1/rate`` seconds (each ``headroom`` intervals late, for jitter), and it
*reserves* a turn for every caller, so that callers on several threads are spaced out instead of all waking at once.
When Slack answers 429 anyway, `penalise` holds every call of that bucket until its Retry-After has passed (the one
call that got the 429 is not the only one to wait).

A caller that must not sit asleep (a delivery worker: others' work would wait behind it) asks with ``longest``:
a turn further away than that is not reserved, and `Paced` says when to come back instead. Deferred callers are
promised turns one interval apart, so that they do not all come back at the same moment.

Pure and thread-safe: no I/O; time comes from an injectable clock (seconds, monotonic).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TIER_1, TIER_2, TIER_3, TIER_4 = 1, 2, 3, 4
POST_MESSAGE = "chat.postMessage"

# The tier of each Web API method Firebell calls, from each method's reference page ("Rate limits"); methods Slack
# marks "Special" are put in the tier nearest to what their page says. A method not listed is not paced.
METHOD_TIERS: Mapping[str, int] = {
    "auth.test": TIER_4,  # special
    "bookmarks.add": TIER_2,
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
    "conversations.setTopic": TIER_2,
    "files.completeUploadExternal": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "pins.add": TIER_2,
    "usergroups.users.list": TIER_2,
    "usergroups.users.update": TIER_2,
    "users.info": TIER_4,
    "users.list": TIER_2,
    "views.open": TIER_4,
    "views.publish": TIER_4,
}
SLACK_PER_MINUTE: Mapping[int, float] = {TIER_1: 1, TIER_2: 20, TIER_3: 50, TIER_4: 100}


@dataclass(frozen=True)
class Limits:
    """How fast Firebell may call Slack: calls a minute and the burst per tier, posts a second per channel."""

    per_minute: Mapping[int, float] = field(default_factory=lambda: dict(SLACK_PER_MINUTE))
    burst: Mapping[int, int] = field(default_factory=dict)  # per tier; absent: a minute's worth (at least 2)
    posts_per_second: float = 1.0  # chat.postMessage, per channel
    post_burst: int = 3
    methods: Mapping[str, int] = field(default_factory=dict)  # tier overrides (or additions) by method name
    longest_sleep: float = 1.0  # seconds a caller that may come back later waits in place at most
    # Intervals of margin for calls that wait on the bucket's refill: calls that reach Slack closer together than they
    # were sent (network jitter), up to ``headroom`` intervals, still find room. A burst from a bucket that has been
    # full for at least that margin needs none: Slack's bucket is full as well, whatever its clock says.
    headroom: float = 0.25

    def __post_init__(self) -> None:
        if self.posts_per_second <= 0 or self.post_burst < 1 or self.longest_sleep < 0 or self.headroom < 0:
            raise ValueError("posts_per_second and post_burst must be positive, longest_sleep and headroom not "
                             "negative")
        if any(rate <= 0 for rate in self.per_minute.values()) or any(b < 1 for b in self.burst.values()):
            raise ValueError("every tier's calls per minute and burst must be positive")

    def tier(self, method: str) -> int | None:
        return self.methods.get(method, METHOD_TIERS.get(method))

    def bucket(self, method: str) -> tuple[int, float] | None:
        """(burst, calls per second) of the bucket a call of ``method`` draws from; None: not paced."""
        if method == POST_MESSAGE:
            return self.post_burst, self.posts_per_second
        tier = self.tier(method)
        if tier is None or tier not in self.per_minute:
            return None
        rate = self.per_minute[tier]
        return self.burst.get(tier, max(2, int(rate))), rate / 60.0

    def faster(self, factor: float) -> Limits:
        """The same limits on a clock ``factor`` times faster (tests and benchmarks against a stand-in whose limits
        run that much faster): every rate times ``factor``, the longest sleep divided by it."""
        bursts = {tier: self.burst.get(tier, max(2, int(rate))) for tier, rate in self.per_minute.items()}
        return Limits(per_minute={t: r * factor for t, r in self.per_minute.items()}, burst=bursts,
                      posts_per_second=self.posts_per_second * factor, post_burst=self.post_burst,
                      methods=dict(self.methods), longest_sleep=self.longest_sleep / factor, headroom=self.headroom)


class Paced(Exception):
    """The call's turn is more than the caller's ``longest`` wait away: nothing was reserved, nothing sent. Come back
    in ``wait`` seconds."""

    def __init__(self, method: str, wait: float) -> None:
        super().__init__(f"{method}: Slack's rate limit allows the next call in {wait:.2f} s")
        self.method = method
        self.wait = wait


@dataclass
class _Bucket:
    tat: float  # GCRA's theoretical arrival time: the bucket is full while tat - tolerance <= now
    promised: float = -math.inf  # the latest turn promised to a caller told to come back later
    blocked_until: float = -math.inf  # Slack's Retry-After
    drawn: int = 0  # calls since the bucket was last seen full (for at least the margin); past the burst, refill


def bucket_key(method: str, channel: str | None) -> tuple[str, str]:
    return (method, channel or "") if method == POST_MESSAGE else (method, "")


class Pacer:
    """Turns for Web API calls, by the `Limits`; shared by every thread that calls Slack."""

    def __init__(self, limits: Limits | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits  # None: calls are not paced, but a 429's Retry-After still holds the others back
        self.clock = clock
        self.longest_sleep = limits.longest_sleep if limits is not None else Limits().longest_sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _shape(self, method: str) -> tuple[int, float, float, float] | None:
        """(burst, tolerance, interval, margin) of the method's bucket, in calls and seconds; None when calls are not
        paced."""
        shape = self.limits.bucket(method) if self.limits is not None else None
        if shape is None or self.limits is None:
            return None
        burst, rate = shape
        return burst, (burst - 1) / rate, 1.0 / rate, self.limits.headroom / rate

    def take(self, method: str, channel: str | None = None, *, longest: float = math.inf) -> float:
        """Reserve the call's turn; returns the seconds to wait for it (0: go now). A turn more than ``longest``
        seconds away is not reserved: `Paced` says when to come back."""
        shape = self._shape(method)
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(bucket_key(method, channel))
            if shape is None:
                wait = bucket.blocked_until - now if bucket is not None else 0.0
                if wait > longest:
                    raise Paced(method, wait)
                return max(wait, 0.0)
            burst, tolerance, interval, margin = shape
            if bucket is None:
                bucket = self._buckets[bucket_key(method, channel)] = _Bucket(tat=now)
            drawn = 0 if bucket.tat <= now - margin else bucket.drawn
            late = margin if drawn >= burst else 0.0  # this call draws on the refill, measured in Slack's clock
            turn = max(now, bucket.tat - tolerance + late, bucket.blocked_until)
            if turn - now > longest:
                back = max(turn, bucket.promised + interval)
                bucket.promised = back
                raise Paced(method, back - now)
            bucket.tat = max(bucket.tat, turn) + interval
            bucket.drawn = drawn + 1
            return turn - now

    def held_for(self, method: str, channel: str | None = None) -> float:
        """Seconds until Slack's last Retry-After for this bucket has passed (0: not held)."""
        with self._lock:
            bucket = self._buckets.get(bucket_key(method, channel))
            return max(bucket.blocked_until - self.clock(), 0.0) if bucket is not None else 0.0

    def penalise(self, method: str, channel: str | None, retry_after: float) -> float:
        """Slack answered 429 with ``retry_after``: hold every call of the bucket until then, and let the ones after
        it through one interval apart (no burst). Returns the seconds until the bucket opens again."""
        shape = self._shape(method)
        with self._lock:
            now = self.clock()
            key = bucket_key(method, channel)
            bucket = self._buckets.setdefault(key, _Bucket(tat=now))
            bucket.blocked_until = max(bucket.blocked_until, now + max(retry_after, 0.0))
            if shape is not None:  # Slack's bucket is empty: the calls after the hold draw on its refill
                burst, tolerance, _interval, margin = shape
                bucket.tat = max(bucket.tat, bucket.blocked_until + tolerance - margin)
                bucket.drawn = burst
            return bucket.blocked_until - now
