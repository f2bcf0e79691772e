"""`firebell` (also `python -m bot`): one subcommand per module of this package, each with `register(commands)`.

A run imports only the module of the subcommand it names (`firebell report` does not load the web server, Bolt or
the demo's stand-in: on two shared cores importing every subcommand costs most of a second); `firebell --help` and
anything unnamed load them all."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from types import ModuleType

from bot.cli.common import CommandError
from bot.config import ConfigError
from storage.db import DatabaseUnavailable
from storage.migrate import SchemaNewer


def _serve() -> ModuleType:
    from bot.cli import serve
    return serve


def _check() -> ModuleType:
    from bot.cli import check
    return check


def _db() -> ModuleType:
    from bot.cli import db
    return db


def _export() -> ModuleType:
    from bot.cli import export
    return export


def _report() -> ModuleType:
    from bot.cli import report
    return report


def _search() -> ModuleType:
    from bot.cli import search
    return search


def _oncall() -> ModuleType:
    from bot.cli import oncall
    return oncall


def _alerts() -> ModuleType:
    from bot.cli import alerts
    return alerts


def _outbox() -> ModuleType:
    from bot.cli import outbox
    return outbox


def _demo() -> ModuleType:
    from bot.cli import demo
    return demo


# Each subcommand's name, and how to load the module that registers it (in the order `--help` lists them).
SUBCOMMANDS: dict[str, Callable[[], ModuleType]] = {
    "serve": _serve, "check": _check, "db": _db, "export": _export, "postmortem": _export, "report": _report,
    "search": _search, "oncall": _oncall, "alerts": _alerts, "outbox": _outbox, "demo": _demo,
}


def modules(argv: Sequence[str] | None = None) -> list[ModuleType]:
    """The modules a run needs: the named subcommand's alone, or all of them."""
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    if named in SUBCOMMANDS:
        return [SUBCOMMANDS[named]()]
    return list(dict.fromkeys(load() for load in SUBCOMMANDS.values()))


def version() -> str:
    try:
        return metadata.version("firebell")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(argv).parse_args(argv)
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


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="firebell", description="Firebell: incidents, run from Slack.")
    top.add_argument("--version", action="version", version=f"firebell {version()}")
    commands = top.add_subparsers(required=True, metavar="command")
    for module in modules(argv):
        module.register(commands)
    return top
