"""Assemble the Bolt app: listeners registered, dependencies attached, errors answered; and its route."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient

from bot.deps import Deps
from bot.messages import explain, outcome_of
from bot.observability import logs
from bot.observability.metrics import Metrics
from bot.web import Route, route
from handlers import actions, alerts, commands, events, shortcuts, views

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Listeners ack and hand slow work to Background, so they return quickly; 32 threads absorb a burst
# of people typing at once (Bolt's default of 5 would answer the sixth slow request with a 404).
LISTENER_THREADS = 32


class ContextExecutor(ThreadPoolExecutor):
    """Bolt's listener threads, running each listener in the context of the request it answers (so its log lines
    carry that request's id)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def build_bolt_app(deps: Deps, *, signing_secret: str, client: WebClient) -> App:
    app = App(
        signing_secret=signing_secret,
        logger=logging.getLogger("slack_bolt.App"),  # Bolt's own lines, quiet below WARNING (bot/observability/logs)
        client=client,  # carries the token, the API URL and slack_sdk's retry handlers
        token_verification_enabled=False,  # the composition root already called auth.test
        listener_executor=ContextExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
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
    for module in (commands, shortcuts, views, actions, alerts, events):
        module.register(app)
    return app


def handle_error(error: Exception, body: dict[str, Any], request: BoltRequest) -> BoltResponse:
    """The last resort before the ack: answer the person, never with a traceback (unexpected errors are logged with
    a ref they can quote)."""
    message = explain(error, str(body.get("command") or body.get("type") or "a request"))
    request.context[OUTCOME] = outcome_of(error)
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


OUTCOME = "firebell_outcome"  # set on the request's context when the error handler answered it
STATUS_OUTCOMES = {200: "ok", 401: "refused", 404: "unhandled"}


def request_kind(body: dict[str, Any]) -> str:
    """What Slack sent, for the metrics: command, action, view_submission, shortcut, event…"""
    if body.get("command"):
        return "command"
    kind = str(body.get("type") or "unknown")
    return {"block_actions": "action", "message_action": "shortcut", "event_callback": "event",
            "block_suggestion": "options"}.get(kind, kind)


class FormSafeRequestHandler(SlackRequestHandler):
    """Bolt's WSGI handler, minus one parsing slip: slack-bolt takes any form body that merely contains the word
    "payload" (`/incident note bad payload from the API`) for an interactivity payload and parses it to {},
    so the command would get a 404. Such a body is parsed as the plain form it is; the raw body, which the
    signature covers, is left as Slack sent it.

    Each request gets an id that every log line written while handling it carries; it is counted and timed (the
    time to Slack's answer); a refused signature is logged without the body."""

    def __init__(self, app: App, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started = time.monotonic()
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        raw = bolt_request.raw_body
        if not bolt_request.body and raw and not raw.lstrip().startswith("{"):
            form = dict(parse_qsl(raw, keep_blank_values=True))
            if "payload" not in form:
                bolt_request.body = form
                bolt_request.context = build_context(BoltContext(), form)
        with logs.context(request_id=logs.new_request_id(), team=bolt_request.context.team_id):
            response = self.app.dispatch(bolt_request)
            if response.status == 401:
                logs.refused_signature(log, path=request.path, remote=request.environ.get("REMOTE_ADDR"),
                                       size=len(raw.encode()), reason="the signature is missing, wrong or too old")
        outcome = bolt_request.context.get(OUTCOME) or STATUS_OUTCOMES.get(response.status, f"http_{response.status}")
        self.metrics.request(request_kind(bolt_request.body), outcome, time.monotonic() - started)
        return response


def slack_events(bolt: App, metrics: Metrics) -> Route:
    """POST /slack/events: commands, shortcuts, buttons, modals and events, for Bolt."""
    return route(["POST"], EVENTS_PATH, FormSafeRequestHandler(bolt, metrics))
