"""Telling schedulers that a deadline was written (and the outbox's delivery that items were queued), so that
neither has to poll the database to learn it.

A storage function that adds a deadline or moves one (`deadline_written`) notes its due time in the session. When
that transaction commits, this process's subscribers hear the earliest due time it wrote (`DueSignal`); on
PostgreSQL, the transaction also sends it with ``NOTIFY`` (delivered to other replicas when, and only if, it
commits), and each replica's `Listener` hears it over a ``LISTEN`` connection of its own. A lost notification
costs at most one safety poll of the scheduler: nothing here decides who does a deadline (the claims do).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "firebell_deadlines"
_EARLIEST = "firebell_earliest_due"
_OUTBOX = "firebell_outbox_written"

Subscriber = Callable[[datetime | None], None]  # told a due time (None: something may have changed, look)


def deadline_written(session: Session, due_at: datetime) -> None:
    """Note that this transaction adds (or moves) a deadline due at ``due_at``."""
    earliest = session.info.get(_EARLIEST)
    if earliest is None or due_at < earliest:
        session.info[_EARLIEST] = due_at


def outbox_written(session: Session) -> None:
    """Note that this transaction queues outbox items (the delivery of this process is woken when it commits)."""
    session.info[_OUTBOX] = True


class DueSignal:
    """Hears the commits of ``db`` that wrote deadlines, and tells the subscribers (and, with ``notify``, the other
    replicas on PostgreSQL) the earliest due time each wrote."""

    def __init__(self, db: Database, *, notify: bool) -> None:
        self._subscribers: list[Subscriber] = []
        self._outbox: list[Callable[[], None]] = []
        self._notify = notify and db.dialect == "postgresql"
        db.on_write_session("before_commit", self._before_commit)
        db.on_write_session("after_commit", self._after_commit)
        db.on_write_session("after_rollback", self._forget)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def on_outbox(self, subscriber: Callable[[], None]) -> None:
        self._outbox.append(subscriber)

    def _before_commit(self, session: Session) -> None:
        earliest = session.info.get(_EARLIEST)
        if earliest is not None and self._notify:  # sent by PostgreSQL when this transaction commits
            session.execute(text("SELECT pg_notify(:channel, :due)"),
                            {"channel": CHANNEL, "due": earliest.isoformat()})

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_OUTBOX, False):
            for wake in self._outbox:
                wake()
        earliest = session.info.pop(_EARLIEST, None)
        if earliest is not None:
            for subscriber in self._subscribers:
                subscriber(earliest)

    def _forget(self, session: Session) -> None:
        session.info.pop(_EARLIEST, None)
        session.info.pop(_OUTBOX, None)


class Listener:
    """A thread holding one PostgreSQL connection that ``LISTEN``s for the deadlines other replicas write. When the
    connection breaks it reconnects, and tells the subscriber to look (what was sent meanwhile is lost)."""

    RECONNECT_SECONDS = 2.0
    WAKE_SECONDS = 1.0  # how often the thread looks whether it should stop (no query: a wait on the socket)

    def __init__(self, url: URL, subscriber: Subscriber) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._subscriber = subscriber
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="firebell-listen", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def wait_listening(self, timeout: float) -> bool:
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    if not first:
                        self._subscriber(None)  # notifications sent while we were away are lost: look
                    first = False
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=self.WAKE_SECONDS):
                            self._subscriber(_due(notice.payload))
            except psycopg.Error as exc:
                self._listening.clear()
                log.warning("listening for new deadlines failed (%s); again in %ss", exc, self.RECONNECT_SECONDS)
                self._stop.wait(self.RECONNECT_SECONDS)


def _due(payload: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(payload))
    except ValueError:
        return None
