"""Socket Mode as Slack serves it: a one-time URL from apps.connections.open, hello, envelopes acked within 3 s,
disconnect and reconnect. Through slack_sdk's own SocketModeClient, and a bare WebSocket client where a test
must send what slack_sdk never would (late, unknown or malformed acks)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bot.sandbox import SlackStandIn
from bot.sandbox.socket_mode import MAX_CONNECTIONS


def open_url(slack: SlackStandIn, client: WebClient) -> str:
    return str(client.apps_connections_open(app_token=slack.app_token)["url"])


def bare(url: str) -> ClientConnection:
    return connect(url, proxy=None, open_timeout=5)


class App:
    """A SocketModeClient that records each request and acks it (with `answer` as the payload, if set)."""

    def __init__(self, slack: SlackStandIn, **options: Any) -> None:
        self.requests: list[SocketModeRequest] = []
        self.answer: dict[str, Any] | None = None
        web = WebClient(token=slack.token, base_url=slack.api_url)
        self.client = SocketModeClient(app_token=slack.app_token, web_client=web, **options)
        self.client.socket_mode_request_listeners.append(self._on_request)

    def _on_request(self, client: Any, request: SocketModeRequest) -> None:
        self.requests.append(request)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=self.answer))

    def close(self, slack: SlackStandIn) -> None:
        self.client.auto_reconnect_enabled = False
        slack.socket_mode.close_connections()
        self.client.close()


@pytest.fixture
def app(slack: SlackStandIn) -> Iterator[App]:
    connected = App(slack)
    connected.client.connect()
    assert slack.socket_mode.wait_for_connections(1) == 1
    yield connected
    connected.close(slack)


COMMAND = {"command": "/incident", "text": "declare sev1 DB down", "user_id": "U0ALICE", "channel_id": "C0GENERAL"}


def test_the_url_is_one_time_and_the_connection_starts_with_hello(slack: SlackStandIn, client: WebClient):
    url = open_url(slack, client)
    assert url.startswith(slack.socket_mode.url + "/link/?ticket=") and url.endswith("&app_id=" + slack.app_id)
    with bare(url) as socket:
        hello = json.loads(socket.recv(timeout=5))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": slack.app_id}
        assert hello["debug_info"]["approximate_connection_time"] > 0
        with pytest.raises(InvalidStatus) as refused:
            bare(url)  # the ticket is spent
        assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as not_found:
        bare(open_url(slack, client).replace("/link/", "/elsewhere/"))
    assert not_found.value.response.status_code == 404
    assert any("ticket" in problem for problem in slack.problems)


def test_envelopes_reach_slack_sdks_client_and_its_acks_are_recorded(slack: SlackStandIn, app: App):
    app.answer = {"text": "Declaring…"}
    ack = slack.socket_mode.deliver("slash_commands", COMMAND, accepts_response_payload=True)
    assert ack.acked is not None and ack.response == {"text": "Declaring…"}
    [request] = app.requests
    assert (request.type, request.payload, request.accepts_response_payload) == ("slash_commands", COMMAND, True)
    assert request.envelope_id == ack.envelope_id
    app.answer = None
    event = {"type": "event_callback", "event_id": "Ev01", "event": {"type": "app_mention", "text": "hi"}}
    ack = slack.socket_mode.deliver("events_api", event, accepts_response_payload=False, retry_attempt=1,
                                    retry_reason="timeout")
    assert ack.acked is not None and ack.response is None
    assert (app.requests[-1].retry_attempt, app.requests[-1].retry_reason) == (1, "timeout")
    assert [a.type for a in slack.socket_mode.acks] == ["slash_commands", "events_api"]
    assert slack.problems == []


def test_a_disconnect_makes_the_client_reconnect_and_delivery_goes_on(slack: SlackStandIn, app: App):
    assert slack.socket_mode.deliver("interactive", {"type": "block_actions"}, accepts_response_payload=False).acked
    first = slack.socket_mode.acks[-1].connection
    assert slack.socket_mode.disconnect("refresh_requested") == 1
    ack = slack.socket_mode.deliver("interactive", {"type": "view_submission"}, accepts_response_payload=True)
    assert ack.acked is not None and ack.connection != first  # it went to the new connection
    assert slack.socket_mode.connections_opened == 2
    assert slack.wait_for(lambda: slack.socket_mode.open_connections == 1)  # the old one is closed
    assert [c.method for c in slack.calls].count("apps.connections.open") == 2
    assert slack.problems == []


def test_a_dropped_connection_is_noticed_by_the_client_which_reconnects(slack: SlackStandIn):
    quick = App(slack, ping_interval=0.2)  # its watchdog calls a connection stale after 4 pings without a pong
    quick.client.connect()
    try:
        assert slack.socket_mode.wait_for_connections(1) == 1
        assert slack.socket_mode.drop() == 1
        ack = slack.socket_mode.deliver("events_api", {"type": "event_callback", "event": {}},
                                        accepts_response_payload=False)
        assert ack.acked is not None and slack.socket_mode.connections_opened == 2
    finally:
        quick.close(slack)


def test_acks_that_slack_would_not_take_are_problems(slack: SlackStandIn, client: WebClient):
    with bare(open_url(slack, client)) as socket:
        socket.recv(timeout=5)  # hello
        late: dict[str, Any] = {}

        def answer_late() -> None:
            envelope = json.loads(socket.recv(timeout=5))
            late.update(envelope)
            socket.send(json.dumps({"envelope_id": "not-an-envelope"}))
            socket.send("not json")
            socket.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "too late"}}))

        sender = threading.Thread(target=answer_late)
        sender.start()
        ack = slack.socket_mode.deliver("slash_commands", COMMAND, accepts_response_payload=True, deadline=0.0)
        sender.join(timeout=5)
        assert ack.acked is None  # Slack had given up: the person saw a timeout
        slack.wait_for(lambda: len(slack.socket_mode.acks) == 1)
        problems = "\n".join(slack.problems)
        assert "not acked within 0.0s" in problems and "unknown envelope not-an-envelope" in problems
        assert "not an ack" in problems and "acked after" in problems
        socket.send(json.dumps({"envelope_id": late["envelope_id"]}))
        slack.wait_for(lambda: "an already acked envelope" in "\n".join(slack.problems))


def test_at_most_ten_connections(slack: SlackStandIn, client: WebClient):
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            stack.enter_context(bare(open_url(slack, client)))
        assert slack.socket_mode.wait_for_connections(MAX_CONNECTIONS) == MAX_CONNECTIONS
        with bare(open_url(slack, client)) as extra:
            assert json.loads(extra.recv(timeout=5)) == {
                "type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": "applink-standin"}}
        assert slack.socket_mode.open_connections == MAX_CONNECTIONS


def test_without_a_connection_a_delivery_fails_after_waiting(slack: SlackStandIn):
    ack = slack.socket_mode.deliver("slash_commands", COMMAND, accepts_response_payload=True, connect_wait=0.05)
    assert ack.acked is None and ack.connection == ""
    assert slack.problems == ["Socket Mode: no open connection for a slash_commands envelope after 0.05s"]
