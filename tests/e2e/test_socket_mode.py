"""Slack's requests over Socket Mode (slack-bolt's SocketModeHandler on slack_sdk's built-in client), against the
stand-in's WebSocket: the same incident as over HTTP, acks within 3 s, events once, a disconnect in the middle."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.runtime import Firebell, build
from bot.sandbox import SlackDriver, SlackStandIn
from storage import repositories as repo
from tests.e2e.conftest import ALICE, BOB, BROADCAST, RETRY_PAUSE, UNPACED, e2e_config
from tests.e2e.test_lifecycle import FILLED


def socket_settings(slack: SlackStandIn, database_url: str) -> Settings:
    return Settings(slack_bot_token=slack.token, slack_app_token=slack.app_token, slack_api_url=slack.api_url,
                    database_url=database_url, slack_retry_pause=RETRY_PAUSE, slack_limits=UNPACED, _env_file=None)


@pytest.fixture
def connected(slack: SlackStandIn, database_url: str) -> Iterator[tuple[Firebell, SlackDriver]]:
    firebell = build(socket_settings(slack, database_url), e2e_config(), socket_mode=True)
    firebell.connect()
    slack.socket_mode.wait_for_connections(1)
    try:
        yield firebell, SlackDriver.over_socket_mode(slack)
    finally:
        firebell.close()


def incidents(firebell: Firebell):
    with firebell.deps.db.read() as session:
        return repo.incidents_since(session, None)


def test_declare_acknowledge_and_resolve_over_socket_mode_through_a_reconnect(connected, slack: SlackStandIn):
    firebell, driver = connected
    declared = driver.slash_command(ALICE, "declare sev2 Payments time out", channel_id="C0GENERAL")
    assert declared.status == 200 and declared.json() == {"text": "Declaring a SEV2 incident…"}
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-1-")), None))
    assert channel is not None
    card_ts = slack.wait_for(lambda: slack.channel(channel.id).pins)[0]

    slack.socket_mode.disconnect("refresh_requested")  # Slack asks the client to move to a new connection
    slack.socket_mode.wait_for_connections(1)
    assert slack.socket_mode.connections_opened >= 2

    clicked = driver.click(BOB, channel_id=channel.id, message_ts=card_ts, action_id="incident_acknowledge")
    assert clicked.status == 200
    slack.wait_for(lambda: incidents(firebell)[0].acknowledged_by == BOB)
    driver.slash_command(ALICE, "resolve", channel_id=channel.id)
    form = slack.wait_for(lambda: [v for v in slack.open_views(ALICE) if "resolve" in v.callback_id])[-1]
    assert driver.submit_view(ALICE, form.id, FILLED).status == 200
    slack.wait_for(lambda: incidents(firebell)[0].status.value == "resolved")
    firebell.settle(30)

    [incident] = incidents(firebell)
    assert (incident.acknowledged_by, incident.root_cause, incident.resolution) == (
        BOB, "A bad index hint", "Dropped the hint")
    assert any("is resolved" in json.dumps(m.blocks) for m in slack.messages(BROADCAST))
    acks = slack.socket_mode.acks
    assert acks and all(a.acked is not None and a.acked - a.sent < 3.0 for a in acks)  # Slack's 3 seconds
    assert slack.problems == []


def test_an_event_delivered_twice_is_handled_once(connected, slack: SlackStandIn):
    firebell, driver = connected
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"}
    driver.send_event(event, event_id="Ev0SOCKET1")
    slack.wait_for(lambda: slack.calls_to("views.publish"))
    driver.send_event(event, event_id="Ev0SOCKET1", retry_num=1)
    driver.send_event({**event}, event_id="Ev0SOCKET2")
    slack.wait_for(lambda: len(slack.calls_to("views.publish")) >= 2)
    firebell.settle(30)
    assert len(slack.calls_to("views.publish")) == 2


def test_socket_mode_needs_the_app_level_token(slack: SlackStandIn, database_url: str):
    from bot.config import ConfigError

    settings = Settings(slack_bot_token=slack.token, slack_api_url=slack.api_url, database_url=database_url,
                        _env_file=None)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN must be set"):
        build(settings, e2e_config(), socket_mode=True)
    wrong = settings.model_copy(update={"slack_app_token": settings.slack_bot_token})
    with pytest.raises(ConfigError, match="app-level token"):
        build(wrong, e2e_config(), socket_mode=True)


def test_firebell_serve_socket_mode_as_a_process(slack: SlackStandIn, database_url: str, tmp_path):
    """The command an operator runs: no request URL, /healthz on PORT, a command answered over the WebSocket."""
    import os
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.token, "SLACK_APP_TOKEN": slack.app_token,
           "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url, "PYTHONPATH": os.getcwd()}
    env.pop("SLACK_SIGNING_SECRET", None)
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--socket-mode", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        slack.socket_mode.wait_for_connections(1, timeout=60)
        answered = SlackDriver.over_socket_mode(slack).slash_command(ALICE, "help", channel_id="C0GENERAL")
        assert answered.status == 200 and "Firebell: incident commands" in answered.json()["text"]
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
            assert health.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:  # there is no request URL to knock on
            opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"{}"), timeout=10)
        assert refused.value.code == 404
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert slack.token not in output and slack.app_token not in output
