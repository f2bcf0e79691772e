"""Values kept a moment in this process, between changes: many people ask for the same read at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from datetime import timedelta
from typing import Any

from bot.messages import error_id

log = logging.getLogger(__name__)


class ChangeAwareCache:
    """A value kept for ``ttl`` seconds and dropped at once when this process changes anything it depends on.

    Other replicas' changes reach it within ``ttl`` (one second for the open-incident list); a value older than that
    is never given out. Many people ask at once, so nobody should wait for the read: once a value is half its ``ttl``
    old, the next asker gets it and one background thread makes the next one. When the value is missing (this
    process changed something, or nobody asked for a while), one thread makes it and the others asking meanwhile
    wait for that one instead of each doing the same read."""

    WAIT_FOR_MAKER = 5.0  # seconds; a maker slower than this (a stuck database) no longer holds the others back
    REMAKE_AFTER = 0.5  # of ttl

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._lock = threading.Condition()
        self._version = 0
        self._values: dict[Hashable, tuple[int, float, object]] = {}
        self._making: dict[Hashable, int] = {}  # key -> the version a thread is making it for

    def changed(self) -> None:
        with self._lock:
            self._version += 1

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        give_up = time.monotonic() + self.WAIT_FOR_MAKER
        with self._lock:
            while True:
                now = time.monotonic()
                version = self._version
                hit = self._values.get(key)
                if hit is not None and hit[0] == version and now - hit[1] < self.ttl:
                    if now - hit[1] >= self.ttl * self.REMAKE_AFTER and key not in self._making:
                        self._making[key] = version
                        threading.Thread(target=self._remake, args=(key, make, version), daemon=True,
                                         name="firebell-recent").start()
                    return hit[2]
                if self._making.get(key) != version or now >= give_up:
                    break
                self._lock.wait(give_up - now)  # another thread is making this version; its value will do
            self._making[key] = version
        return self._make(key, make, version)

    def _make(self, key: Hashable, make: Callable[[], Any], version: int) -> Any:
        began = time.monotonic()  # the value is as old as the read's start
        made, value = False, None
        try:
            value = make()
            made = True
            return value
        finally:  # made or failed: the waiters take the value, or (after a failure) make it themselves
            with self._lock:
                if made and self._version == version:
                    self._values[key] = (version, began, value)
                if self._making.get(key) == version:
                    del self._making[key]
                self._lock.notify_all()

    def _remake(self, key: Hashable, make: Callable[[], Any], version: int) -> None:
        try:
            self._make(key, make, version)
        except Exception:  # the value then runs out, and the next asker makes it (and sees the error)
            log.warning("could not refresh %s ahead of time (error id %s)", key, error_id(), exc_info=True)


class Recently:
    """Keys seen lately in this process: ``first(key, within)`` is True for a key not seen in the last ``within``
    (and remembers it), False otherwise. For sparing work a burst would repeat, never for exactly-once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[Hashable, float] = {}

    def first(self, key: Hashable, within: timedelta) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # forget what is long past
                self._seen = {k: at for k, at in self._seen.items() if now - at < 3600}
            seen = self._seen.get(key)
            if seen is not None and now - seen < within.total_seconds():
                return False
            self._seen[key] = now
            return True
