"""`firebell alerts [--since 1d] [--json]`: the alert groups received, with their state and alert counts."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import database, duration
from bot.deps import utc_now
from bot.services import alert_delivery


def register(commands: argparse._SubParsersAction) -> None:
    alerts = commands.add_parser("alerts", help="alert groups received from Alertmanager and Grafana, with their "
                                                "state (incident INC-n, triaged, dismissed, resolved)")
    alerts.add_argument("--since", type=duration, default=duration("1d"), help="how far back (default 1d), e.g. 6h")
    alerts.add_argument("--json", action="store_true", help="JSON output")
    alerts.add_argument("--team", default=None, help="Slack team id (default: every team in the database)")
    alerts.set_defaults(run=run_alerts)


def run_alerts(args: argparse.Namespace) -> int:
    db = database()
    try:
        with db.read() as session:
            listed = alert_delivery.received(session, utc_now() - args.since, args.team)
    finally:
        db.dispose()
    if args.json:
        json.dump(listed, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(alert_delivery.received_text(listed))
    return 0
