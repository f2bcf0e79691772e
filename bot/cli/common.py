"""What the subcommands share: how they fail, how they read durations, how they open the database."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.config import Settings
from bot.durations import parse_duration
from bot.runtime import open_database as _open
from storage.db import Database


class CommandError(Exception):
    """A mistake in how the command was called; printed as one line, exit 2."""


def duration(text: str) -> timedelta:
    """An argparse type: ``30d``, ``12h``…"""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def database() -> Database:
    """The database ``DATABASE_URL`` names, migrated."""
    return _open(Settings())
