"""Claiming rows for one process (deadlines, outbox items): several replicas share one database, each row is
worked on by one of them, and a claim whose process died is taken over when its lease runs out.

Each claim is one statement, `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`
(storage/schedule.py, storage/outbox.py): rows another replica has locked are skipped on PostgreSQL, SQLite's write
lock serialises the claim, and a row is free when never claimed or claimed longer ago than the lease."""

from __future__ import annotations

import os
import socket
import uuid


def new_owner() -> str:
    """A name for this process's claims, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
