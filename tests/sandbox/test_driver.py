"""SlackDriver against a small Bolt app, the app calling the stand-in: every test runs over HTTP (signed requests
to the served app) and over Socket Mode (the app connected with slack-bolt's SocketModeHandler)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox import SlackDriver, SlackStandIn
from tests.sandbox.conftest import ALICE, BOB
from tests.sandbox.served_app import serve_wsgi

SECRET = "sandbox-signing-secret"


def plain(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


SEVERITIES = [{"text": plain(s.upper()), "value": s} for s in ("sev1", "sev2", "sev3")]
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": plain("Declare an incident"),
    "submit": plain("Declare"),
    "private_metadata": "from-shortcut",
    "blocks": [
        {"type": "input", "block_id": "title", "label": plain("Title"),
         "element": {"type": "plain_text_input", "action_id": "value"}},
        {"type": "input", "block_id": "severity", "label": plain("Severity"),
         "element": {"type": "static_select", "action_id": "choice", "options": SEVERITIES,
                     "initial_option": SEVERITIES[2]}},
        {"type": "input", "block_id": "commander", "label": plain("Commander"), "optional": True,
         "element": {"type": "users_select", "action_id": "user"}},
        {"type": "input", "block_id": "notes", "label": plain("Notes"), "optional": True,
         "element": {"type": "plain_text_input", "action_id": "value", "multiline": True}},
        {"type": "actions", "block_id": "tools",
         "elements": [{"type": "button", "action_id": "preview", "text": plain("Preview"), "value": "p"}]},
    ],
}
CARD = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*INC-1* DB down"}},
    {"type": "actions", "block_id": "card_actions", "elements": [
        {"type": "button", "action_id": "ack_button", "text": plain("Acknowledge"), "value": "inc-1"},
        {"type": "static_select", "action_id": "set_severity", "placeholder": plain("Severity"),
         "options": SEVERITIES},
    ]},
]


@dataclass
class Served:
    slack: SlackStandIn
    driver: SlackDriver
    seen: list[Any] = field(default_factory=list)


def build_app(slack: SlackStandIn, seen: list[Any]) -> App:
    app = App(client=WebClient(token=slack.token, base_url=slack.api_url), signing_secret=SECRET)

    @app.command("/incident")
    def on_command(ack: Callable[..., None], command: dict[str, Any]) -> None:
        seen.append(command)
        ack(f"Declaring: {command['text']}")

    @app.shortcut("declare")
    def on_shortcut(ack: Callable[..., None], shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=shortcut["trigger_id"], view=MODAL)

    @app.shortcut("from_message")
    def on_message_shortcut(ack: Callable[..., None], shortcut: dict[str, Any]) -> None:
        seen.append(shortcut)
        ack()

    @app.view("declare")
    def on_submit(ack: Callable[..., None], view: dict[str, Any]) -> None:
        seen.append(view)
        if not (view["state"]["values"]["title"]["value"]["value"] or "").strip():
            ack(response_action="errors", errors={"title": "An incident needs a title"})
        else:
            ack()

    @app.action("ack_button")
    @app.action("set_severity")
    @app.action("preview")
    def on_action(ack: Callable[..., None], body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        seen.append(body)
        if body["actions"][0]["action_id"] == "ack_button":
            respond(replace_original=True, text="Acknowledged by <@" + body["user"]["id"] + ">")

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], request: Any) -> None:
        seen.append((event, body["event_id"], request.headers.get("x-slack-retry-num")))

    return app


@pytest.fixture(params=["http", "socket_mode"])
def served(request: pytest.FixtureRequest, slack: SlackStandIn) -> Iterator[Served]:
    slack.add_channel("general", channel_id="C0GENERAL", members=[ALICE, BOB])
    seen: list[Any] = []
    app = build_app(slack, seen)
    if request.param == "http":
        with serve_wsgi(SlackRequestHandler(app)) as server:
            yield Served(slack, SlackDriver(server.url + "/slack/events", SECRET, slack), seen)
        return
    handler = SocketModeHandler(app, slack.app_token)
    handler.connect()
    try:
        assert slack.socket_mode.wait_for_connections(1) == 1
        yield Served(slack, SlackDriver.over_socket_mode(slack), seen)
    finally:
        handler.client.auto_reconnect_enabled = False
        slack.socket_mode.close_connections()  # the client stops reading at once, instead of at its next timeout
        handler.close()


def http_only(served: Served) -> None:
    if served.driver.socket_mode:
        pytest.skip("Socket Mode has no signatures and no url_verification: the WebSocket is authenticated")


def test_a_signed_slash_command_is_acked_and_its_ack_text_shown(served: Served):
    slack, driver = served.slack, served.driver
    response = driver.slash_command(ALICE, "declare sev1 DB down", channel_id="C0GENERAL")
    if driver.socket_mode:  # Bolt acks with the text as the envelope's payload
        assert response.status == 200 and response.json() == {"text": "Declaring: declare sev1 DB down"}
    else:  # Bolt acks plain text
        assert response.status == 200 and response.text == "Declaring: declare sev1 DB down"
    [command] = served.seen
    assert (command["command"], command["user_id"], command["channel_name"]) == ("/incident", ALICE, "general")
    assert command["response_url"].startswith(slack.base_url) and command["trigger_id"]
    [shown] = slack.ephemerals
    assert (shown.user, shown.channel, shown.text, shown.via) == (
        ALICE, "C0GENERAL", "Declaring: declare sev1 DB down", "ack")
    assert slack.problems == []


def test_bad_or_stale_signatures_get_401(served: Served):
    http_only(served)
    body, form = b"command=%2Fincident&text=x&user_id=U0ALICE", "application/x-www-form-urlencoded"
    assert served.driver.raw(body, form, signature="v0=" + "0" * 64).status == 401
    assert served.driver.raw(body, form, timestamp=int(time.time()) - 600).status == 401
    assert served.seen == []


def test_a_shortcut_opens_a_modal_and_submitting_delivers_the_state(served: Served):
    slack, driver = served.slack, served.driver
    assert driver.global_shortcut(ALICE, "declare").status == 200
    [view] = slack.wait_for(lambda: slack.open_views(ALICE))

    values = {"title": {"value": "DB down"}, "commander": {"user": BOB}}
    response = driver.submit_view(ALICE, view.id, values)
    assert response.status == 200 and response.json() is None
    submitted = served.seen[-1]
    assert submitted["state"]["values"] == {
        "title": {"value": {"type": "plain_text_input", "value": "DB down"}},
        "severity": {"choice": {"type": "static_select", "selected_option": SEVERITIES[2]}},  # the initial one
        "commander": {"user": {"type": "users_select", "selected_user": BOB}},
        "notes": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert (submitted["id"], submitted["callback_id"], submitted["private_metadata"]) == (
        view.id, "declare", "from-shortcut")
    assert submitted["hash"] == view.hash and submitted["root_view_id"] == view.id
    assert response.sent["type"] == "view_submission" and response.sent["response_urls"] == []
    assert slack.view(view.id).closed and slack.open_views(ALICE) == []


def test_an_errors_ack_keeps_the_modal_open(served: Served):
    slack, driver = served.slack, served.driver
    driver.global_shortcut(ALICE, "declare")
    [view] = slack.wait_for(lambda: slack.open_views(ALICE))
    response = driver.submit_view(ALICE, view.id, {"title": {"value": "   "}, "severity": {"choice": "sev1"}})
    assert response.json() == {"response_action": "errors", "errors": {"title": "An incident needs a title"}}
    assert slack.view(view.id).errors == {"title": "An incident needs a title"} and not slack.view(view.id).closed
    driver.submit_view(ALICE, view.id, {"title": {"value": "Fixed"}})
    assert slack.view(view.id).closed and slack.problems == []


def test_submit_view_refuses_what_a_person_could_not_do(served: Served):
    slack, driver = served.slack, served.driver
    view_id = WebClient(token=slack.token, base_url=slack.api_url).views_open(
        trigger_id=slack.mint_trigger_id(ALICE), view=MODAL)["view"]["id"]
    with pytest.raises(LookupError, match="no input nope/value"):
        driver.submit_view(ALICE, view_id, {"nope": {"value": "x"}, "title": {"value": "t"}})
    with pytest.raises(ValueError, match="no option with value 'sev9'"):
        driver.submit_view(ALICE, view_id, {"title": {"value": "t"}, "severity": {"choice": "sev9"}})
    with pytest.raises(ValueError, match="required input title/value is empty"):
        driver.submit_view(ALICE, view_id, {})
    with pytest.raises(ValueError, match="no user"):
        driver.submit_view(ALICE, view_id, {"title": {"value": "t"}, "commander": {"user": "U0GHOST"}})
    with pytest.raises(ValueError, match="belongs to"):
        driver.submit_view(BOB, view_id, {"title": {"value": "t"}})
    assert served.seen == []


def test_clicks_on_a_message_and_respond_replaces_it(served: Served):
    slack, driver = served.slack, served.driver
    client = WebClient(token=slack.token, base_url=slack.api_url)
    ts = client.chat_postMessage(channel="C0GENERAL", text="INC-1", blocks=CARD)["ts"]
    with pytest.raises(ValueError, match="carries value"):
        driver.click(BOB, channel_id="C0GENERAL", message_ts=ts, action_id="ack_button", value="inc-2")
    chose = driver.click(ALICE, channel_id="C0GENERAL", message_ts=ts, action_id="set_severity",
                         selected_option="sev2")
    assert chose.status == 200
    chosen = slack.wait_for(lambda: served.seen[-1]["actions"][0].get("selected_option"))
    assert chosen == SEVERITIES[1]

    assert driver.click(BOB, channel_id="C0GENERAL", message_ts=ts, action_id="ack_button").status == 200
    updated = slack.wait_for(lambda: (m := slack.message("C0GENERAL", ts)).edits and m)
    assert updated.text == f"Acknowledged by <@{BOB}>"
    body = served.seen[-1]
    assert body["actions"][0] | {"action_ts": "-"} == {
        "type": "button", "action_id": "ack_button", "block_id": "card_actions", "value": "inc-1",
        "text": plain("Acknowledge"), "action_ts": "-"}
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": "C0GENERAL",
                                 "is_ephemeral": False}
    assert body["channel"] == {"id": "C0GENERAL", "name": "general"} and body["message"]["ts"] == ts
    assert body["user"]["id"] == BOB and body["trigger_id"]

    # respond(replace_original=True) with text only replaced the whole message: the buttons are gone
    with pytest.raises(LookupError, match="present: \\[\\]"):
        driver.click(BOB, channel_id="C0GENERAL", message_ts=ts, action_id="ack_button")


def test_clicks_in_a_view(served: Served):
    slack, driver = served.slack, served.driver
    driver.global_shortcut(ALICE, "declare")
    [view] = slack.wait_for(lambda: slack.open_views(ALICE))
    assert driver.click_in_view(ALICE, view_id=view.id, action_id="preview").status == 200
    body = slack.wait_for(lambda: served.seen)[-1]
    assert body["container"] == {"type": "view", "view_id": view.id}
    assert body["view"]["state"]["values"]["severity"]["choice"]["selected_option"] == SEVERITIES[2]
    assert body["actions"][0]["value"] == "p"


def test_message_shortcut(served: Served):
    slack, driver = served.slack, served.driver
    ts = slack.post_user_message("C0GENERAL", BOB, "p99 is 9s")
    assert driver.message_shortcut(ALICE, "from_message", channel_id="C0GENERAL", message_ts=ts).status == 200
    [shortcut] = served.seen
    assert (shortcut["type"], shortcut["message"]["text"], shortcut["message"]["user"]) == (
        "message_action", "p99 is 9s", BOB)
    assert shortcut["channel"]["id"] == "C0GENERAL" and shortcut["message_ts"] == ts


def test_events_and_url_verification(served: Served):
    driver = served.driver
    if not driver.socket_mode:
        assert driver.url_verification("challenge-42").json() == {"challenge": "challenge-42"}
    event = {"type": "app_mention", "user": ALICE, "text": "<@U0FIREBOT> status", "channel": "C0GENERAL",
             "ts": "1700000000.000100", "event_ts": "1700000000.000100"}
    assert driver.send_event(event, event_id="Ev0001").status == 200
    assert driver.send_event(event, event_id="Ev0001", retry_num=1).status == 200
    received = served.slack.wait_for(lambda: len(served.seen) == 2 and served.seen)
    first, retried = sorted(received, key=lambda seen: seen[2] or [])  # listeners run concurrently
    # Socket Mode's envelope says retry_attempt 0 on a first delivery, and Bolt passes it on as a header
    assert first == (event, "Ev0001", ["0"] if driver.socket_mode else None)
    assert retried == (event, "Ev0001", ["1"])  # Bolt delivers retries: the app must deduplicate
