"""`firebell demo`: a scripted incident against a local Slack stand-in; no Slack account needed."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bot.cli.common import CommandError

DEMO_FILE = "firebell-demo.db"


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="play a scripted incident against a local Slack stand-in; no Slack needed")
    demo.add_argument("--database", type=Path, default=None, metavar="FILE",
                      help="the SQLite file the demo keeps what it played in (a new one; default: a new file in a "
                           "new temporary directory). The demo prints the commands that read it.")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import run_demo  # the demo brings the Slack stand-in, which only it needs

    return run_demo(demo_database(args.database))


def demo_database(wanted: Path | None) -> Path:
    """A new file for the demo's database: ``wanted`` (which must not exist yet), or one in a new temporary
    directory. Never an existing file: the demo must not mix its incidents into a real database."""
    if wanted is None:
        return Path(tempfile.mkdtemp(prefix="firebell-demo-")) / DEMO_FILE
    path = wanted.expanduser().resolve()
    if path.exists():
        raise CommandError(f"{path} exists; the demo writes a new database: delete it, or name another file")
    if not path.parent.is_dir():
        raise CommandError(f"there is no directory {path.parent} for the demo's database")
    return path
