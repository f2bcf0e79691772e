"""Assemble the Bolt app and the WSGI application around it (routes /slack/events and /healthz)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot.background import error_id
from bot.deps import Deps
from bot.messages import DATABASE_DOWN
from handlers import actions, commands, events, shortcuts, views
from storage import outbox
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

    def attach_deps(context: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        team = context.get("team_id")
        if team and team != deps.team_id:  # signed with our secret, yet from another workspace: refuse it
            log.warning("refused a request from team %s (this Firebell serves %s)", team, deps.team_id)
            return BoltResponse(status=200, body="This Firebell serves another Slack workspace; nothing was done.")
        context["deps"] = deps
        next()
        return None

    app.use(attach_deps)
    app.error(handle_error)
    for module in (commands, shortcuts, views, actions, events):
        module.register(app)
    return app


def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """The last resort before the ack: log with an id; answer the person, never with a traceback."""
    if isinstance(error, DBAPIError):
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
        message = DATABASE_DOWN
    else:
        ref = error_id()
        log.error("unhandled error (error id %s) on %s", ref, body.get("type") or body.get("command"), exc_info=error)
        message = f"Firebell hit an unexpected error (error id `{ref}`); tell whoever runs Firebell."
    return BoltResponse(status=200, body=json.dumps(_answer(body, message)),
                        headers={"content-type": "application/json"})


def _answer(body: dict[str, Any], message: str) -> dict[str, Any]:
    """The shape of an answer Slack shows for this kind of request."""
    if body.get("type") == "view_submission":
        blocks = [b["block_id"] for b in body.get("view", {}).get("blocks", []) if b.get("type") == "input"]
        if blocks:
            return {"response_action": "errors", "errors": {blocks[0]: message}}
        return {}
    if body.get("command"):
        return {"response_type": "ephemeral", "text": message}
    return {}


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FormSafeRequestHandler(SlackRequestHandler):
    """Bolt's WSGI handler, minus one parsing slip: slack-bolt takes any form body that merely contains the word
    "payload" (`/incident note bad payload from the API`) for an interactivity payload and parses it to {},
    so the command would get a 404. Such a body is parsed as the plain form it is; the raw body, which the
    signature covers, is left as Slack sent it."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        raw = bolt_request.raw_body
        if not bolt_request.body and raw and not raw.lstrip().startswith("{"):
            form = dict(parse_qsl(raw, keep_blank_values=True))
            if "payload" not in form:
                bolt_request.body = form
                bolt_request.context = build_context(BoltContext(), form)
        return self.app.dispatch(bolt_request)


def build_wsgi(bolt: App, db: Database) -> WSGIApp:
    slack = FormSafeRequestHandler(bolt)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(start_response, db)
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return application


def _health(start_response: Callable[..., Any], db: Database) -> list[bytes]:
    """200 with the outbox's counts (Slack work still to deliver, and work that failed for good: see `firebell
    outbox`), or 503 when the database does not answer."""
    try:
        with db.read() as session:
            counts = {"pending": outbox.undelivered(session), "failed": outbox.failed_count(session)}
    except Exception:  # any failure to answer means "not healthy"
        return _json(start_response, "503 Service Unavailable", {"status": "database unavailable"})
    return _json(start_response, "200 OK", {"status": "ok", "outbox": counts})


def _json(start_response: Callable[..., Any], status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
