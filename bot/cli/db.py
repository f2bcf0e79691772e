"""`firebell db upgrade`: apply pending migrations."""

from __future__ import annotations

import argparse

from bot.cli.common import database
from storage import migrate


def register(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(required=True, metavar="action")
    actions.add_parser("upgrade", help="apply pending migrations").set_defaults(run=upgrade)


def upgrade(_args: argparse.Namespace) -> int:
    db = database()
    print(f"database is at revision {migrate.current_revision(db.engine)}")
    return 0
