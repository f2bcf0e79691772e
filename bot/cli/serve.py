"""`firebell serve`: Slack's requests on POST /slack/events (and GET /healthz), the scheduler, the outbox."""

from __future__ import annotations

import argparse
import logging
import signal

from bot.config import Settings
from bot.runtime import build


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve Slack's requests on POST /slack/events (and GET /healthz)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT, else 3000")
    serve.add_argument("--socket-mode", action="store_true",
                       help="take Slack's requests over Socket Mode (SLACK_APP_TOKEN, no public URL); the HTTP port "
                            "still serves /healthz")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    firebell = build(settings, socket_mode=args.socket_mode)
    firebell.start_scheduler()
    server = firebell.server(args.host, args.port or settings.port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.request_stop())
    firebell.connect()
    where = "Slack over Socket Mode" if args.socket_mode else f"{server.url}/slack/events"
    logging.getLogger("firebell").info("listening: %s (health: %s/healthz)", where, server.url)
    try:
        server.serve_forever()  # returns after a stop signal, once requests in flight are answered
    finally:
        firebell.close()
    logging.getLogger("firebell").info("stopped")
    return 0
