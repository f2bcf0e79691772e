"""What the subcommands share: how they fail, how they read durations, how they open the database.

Only `serve` and `db upgrade` migrate. Every other command opens the database as it is and stops (exit 2) when its
schema is not the one this Firebell needs, saying which way it differs; a database that does not answer stops it
with one line (exit 1).
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.durations import parse_duration
from bot.observability.check import SchemaFacts
from bot.observability.logs import safe_database_url
from storage import migrate
from storage.db import Database, DatabaseUnavailable, missing_sqlite_file


class CommandError(Exception):
    """A mistake in how the command was called, or a database it cannot use; printed as one line, exit 2."""


def duration(text: str) -> timedelta:
    """An argparse type: ``30d``, ``12h``…"""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def schema(db: Database, url: str) -> SchemaFacts:
    """Where the database's schema is, against what this Firebell ships (DatabaseUnavailable when it is away)."""
    try:
        current = migrate.current_revision(db.engine)
    except DBAPIError as exc:
        raise DatabaseUnavailable(url, exc) from None
    return SchemaFacts(database=safe_database_url(url), current=current, head=migrate.head_revision(db.engine) or "",
                       known=migrate.known_revisions(db.engine))


def database(settings: Settings | None = None) -> Database:
    """The database ``DATABASE_URL`` names, as it is: never migrated, and refused (CommandError) unless its schema is
    this Firebell's. A SQLite file that does not exist is not created."""
    settings = settings or Settings.from_environment()
    url = settings.database_url
    if (missing := missing_sqlite_file(url)) is not None:
        raise CommandError(f"there is no database at {missing} (DATABASE_URL={safe_database_url(url)}); "
                           "`firebell serve` or `firebell db upgrade` makes it")
    db = Database.from_url(url)
    problem = schema(db, url).problem()
    if problem is not None:
        db.dispose()
        raise CommandError(problem)
    return db

