"""`firebell` (also `python -m bot`): one subcommand per module of this package, each with `register(commands)`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from bot.cli import alerts, check, db, demo, export, oncall, outbox, report, search, serve
from bot.cli.common import CommandError
from bot.config import ConfigError
from storage.db import DatabaseUnavailable
from storage.migrate import SchemaNewer

MODULES = (serve, check, db, export, report, search, oncall, alerts, outbox, demo)


def version() -> str:
    try:
        return metadata.version("firebell")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ConfigError, CommandError, SchemaNewer) as exc:
        print(f"firebell: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"firebell: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `firebell export | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more reaches the closed pipe, not even at exit
        return 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="firebell", description="Firebell: incidents, run from Slack.")
    top.add_argument("--version", action="version", version=f"firebell {version()}")
    commands = top.add_subparsers(required=True, metavar="command")
    for module in MODULES:
        module.register(commands)
    return top
