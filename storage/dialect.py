"""What differs between the two databases where SQLAlchemy's generic constructs stop: the INSERT that knows
ON CONFLICT (PostgreSQL's and SQLite's have the same methods, in dialect modules of their own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session) -> Any:
    """The ``insert`` of the session's database, with ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
