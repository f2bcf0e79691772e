"""`firebell search <words> [--json]`: the incidents `/incident search` finds, from the shell."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import database
from bot.services import knowledge


def register(commands: argparse._SubParsersAction) -> None:
    search = commands.add_parser("search", help="search incidents, open and past (the same as /incident search)")
    search.add_argument("words", nargs="+", help="what to look for; any text, taken literally")
    search.add_argument("--json", action="store_true", help="JSON output")
    search.add_argument("--team", default=None, help="Slack team id (default: every team in the database)")
    search.set_defaults(run=run_search)


def run_search(args: argparse.Namespace) -> int:
    """Exit 0 with hits, 1 with none (like grep)."""
    typed = " ".join(args.words)
    db = database()
    with db.read() as session:
        results = knowledge.find(session, typed, team_id=args.team)
    if args.json:
        json.dump(knowledge.results_json(typed, results), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(knowledge.results_text(typed, results))
    return 0 if results.hits else 1
