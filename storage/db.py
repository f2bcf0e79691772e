"""Engine and transactions: SQLite (WAL, foreign keys, BEGIN IMMEDIATE to write) or PostgreSQL."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 10_000  # "database is locked" is waited out (retried) this long, not shown to anyone
SQLITE_MMAP_BYTES = 256 * 1024 * 1024  # SQLite reads the file through a memory map this large (see _on_connect)
CONNECT_TIMEOUT_S = 2  # a database that does not answer is reported within Slack's 3 seconds
_READ_ONLY = "firebell_read_only"


class DatabaseUnavailable(Exception):
    """The database does not answer (or refuses Firebell); the message names it, without its password."""

    def __init__(self, url: str, error: BaseException) -> None:
        detail = str(getattr(error, "orig", None) or error).strip()
        reason = detail.splitlines()[0] if detail else type(error).__name__
        super().__init__(f"the database {shown_url(url)} does not answer ({reason}); check DATABASE_URL and that "
                         "the database server runs")


def shown_url(url: str) -> str:
    """The URL as it may be shown and logged: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say so, and show nothing of it
        return "(a DATABASE_URL that is not a URL)"


def missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite file ``url`` names when that file does not exist (opening it would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if Path(parsed.database).exists() else parsed.database


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_timeout=CONNECT_TIMEOUT_S,
                           connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, **kwargs)
    event.listen(engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed (a restart, a failover, an idle timeout) is replaced
    before it is used, so nobody meets the error. A connection idle in the pool has nothing to read: the server
    writes to it unasked only to say it is closing it (pool connections do not LISTEN), then ends the stream. So a
    look at the socket tells, without the round trip ``pool_pre_ping`` would make at each of the seven checkouts of a
    declare. SQLAlchemy replaces a connection whose checkout raises DisconnectionError with a new one."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    if readable:
        raise DisconnectionError("the server wrote to an idle connection: it is closing it")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages are read from the OS's cache in place, not copied into each connection's own (2 MB) cache one read()
        # at a time: a search's walk of a common word's matches at 100,000 incidents reads megabytes of the index.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail with "database is locked" without
        # waiting; writers take the write lock at BEGIN and wait for it (busy_timeout) instead.
        connection.exec_driver_sql("BEGIN" if is_read_only(connection) else "BEGIN IMMEDIATE")


def is_read_only(connection: Connection) -> bool:
    """Whether ``connection`` is in a transaction of ``Database.read`` (one that never writes)."""
    return bool(connection.get_execution_options().get(_READ_ONLY, False))


class Database:
    """The one place sessions come from. Use cases open them; repositories receive them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        # SQLite has one writer: this process's write transactions take turns on a lock first, so the next one gets
        # the database the moment it is free, instead of sleeping in SQLite's busy handler (1, 2, 5, 10, 15… ms
        # between looks) while requests wait behind it. Re-entrant: a write nested in another on the same thread
        # meets SQLite's own lock, as before. Another process still meets the busy handler.
        self._turns: AbstractContextManager[object] = (threading.RLock() if engine.dialect.name == "sqlite"
                                                       else nullcontext())

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    def on_write_session(self, name: str, listener: Callable[[Session], None]) -> None:
        """Listen to a session event (``before_commit``, ``after_commit``…) of every write transaction."""
        event.listen(self._writer, name, listener)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._turns, self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure to answer means "not healthy"; /healthz reports it
            return False

    def dispose(self) -> None:
        self.engine.dispose()
