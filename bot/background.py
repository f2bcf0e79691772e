"""Work that runs after Slack has had its answer, on threads of its own (never on Bolt's listener threads)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


def error_id() -> str:
    """A short id a user can quote and an operator can grep for in the logs."""
    return uuid.uuid4().hex[:8]


class Background:
    def __init__(self, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="firebell-work")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, work: Callable[..., Any], *args: Any) -> None:
        with self._idle:
            self._pending += 1
        self._pool.submit(self._run, work, args)

    def _run(self, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            work(*args)
        except Exception:  # last resort: the work itself reports what it can; nothing may kill the pool
            log.exception("background work %s failed (error id %s)", getattr(work, "__name__", work), error_id())
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no work is pending (shutdown, tests, the demo). False if the timeout passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
