"""Claiming rows for one process (deadlines, outbox items): several replicas share one database, each row is
worked on by one of them, and a claim whose process died is taken over when its lease runs out.

Each claim is one statement, `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`
(storage/schedule.py, storage/outbox.py): rows another replica has locked are skipped on PostgreSQL, SQLite's write
lock serialises the claim, and a row is free when never claimed or claimed longer ago than the lease."""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import DeadlineRow, OutboxRow

_LIVE: set[str] = set()  # the claimers of this process


def new_owner() -> str:
    """A name for a claimer of this process (host:pid:tag), unique across hosts and restarts."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    _LIVE.add(owner)
    return owner


def dead_here(owner: str) -> bool:
    """Whether ``owner`` was a process on this host that is gone: its pid is not running, or is ours but the owner is
    none of ours (a restarted container: same hostname, and its first process has the same pid). Claims of other
    hosts are left to their leases."""
    host, _, rest = owner.partition(":")
    pid, _, tag = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit() or owner in _LIVE:
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def release_dead_here(session: Session) -> list[str]:
    """Give back the claims of this host's processes that died (SIGKILL, a crash, the OOM killer): a restart takes
    its predecessor's work over at once instead of waiting out the leases. Returns the owners released."""
    owners = set(session.execute(select(DeadlineRow.claimed_by).where(
        DeadlineRow.claimed_by.is_not(None), DeadlineRow.sent_at.is_(None)).distinct()).scalars())
    owners |= set(session.execute(select(OutboxRow.claimed_by).where(
        OutboxRow.claimed_by.is_not(None), OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None)
    ).distinct()).scalars())
    dead = sorted(o for o in owners if o is not None and dead_here(o))
    if dead:
        session.execute(update(DeadlineRow).where(DeadlineRow.claimed_by.in_(dead), DeadlineRow.sent_at.is_(None))
                        .values(claimed_at=None, claimed_by=None))
        # the item's attempts stay counted: its next try looks for what the dead one may have sent before sending
        session.execute(update(OutboxRow).where(OutboxRow.claimed_by.in_(dead), OutboxRow.delivered_at.is_(None))
                        .values(claimed_at=None, claimed_by=None))
    return dead
