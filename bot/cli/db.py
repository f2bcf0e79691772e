"""`firebell db upgrade`: apply pending migrations (`serve` does too, at start; no other command does)."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.runtime import open_database
from storage import migrate


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(required=True, metavar="action")
    actions.add_parser("upgrade", help="apply pending migrations").set_defaults(run=upgrade)


def upgrade(_args: argparse.Namespace) -> int:
    db = open_database(Settings.from_environment())
    print(f"database is at revision {migrate.current_revision(db.engine)}")
    db.dispose()
    return 0
