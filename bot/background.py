"""Work that runs after Slack has had its answer, on threads of its own (never on Bolt's listener threads).

Work submitted with the same ``key`` (an incident's channel) runs one at a time in submission order, so
two edits of one card never overtake each other; different keys run in parallel.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

Work = Callable[[], Any]


def error_id() -> str:
    """A short id a user can quote and an operator can grep for in the logs."""
    return uuid.uuid4().hex[:8]


class Background:
    def __init__(self, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firebell-work")
        self._lock = threading.Condition()
        self._pending = 0
        self._queues: dict[Hashable, deque[Work]] = {}

    def submit(self, work: Work, *, key: Hashable | None = None) -> None:
        with self._lock:
            self._pending += 1
            if key is None:
                self._pool.submit(self._run, work)
                return
            queue = self._queues.get(key)
            if queue is not None:  # a drain for this key is running; it will reach this work
                queue.append(work)
                return
            self._queues[key] = deque([work])
        self._pool.submit(self._drain, key)

    def _drain(self, key: Hashable) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                work = queue.popleft()
            self._run(work)

    def _run(self, work: Work) -> None:
        try:
            work()
        except Exception:  # last resort: the work reports what it can itself; nothing may kill the pool
            log.exception("background work %s failed (error id %s)", getattr(work, "__name__", work), error_id())
        finally:
            with self._lock:
                self._pending -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is pending (shutdown, the demo). False if the timeout passed first."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


class KeyedLocks:
    """One lock per key (a Slack team), made on first use."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def hold(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class Recent:
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
