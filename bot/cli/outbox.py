"""`firebell outbox`: Slack work still to deliver and work that failed for good; `outbox retry` queues it again."""

from __future__ import annotations

import argparse

from bot.cli.common import CommandError, database
from bot.messages import fix_for
from storage import outbox


def register(commands: argparse._SubParsersAction) -> None:
    box = commands.add_parser("outbox", help="Slack work still to deliver, and work that failed for good")
    actions = box.add_subparsers(metavar="action")
    box.set_defaults(run=show)
    retry_parser = actions.add_parser("retry", help="deliver items that failed for good once more, after fixing "
                                                    "the cause")
    retry_parser.add_argument("items", nargs="*", type=int, help="item ids (default: every failed item)")
    retry_parser.set_defaults(run=retry)


def show(_args: argparse.Namespace) -> int:
    db = database()
    with db.read() as session:
        pending, failed = outbox.undelivered(session), outbox.failures(session)
    print(f"{pending} item(s) waiting to be delivered, {len(failed)} failed for good")
    for row in failed:
        print(f"  #{row.id}  {row.failed_at:%Y-%m-%d %H:%M:%S} UTC  {row.lane}  {row.kind}: {row.last_error}")
        print(f"      {fix_for(row.last_error or '')}")
    return 1 if failed else 0


def retry(args: argparse.Namespace) -> int:
    db = database()
    with db.transaction() as session:
        queued = outbox.retry_failed(session, args.items or None, outbox.now())
    print(f"queued {len(queued)} item(s) again; a running `firebell serve` delivers them")
    missing = sorted(set(args.items) - set(queued))
    if missing:
        raise CommandError("no failed item " + ", ".join(f"#{i}" for i in missing) + "; `firebell outbox` lists them")
    return 0
