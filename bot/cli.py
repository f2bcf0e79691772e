"""`firebell` (also `python -m bot`): serve, db upgrade, export, postmortem, outbox, demo."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings
from bot.durations import parse_duration


class CommandError(Exception):
    """A mistake in how the command was called; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ConfigError, CommandError) as exc:
        print(f"firebell: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firebell", description="Firebell: incidents, run from Slack.")
    sub = parser.add_subparsers(required=True, metavar="command")

    serve = sub.add_parser("serve", help="serve Slack's requests on POST /slack/events (and GET /healthz)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT, else 3000")
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(required=True, metavar="action")
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)

    export = sub.add_parser("export", help="print incidents (with their timelines) as JSON")
    export.add_argument("--json", action="store_true", help="JSON output (the only format, for now)")
    export.add_argument("--since", type=_duration, default=None, help="only incidents declared within, e.g. 30d")
    export.set_defaults(run=_export)

    postmortem = sub.add_parser("postmortem", help="print an incident's post-incident report (Markdown)")
    postmortem.add_argument("incident", help="e.g. INC-7")
    postmortem.add_argument("--team", default=None, help="Slack team id, when the database holds several")
    postmortem.set_defaults(run=_postmortem)

    box = sub.add_parser("outbox", help="Slack work still to deliver, and work that failed for good")
    box_sub = box.add_subparsers(metavar="action")
    box.set_defaults(run=_outbox_show)
    retry = box_sub.add_parser("retry", help="deliver items that failed for good once more, after fixing the cause")
    retry.add_argument("items", nargs="*", type=int, help="item ids (default: every failed item)")
    retry.set_defaults(run=_outbox_retry)

    demo = sub.add_parser("demo", help="play a scripted incident against a local Slack stand-in; no Slack needed")
    demo.set_defaults(run=_demo)
    return parser


def _duration(text: str):  # noqa: ANN202 - argparse type
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime import build

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    firebell = build(settings)
    firebell.start_scheduler()
    server = firebell.server(args.host, args.port or settings.port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.request_stop())
    logging.getLogger("firebell").info("listening on %s/slack/events", server.url)
    try:
        server.serve_forever()  # returns after a stop signal, once requests in flight are answered
    finally:
        firebell.close()
    logging.getLogger("firebell").info("stopped")
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bot.runtime import open_database
    from storage import migrate

    db = open_database(Settings())
    print(f"database is at revision {migrate.current_revision(db.engine)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.deps import utc_now
    from bot.runtime import open_database
    from bot.services.incidents import incident_json
    from storage import repositories

    db = open_database(Settings())
    since = utc_now() - args.since if args.since else None
    with db.read() as session:
        incidents = repositories.incidents_since(session, since)
    json.dump([incident_json(i) for i in incidents], sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def _postmortem(args: argparse.Namespace) -> int:
    from bot.domain.report import postmortem
    from bot.runtime import open_database
    from storage import repositories

    match = re.fullmatch(r"(?i)inc-?(\d+)", args.incident.strip())
    if not match:
        raise CommandError(f"{args.incident!r} is not an incident id; write it like INC-7")
    db = open_database(Settings())
    with db.read() as session:
        found = repositories.find_incidents_by_number(session, int(match.group(1)), args.team)
    if not found:
        where = f" in team {args.team}" if args.team else ""
        raise CommandError(f"there is no incident {args.incident.upper()}{where}")
    if len(found) > 1:
        teams = ", ".join(i.team_id for i in found)
        raise CommandError(f"{args.incident.upper()} exists in several teams ({teams}); name one with --team")
    sys.stdout.write(postmortem(found[0]))
    return 0


def _outbox_show(_args: argparse.Namespace) -> int:
    from bot.messages import fix_for
    from bot.runtime import open_database
    from storage import outbox

    db = open_database(Settings())
    with db.read() as session:
        pending, failed = outbox.undelivered(session), outbox.failures(session)
    print(f"{pending} item(s) waiting to be delivered, {len(failed)} failed for good")
    for row in failed:
        print(f"  #{row.id}  {row.failed_at:%Y-%m-%d %H:%M:%S} UTC  {row.lane}  {row.kind}: {row.last_error}")
        print(f"      {fix_for(row.last_error or '')}")
    return 1 if failed else 0


def _outbox_retry(args: argparse.Namespace) -> int:
    from bot.runtime import open_database
    from storage import outbox

    db = open_database(Settings())
    with db.transaction() as session:
        queued = outbox.retry_failed(session, args.items or None, outbox.now())
    print(f"queued {len(queued)} item(s) again; a running `firebell serve` delivers them")
    missing = sorted(set(args.items) - set(queued))
    if missing:
        raise CommandError("no failed item " + ", ".join(f"#{i}" for i in missing) + "; `firebell outbox` lists them")
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo()
