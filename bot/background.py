"""Work that runs after Slack has had its answer, on threads of its own (never on Bolt's listener threads).

Work submitted with the same ``key`` (an incident's channel) runs one at a time in submission order, so
two edits of one card never overtake each other; different keys run in parallel. Work runs in the context it was
submitted from, so its log lines carry the request id of the request that asked for it.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast

from bot.messages import error_id

log = logging.getLogger(__name__)

Work = Callable[[], Any]
T = TypeVar("T")
R = TypeVar("R")


class Background:
    def __init__(self, workers: int = 8, later: Callable[[float, Callable[[], None]], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firebell-work")
        self._later = later or _timer
        self._lock = threading.Condition()
        self._pending = 0
        self._queues: dict[Hashable, deque[Work]] = {}
        self._closed = False

    def submit(self, work: Work, *, key: Hashable | None = None) -> None:
        work = _in_this_context(work)
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

    def submit_later(self, seconds: float, work: Work) -> None:
        """``work`` in ``seconds``; pending from now, so `wait_idle` (shutdown, the demo) waits for it too. Dropped if
        the pool has been shut down by then."""
        work = _in_this_context(work)
        with self._lock:
            self._pending += 1

        def due() -> None:
            with self._lock:  # not after shutdown (what was set for later is dropped then)
                if not self._closed:
                    self._pending += 1
                    self._pool.submit(self._run, work)
                self._pending -= 1
                self._lock.notify_all()

        self._later(seconds, due)

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
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True)


class KeyedLocks:
    """One lock per key (a Slack team), made on first use."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def hold(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class Busy:
    """Requests in flight at a door, and background work that gives way to them: at concurrency 10 one interpreter's
    threads take turns, so work done beside the requests is added to their answer time. ``quiet_in`` says how long
    until no request has been in flight for ``quiet`` seconds: work that can wait is put off by that much.

    With a ``resume`` registered (`when_quiet`), work put off while the doors are busy is put off for as long as it
    may wait, and ``resume`` is called once the doors have been quiet for ``quiet``: nothing comes back every
    ``quiet`` seconds to look (on SQLite each look is a write that the requests would wait behind)."""

    def __init__(self, quiet: float = 0.05, clock: Callable[[], float] = time.monotonic,
                 later: Callable[[float, Callable[[], None]], None] | None = None) -> None:
        self.quiet = quiet
        self.clock = clock
        self._later = later or _timer
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last = float("-inf")  # when the last request ended (monotonic)
        self.waiting = False  # work that gives way is put off and will come back by itself
        self._resume: Callable[[], None] | None = None
        self._looking = False  # a look whether the doors are quiet is set (``later``)

    def when_quiet(self, resume: Callable[[], None]) -> None:
        """What brings work put off back once the doors are quiet (called on a thread of its own)."""
        self._resume = resume

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last = self.clock()
                look = self._in_flight == 0 and self._set_look()
            if look:
                self._later(self.quiet, self._look)

    def _set_look(self) -> bool:
        """(Under the lock.) Whether to set a look for the work put off now: none is set yet, and there is one."""
        look = self.waiting and self._resume is not None and not self._looking
        self._looking = self._looking or look
        return look

    def _look(self) -> None:
        with self._lock:
            left = self._quiet_in() if self._in_flight == 0 else None  # None: the request in flight will look
            again = left is not None and left > 0 and self.waiting
            resume = self.waiting and left == 0
            self._looking = again
            if resume:
                self.waiting = False
        if again and left is not None:
            self._later(left, self._look)  # a request came and went meanwhile: quiet a little later
        elif resume and self._resume is not None:
            try:
                self._resume()
            except Exception:  # the work comes back by itself when it may wait no longer
                log.exception("could not bring back the work put off for the doors")

    def quiet_in(self) -> float:
        """Seconds until the doors may be quiet (0: they are): a request in flight ends at an unknown time, so
        ``quiet`` from now is the next look."""
        with self._lock:
            return self._quiet_in()

    def _quiet_in(self) -> float:
        if self._in_flight:
            return self.quiet
        return max(self._last + self.quiet - self.clock(), 0.0)

    def put_off(self, longest: float) -> float:
        """For the work that gives way: seconds to put it off (0: go now), at most ``longest``. While it is put off,
        `waiting` is True: the doors need not wake it, it comes back by itself (with a ``resume``, once they are
        quiet; a request in flight when it is put off ends later)."""
        with self._lock:
            quiet_in = self._quiet_in() if longest > 0 else 0.0
            wait = 0.0
            if quiet_in != 0:  # with a resume, it is brought back when the doors are quiet; else it comes back to look
                wait = longest if self._resume is not None else min(quiet_in, longest)
            self.waiting = wait > 0
            look = self._in_flight == 0 and self._set_look()
        if look:  # no request will end to look: the last ended less than ``quiet`` ago
            self._later(quiet_in, self._look)
        return wait


