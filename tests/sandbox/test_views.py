"""views.* and trigger_ids, through slack_sdk's WebClient."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackStandIn
from tests.sandbox.conftest import ALICE, BOB


def plain(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def modal(title: str = "Declare", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "declare",
        "title": plain(title),
        "submit": plain("Declare"),
        "close": plain("Cancel"),
        "private_metadata": '{"channel": "C1"}',
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": plain("Title"),
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    view.update(extra)
    return view


def error_of(call: Any, **kwargs: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"], info.value.response.get("response_metadata", {}).get("messages", [])


def test_open_a_modal(slack: SlackStandIn, client: WebClient):
    answer = client.views_open(trigger_id=slack.mint_trigger_id(ALICE), view=modal())
    view = answer["view"]
    assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
    assert (view["callback_id"], view["root_view_id"], view["private_metadata"]) == (
        "declare", view["id"], '{"channel": "C1"}')
    [stored] = slack.views_of(ALICE)
    assert (stored.id, stored.title, stored.type, stored.closed, stored.hash) == (
        view["id"], "Declare", "modal", False, view["hash"])
    assert [v.id for v in slack.open_views(ALICE)] == [view["id"]] and slack.views_of(BOB) == []


def test_trigger_ids_are_single_use(slack: SlackStandIn, client: WebClient):
    trigger = slack.mint_trigger_id(ALICE)
    client.views_open(trigger_id=trigger, view=modal())
    assert error_of(client.views_open, trigger_id=trigger, view=modal())[0] == "exchanged_trigger_id"
    assert error_of(client.views_open, trigger_id="123.456.abc", view=modal())[0] == "invalid_trigger_id"


def test_trigger_ids_expire():
    with SlackStandIn(trigger_ttl=0.2) as slack:
        slack.add_user(ALICE)
        client = WebClient(token=slack.token, base_url=slack.api_url)
        trigger = slack.mint_trigger_id(ALICE)
        time.sleep(0.3)
        assert error_of(client.views_open, trigger_id=trigger, view=modal())[0] == "expired_trigger_id"


INVALID_VIEWS: dict[str, tuple[dict[str, Any], str]] = {
    "title 25": (modal(title="x" * 25), "[json-pointer:/view/title/text]"),
    "no title": ({k: v for k, v in modal().items() if k != "title"}, "missing required field: title"),
    "submit 25": (modal(submit=plain("x" * 25)), "/view/submit/text"),
    "close 25": (modal(close=plain("x" * 25)), "/view/close/text"),
    "inputs without submit": ({k: v for k, v in modal().items() if k != "submit"}, "missing required field: submit"),
    "private_metadata 3001": (modal(private_metadata="x" * 3001), "/view/private_metadata"),
    "callback_id 256": (modal(callback_id="x" * 256), "/view/callback_id"),
    "101 blocks": (modal(blocks=[{"type": "divider"}] * 101), "no more than 100 items allowed"),
    "duplicate block_id": (modal(blocks=[{"type": "divider", "block_id": "a"}] * 2), "duplicate block_id: a"),
    "home type": (modal(type="home"), "/view/type"),
    "bad block": (modal(blocks=[{"type": "header", "text": plain("x" * 151)}]), "/view/blocks/0/text/text"),
}


@pytest.mark.parametrize("name", INVALID_VIEWS)
def test_invalid_views_are_refused(slack: SlackStandIn, client: WebClient, name: str):
    view, reason = INVALID_VIEWS[name]
    error, messages = error_of(client.views_open, trigger_id=slack.mint_trigger_id(ALICE), view=view)
    assert error == "invalid_arguments"
    assert any(reason in m for m in messages), messages
    assert slack.views_of(ALICE) == []


def test_a_view_of_100_blocks_is_fine(slack: SlackStandIn, client: WebClient):
    view = modal(blocks=[{"type": "divider"}] * 100)
    del view["submit"]
    assert client.views_open(trigger_id=slack.mint_trigger_id(ALICE), view=view)["ok"]


def test_update_by_id_or_external_id_with_hash(slack: SlackStandIn, client: WebClient):
    opened = client.views_open(trigger_id=slack.mint_trigger_id(ALICE), view=modal(external_id="declare-1"))["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal(title="Declared"))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.view(opened["id"]).title == "Declared"
    assert error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal())[0] == "hash_conflict"
    assert error_of(client.views_update, view_id="V0NOPE", view=modal())[0] == "not_found"
    again = client.views_update(external_id="declare-1", view=modal(title="Again", external_id="declare-1"))
    assert again["view"]["id"] == opened["id"]
    other = slack.mint_trigger_id(BOB)
    assert error_of(client.views_open, trigger_id=other, view=modal(external_id="declare-1"))[0] == (
        "duplicate_external_id")


def test_push_stacks_up_to_three_views(slack: SlackStandIn, client: WebClient):
    root = client.views_open(trigger_id=slack.mint_trigger_id(ALICE), view=modal())["view"]
    second = client.views_push(trigger_id=slack.mint_trigger_id(ALICE), view=modal(title="Second"))["view"]
    third = client.views_push(trigger_id=slack.mint_trigger_id(ALICE), view=modal(title="Third"))["view"]
    assert second["root_view_id"] == third["root_view_id"] == root["id"]
    assert third["previous_view_id"] == second["id"]
    assert [v.title for v in slack.open_views(ALICE)] == ["Declare", "Second", "Third"]
    assert error_of(client.views_push, trigger_id=slack.mint_trigger_id(ALICE), view=modal())[0] == (
        "push_limit_reached")


def test_publish_a_home_tab(slack: SlackStandIn, client: WebClient):
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "No incidents"}}]}
    first = client.views_publish(user_id=ALICE, view=home)["view"]
    second = client.views_publish(user_id=ALICE, view=home, hash=first["hash"])["view"]
    assert first["id"] == second["id"] and second["type"] == "home"
    assert error_of(client.views_publish, user_id=ALICE, view=home, hash=first["hash"])[0] == "hash_conflict"
    assert error_of(client.views_publish, user_id="U0GHOST", view=home)[0] == "user_not_found"
    assert error_of(client.views_publish, user_id=ALICE, view=modal())[0] == "invalid_arguments"
    assert [v.type for v in slack.views_of(ALICE)] == ["home"]
