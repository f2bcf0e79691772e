"""`firebell` (also `python -m bot`): one subcommand per module of this package, each with `register(commands)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import db, demo, export, outbox, serve
from bot.cli.common import CommandError
from bot.config import ConfigError

MODULES = (serve, db, export, outbox, demo)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ConfigError, CommandError) as exc:
        print(f"firebell: {exc}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="firebell", description="Firebell: incidents, run from Slack.")
    commands = top.add_subparsers(required=True, metavar="command")
    for module in MODULES:
        module.register(commands)
    return top
