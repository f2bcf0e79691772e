"""Claiming rows for one process (deadlines, outbox items): several replicas share one database, each row is
worked on by one of them, and a claim whose process died is taken over when its lease runs out."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, or_
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def free(model: Any, now: datetime, lease: timedelta) -> Any:
    """The condition for a row nobody holds: never claimed, or claimed longer ago than ``lease``."""
    return or_(model.claimed_at.is_(None), model.claimed_at < now - lease)


def claim(session: Session, query: Select[Any], now: datetime, owner: str) -> list[Any]:
    """Lock the rows ``query`` selects, skipping those another replica has locked (SKIP LOCKED on PostgreSQL;
    SQLite's write lock serialises the claim), and stamp them as ``owner``'s, counting the attempt."""
    rows = session.execute(
        query.with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ).scalars().all()
    for row in rows:
        row.claimed_at, row.claimed_by, row.attempts = now, owner, row.attempts + 1
    session.flush()
    return list(rows)


def new_owner() -> str:
    """A name for this process's claims, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
