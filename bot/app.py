"""Assemble the Bolt app and the WSGI application around it (routes /slack/events and /healthz)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.background import error_id
from bot.deps import Deps
from handlers import actions, commands, events, shortcuts, views
from storage.db import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Listeners ack and hand slow work to Background, so they return quickly; 32 threads absorb a burst
# of people typing at once (Bolt's default of 5 would answer the sixth slow request with a 404).
LISTENER_THREADS = 32


def build_bolt_app(deps: Deps, *, signing_secret: str, client: WebClient) -> App:
    app = App(
        signing_secret=signing_secret,
        client=client,  # carries the token, the API URL and slack_sdk's retry handlers
        token_verification_enabled=False,  # the composition root already called auth.test
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
    )

    def attach_deps(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["deps"] = deps
        next()

    app.use(attach_deps)
    app.error(handle_error)
    for module in (commands, shortcuts, views, actions, events):
        module.register(app)
    return app


def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """The last resort: log with an id; answer the person ephemerally, never with a traceback."""
    ref = error_id()
    log.error("unhandled error (error id %s) on %s", ref, body.get("type") or body.get("command"), exc_info=error)
    return BoltResponse(
        status=200,
        body=json.dumps({"response_type": "ephemeral",
                         "text": f"Firebell hit an unexpected error (error id `{ref}`); tell whoever runs Firebell."}),
        headers={"content-type": "application/json"},
    )


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_wsgi(bolt: App, db: Database) -> WSGIApp:
    slack = SlackRequestHandler(bolt)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = db.ping()
            return _json(start_response, "200 OK" if healthy else "503 Service Unavailable",
                         {"status": "ok" if healthy else "database unavailable"})
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return application


def _json(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
