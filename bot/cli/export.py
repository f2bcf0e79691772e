"""`firebell export` (every incident as JSON) and `firebell postmortem INC-7` (one post-incident report)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import CommandError, database, duration
from bot.deps import utc_now
from bot.domain.incident import incident_ref, parse_ref
from bot.services import incidents, postmortems, problems
from storage import repositories


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="print incidents (with their timelines) as JSON")
    export.add_argument("--json", action="store_true", help="JSON output (the only format, for now)")
    export.add_argument("--since", type=duration, default=None, help="only incidents declared within, e.g. 30d")
    export.add_argument("--problems", action="store_true",
                        help="print the problem records instead (id, title, status, workaround, root_cause, incidents)")
    export.set_defaults(run=run_export)

    report = commands.add_parser("postmortem", help="print an incident's post-incident report (Markdown)")
    report.add_argument("incident", help="e.g. INC-7")
    report.add_argument("--team", default=None, help="Slack team id, when the database holds several")
    report.set_defaults(run=run_postmortem)


def run_export(args: argparse.Namespace) -> int:
    if args.problems and args.since:
        raise CommandError("--since is for incidents; --problems prints every problem record")
    db = database()
    since = utc_now() - args.since if args.since else None
    with db.read() as session:
        data = problems.export(session) if args.problems else incidents.exported(session, since)
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    print()
    sys.stdout.flush()  # here, where a closed pipe (`| head`) is answered quietly (bot.cli.main)
    return 0


def run_postmortem(args: argparse.Namespace) -> int:
    number = parse_ref(args.incident)
    if number is None:
        raise CommandError(f"{args.incident!r} is not an incident id; write it like INC-7")
    ref = incident_ref(number)
    db = database()
    with db.read() as session:
        found = repositories.find_incidents_by_number(session, number, args.team)
        if not found:
            where = f" in team {args.team}" if args.team else ""
            raise CommandError(f"there is no incident {ref}{where}")
        if len(found) > 1:
            teams = ", ".join(i.team_id for i in found)
            raise CommandError(f"{ref} exists in several teams ({teams}); name one with --team")
        report = postmortems.text(session, found[0])
    sys.stdout.write(report)
    return 0
