"""`firebell serve`: Slack's requests on POST /slack/events (and GET /healthz, GET /metrics), the scheduler, the
outbox. It upgrades the database first, and runs `firebell check`'s checks, logging each failure as a warning."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal

from bot.config import Settings
from bot.observability import check, logs
from bot.observability.probes import LiveProbes
from bot.runtime import Firebell, build
from bot.slack.scopes import BOT_SCOPES

log = logging.getLogger("firebell")


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve Slack's requests on POST /slack/events (and GET /healthz, "
                                              "GET /metrics, GET /oncall/<tier>.ics)",
                                epilog=Settings.environment_help(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT, else 3000")
    serve.add_argument("--socket-mode", action="store_true",
                       help="take Slack's requests over Socket Mode (SLACK_APP_TOKEN, no public URL); the HTTP port "
                            "still serves /healthz")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    logs.configure(settings.log_level, settings.log_format)
    firebell = build(settings, socket_mode=args.socket_mode)
    check_at_start(firebell, settings)
    firebell.start_scheduler()
    server = firebell.server(args.host, args.port or settings.port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.request_stop())
    firebell.connect()
    # What start-up made lives as long as the process: out of the collector's sight, a full collection walks only
    # what was made since (a few ms instead of the 60-80 ms, every few seconds under load, that every request in
    # flight waited out)
    gc.collect()
    gc.freeze()
    where = "Slack over Socket Mode" if args.socket_mode else f"{server.url}/slack/events"
    log.info("listening on %s (health: %s/healthz, metrics: %s/metrics)", where, server.url, server.url)
    try:
        server.serve_forever()  # returns after a stop signal, once requests in flight are answered
    finally:
        firebell.close()
    log.info("stopped")
    return 0


def check_at_start(firebell: Firebell, settings: Settings) -> None:
    """`firebell check` on what this process runs with; each failure and warning is logged, none stops it."""
    deps = firebell.deps
    probes = LiveProbes(settings, os.environ, config=deps.config, db=deps.db, slack=deps.slack)
    check.log_findings(log, check.run(probes, BOT_SCOPES))
