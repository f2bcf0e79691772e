"""Block Kit limits, checked the way Slack checks them (messages through chat.postMessage)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackStandIn
from bot.sandbox.blocks import MAX_MESSAGE_BLOCKS, validate_blocks


def text(kind: str, value: str) -> dict[str, str]:
    return {"type": kind, "text": value}


def button(action_id: str, label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": text("plain_text", label), **extra}


def section(value: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": text("mrkdwn", value), **extra}


VALID: dict[str, list[dict[str, Any]]] = {
    "50 blocks": [{"type": "divider"}] * MAX_MESSAGE_BLOCKS,
    "section text 3000": [section("x" * 3000)],
    "10 fields of 2000": [{"type": "section", "fields": [text("mrkdwn", "x" * 2000)] * 10}],
    "header 150": [{"type": "header", "text": text("plain_text", "x" * 150)}],
    "context 10": [{"type": "context", "elements": [text("mrkdwn", "x")] * 10}],
    "actions 25": [{"type": "actions", "elements": [button(f"a{i}") for i in range(25)]}],
    "button text 75, ids 255": [
        {"type": "actions", "block_id": "b" * 255, "elements": [button("a" * 255, "x" * 75)]}
    ],
    "same action_id in two blocks": [
        {"type": "actions", "elements": [button("open")]},
        {"type": "actions", "elements": [button("open")]},
    ],
    "input with select": [
        {
            "type": "input",
            "label": text("plain_text", "Severity"),
            "element": {
                "type": "static_select",
                "options": [{"text": text("plain_text", "SEV1"), "value": "sev1"}],
            },
        }
    ],
    "markdown and rich_text": [
        {"type": "markdown", "text": "**bold**"},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": []}]},
    ],
    "image": [{"type": "image", "image_url": "https://x.test/a.png", "alt_text": "graph"}],
}

INVALID: dict[str, tuple[list[Any], str]] = {
    "51 blocks": ([{"type": "divider"}] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    "section text 3001": ([section("x" * 3001)], "less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    "11 fields": ([{"type": "section", "fields": [text("mrkdwn", "x")] * 11}], "no more than 10 items"),
    "field 2001": ([{"type": "section", "fields": [text("mrkdwn", "x" * 2001)]}], "less than 2001"),
    "section without text": ([{"type": "section"}], "must provide one of: text, fields"),
    "header 151": ([{"type": "header", "text": text("plain_text", "x" * 151)}], "less than 151"),
    "header in mrkdwn": ([{"type": "header", "text": text("mrkdwn", "x")}], "/blocks/0/text/type"),
    "context 11": ([{"type": "context", "elements": [text("mrkdwn", "x")] * 11}], "no more than 10 items"),
    "actions 26": ([{"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}], "no more than 25"),
    "empty actions": ([{"type": "actions", "elements": []}], "at least 1 items"),
    "button text 76": ([{"type": "actions", "elements": [button("a", "x" * 76)]}], "less than 76"),
    "button in mrkdwn": (
        [{"type": "actions", "elements": [{"type": "button", "action_id": "a", "text": text("mrkdwn", "x")}]}],
        "/elements/0/text/type",
    ),
    "action_id 256": ([{"type": "actions", "elements": [button("a" * 256)]}], "less than 256"),
    "block_id 256": ([{"type": "divider", "block_id": "b" * 256}], "less than 256"),
    "duplicate block_id": ([section(block_id="card"), section(block_id="card")], "duplicate block_id: card"),
    "duplicate action_id in a block": (
        [{"type": "actions", "elements": [button("ack"), button("ack")]}],
        "duplicate action_id: ack",
    ),
    "unknown block type": ([{"type": "carousel"}], "unsupported type: carousel"),
    "unknown text type": ([{"type": "section", "text": text("html", "x")}], "/blocks/0/text/type"),
    "empty text": ([section("")], "must be more than 0 characters"),
    "block not an object": (["divider"], "must provide an object"),
    "input without element": ([{"type": "input", "label": text("plain_text", "x")}], "missing required field: element"),
    "button as input element": (
        [{"type": "input", "label": text("plain_text", "x"), "element": button("a")}],
        "unsupported type: button",
    ),
    "bad button style": ([{"type": "actions", "elements": [button("a", style="green")]}], "valid enum value"),
    "image without alt_text": ([{"type": "image", "image_url": "https://x.test/a.png"}], "alt_text"),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_blocks_are_accepted(slack: SlackStandIn, client: WebClient, name: str):
    assert validate_blocks(VALID[name], max_blocks=MAX_MESSAGE_BLOCKS) == []
    channel = slack.add_channel("blocks", members=[slack.bot_user_id])
    assert client.chat_postMessage(channel=channel, text="fallback", blocks=VALID[name])["ok"]


@pytest.mark.parametrize("name", INVALID)
def test_invalid_blocks_are_refused_with_slack_style_reasons(slack: SlackStandIn, client: WebClient, name: str):
    blocks, reason = INVALID[name]
    channel = slack.add_channel("blocks", members=[slack.bot_user_id])
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=channel, text="fallback", blocks=blocks)
    assert info.value.response["error"] == "invalid_blocks"
    messages = info.value.response["response_metadata"]["messages"]
    assert any(reason in m for m in messages), messages
    assert all(m.startswith("[ERROR] ") and "[json-pointer:/blocks" in m for m in messages)
    assert slack.messages(channel) == []


def test_blocks_that_are_not_a_list_are_a_format_error(slack: SlackStandIn, client: WebClient):
    channel = slack.add_channel("blocks", members=[slack.bot_user_id])
    with pytest.raises(SlackApiError) as info:
        client.api_call("chat.postMessage", json={"channel": channel, "text": "x", "blocks": {"type": "divider"}})
    assert info.value.response["error"] == "invalid_blocks_format"


def test_slack_fills_in_missing_block_and_action_ids(slack: SlackStandIn, client: WebClient):
    channel = slack.add_channel("blocks", members=[slack.bot_user_id])
    answer = client.chat_postMessage(
        channel=channel, text="x", blocks=[{"type": "actions", "elements": [{"type": "button", "text": text(
            "plain_text", "Go")}]}]
    )
    [block] = answer["message"]["blocks"]
    assert block["block_id"] and block["elements"][0]["action_id"]
    assert slack.message(channel, answer["ts"]).blocks == [block]
