"""The fast tier: signed requests dispatched straight into the assembled Bolt app, with no HTTP server in front of
it (as slack-bolt's own tests/scenario_tests do). Slack is still the stand-in, reached over HTTP by the real client;
the database is each of SQLite and PostgreSQL. The e2e tier keeps what only HTTP shows (acks within 3 s, processes,
replicas, faults)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.runtime import Firebell, build
from bot.sandbox import SlackDriver, SlackStandIn
from bot.sandbox.transport import HttpTransport, Response
from tests.e2e.conftest import SIGNING_SECRET, e2e_config, settings_for


class BoltDispatch(HttpTransport):
    """Slack's signed HTTP requests, handed to ``App.dispatch`` instead of being POSTed."""

    def __init__(self, bolt: App) -> None:
        super().__init__("bolt:dispatch", SIGNING_SECRET)
        self.bolt = bolt

    def raw(self, body: bytes, content_type: str, *, timestamp: int | None = None, signature: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        if signature is None:
            signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body) or ""
        request = BoltRequest(body=body.decode(), headers={
            "content-type": content_type, "x-slack-request-timestamp": stamp, "x-slack-signature": signature,
            **{k.lower(): v for k, v in (headers or {}).items()}})
        started = time.monotonic()
        answer = self.bolt.dispatch(request)
        answer_headers = {name: values[0] for name, values in answer.headers.items() if values}
        return Response(answer.status, answer_headers, answer.body.encode(), time.monotonic() - started)


class Assembled:
    def __init__(self, firebell: Firebell, slack: SlackStandIn) -> None:
        self.firebell, self.slack = firebell, slack
        self.driver = SlackDriver("bolt:dispatch", SIGNING_SECRET, slack, transport=BoltDispatch(firebell.bolt))

    @property
    def db(self):
        return self.firebell.deps.db


@pytest.fixture
def app(slack: SlackStandIn, database_url: str) -> Iterator[Assembled]:
    firebell = build(settings_for(slack, database_url), e2e_config())
    try:
        yield Assembled(firebell, slack)
    finally:
        firebell.close()
