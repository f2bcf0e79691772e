"""`firebell check`: the policy file, the database, the token and its scopes, the broadcast channel, every tier member,
admin and user group, and each pager's key, as a checklist; exit 1 when anything fails."""

from __future__ import annotations

import argparse
import os
import sys

from bot.config import Settings
from bot.observability import check
from bot.observability.probes import LiveProbes
from bot.slack.scopes import BOT_SCOPES


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("check", help="check the set-up (policy, database, Slack token and scopes, channel, "
                                               "people, pager keys); exit 1 if anything fails")
    parser.set_defaults(run=run)


def run(_args: argparse.Namespace) -> int:
    probes = LiveProbes(Settings.from_environment(), os.environ)
    try:
        findings = check.run(probes, BOT_SCOPES)
    finally:
        probes.close()
    sys.stdout.write(check.checklist(findings))
    return 1 if check.failed(findings) else 0