def _in_this_context(work: Work) -> Work:
    """``work`` to run in a copy of the caller's context (its log fields), keeping its name for the logs."""
    return functools.update_wrapper(functools.partial(contextvars.copy_context().run, work), work)


def _timer(seconds: float, then: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, then)
    timer.daemon = True
    timer.start()


class Together(Generic[T, R]):
    """Writes that arrive together are written together (a group commit): a caller whose item finds no write under
    way writes it at once, with every item queued meanwhile, in one ``write`` (one transaction: its results are the
    items', in order); the callers that came while a write was under way wait for it to end, and the first of them
    writes all of theirs in the next. Each caller returns only once its own item is written (or raises what the
    write raised), so "stored" still means committed, for one round trip and one commit per group, not per item."""

    def __init__(self) -> None:
        self._queue: list[_Waiting[T, R]] = []
        self._queue_lock = threading.Lock()
        self._writing = threading.Lock()

    def __call__(self, item: T, write: Callable[[list[T]], list[R]]) -> R:
        waiting = _Waiting[T, R](item)
        with self._queue_lock:
            self._queue.append(waiting)
        with self._writing:
            if not waiting.done:  # not written by the write before: write it, with whatever queued behind it
                with self._queue_lock:
                    group, self._queue = self._queue, []
                try:
                    results = write([w.item for w in group])
                except Exception as exc:  # none of the group was written: each caller raises it
                    for w in group:
                        w.error, w.done = exc, True
                else:
                    for w, result in zip(group, results, strict=True):
                        w.result, w.done = result, True
        if waiting.error is not None:
            raise waiting.error
        return cast(R, waiting.result)


class _Waiting(Generic[T, R]):
    __slots__ = ("item", "result", "error", "done")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: Exception | None = None
        self.done = False


class Coalescing:
    """Work that many changes ask for but one run satisfies (refreshing dashboards): at most one run at a time, one
    run's start at least ``spacing`` seconds after the last one's, and the requests made meanwhile met by one more
    run, never one per request. A request after a quiet spell runs at once."""

    def __init__(self, spacing: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.spacing = spacing
        self._clock = clock
        self._lock = threading.Lock()
        self._set_up = False  # a run is set to start: it will see every change made before it starts
        self._running = False  # a run is under way
        self._again = False  # asked for while it was
        self._began = float("-inf")  # when the last run started

    def request(self, background: Background, work: Work) -> None:
        with self._lock:
            if self._set_up:
                return
            if self._running:
                self._again = True
                return
            self._set_up = True
        self._set(background, work)

    def _set(self, background: Background, work: Work) -> None:
        with self._lock:
            wait = self._began + self.spacing - self._clock()
        if wait > 0:
            background.submit_later(wait, lambda: self._run(background, work))
        else:
            background.submit(lambda: self._run(background, work))

    def _run(self, background: Background, work: Work) -> None:
        with self._lock:
            self._set_up, self._running, self._began = False, True, self._clock()
        try:
            work()
        finally:
            with self._lock:
                again = self._again  # asked for while this run was under way: one more run, spaced like this one
                self._running, self._again, self._set_up = False, False, again
            if again:
                self._set(background, work)
