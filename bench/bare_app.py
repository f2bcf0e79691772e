"""The floor for answer latency: a bare Bolt app with a no-op /incident listener, and a webhook door that reads its
body and answers 200 (the floor of POST /alerts/alertmanager), served by Firebell's server.

    python bench/bare_app.py PORT   (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL from the environment)
"""

from __future__ import annotations

import os
import signal
import sys

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.http_server import HttpServer
from bot.web import build_wsgi, route
from bot.web.responses import json_response


def webhook(environ, start_response):  # noqa: ANN001, ANN201 - a WSGI callable
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    return json_response(start_response, "200 OK", {"status": "stored"})


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False)
    app.command("/incident")(lambda ack: ack())
    wsgi = build_wsgi([route(["POST"], "/slack/events", SlackRequestHandler(app)),
                       route(["POST"], "/alerts/alertmanager", webhook)])
    server = HttpServer(wsgi, "127.0.0.1", int(sys.argv[1]))
    signal.signal(signal.SIGTERM, lambda *_: server.request_stop())
    server.serve_forever()


if __name__ == "__main__":
    main()
