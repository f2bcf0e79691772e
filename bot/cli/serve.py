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
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
