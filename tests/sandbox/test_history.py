"""conversations.history with message metadata, and answers that arrive after the caller gave up."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.sandbox.conftest import ALICE


def test_history_is_newest_first_and_shows_metadata_only_when_asked(slack, client):
    channel = slack.add_channel("ops", members=[ALICE])
    first = client.chat_postMessage(channel=channel, text="one")
    client.chat_postMessage(channel=channel, text="two",
                                     metadata={"event_type": "firebell_outbox", "event_payload": {"item": 7}})
    with pytest.raises(SlackApiError, match="not_in_channel"):  # a bot reads only conversations it is in
        client.conversations_history(channel=channel)
    assert client.conversations_join(channel=channel)["channel"]["is_member"]
    plain = client.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]
    assert "metadata" not in plain["messages"][0]
    full = client.conversations_history(channel=channel, include_all_metadata=True, oldest=first["ts"])
    assert [m["text"] for m in full["messages"]] == ["two"]  # oldest is exclusive
    assert full["messages"][0]["metadata"] == {"event_type": "firebell_outbox", "event_payload": {"item": 7}}
    with pytest.raises(SlackApiError, match="invalid_metadata_format"):
        client.chat_postMessage(channel=channel, text="x", metadata={"event_type": 3})


def test_a_late_answer_still_took_effect(slack):
    channel = slack.add_channel("ops")
    slack.fail("chat.postMessage", late_by=1.5)
    impatient = WebClient(token=slack.token, base_url=slack.api_url, timeout=0.5)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel=channel, text="did it land?")
    assert [m.text for m in slack.messages(channel)] == ["did it land?"]


def test_history_pages_with_a_cursor(slack, client):
    channel = slack.add_channel("busy", members=[ALICE])
    client.conversations_join(channel=channel)
    for i in range(5):
        client.chat_postMessage(channel=channel, text=f"m{i}")
    first = client.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    rest = client.conversations_history(channel=channel, limit=10, cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]


def test_conversations_list_shows_what_a_bot_may_see(slack, client):
    public = slack.add_channel("open", members=[ALICE])
    slack.add_channel("secret", is_private=True, members=[ALICE])
    listed = client.conversations_list(types="public_channel,private_channel", limit=200)
    assert public in [c["id"] for c in listed["channels"]]
    assert "secret" not in [c["name"] for c in listed["channels"]]
