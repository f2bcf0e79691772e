"""Tokens and scopes as Slack checks them: the granted scopes in `x-oauth-scopes` on every authenticated answer,
`missing_scope` for a method none of whose scopes was granted, and the app-level token kept to its own method."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackStandIn
from bot.sandbox.scopes import ALL_BOT_SCOPES
from tests.sandbox.conftest import ALICE
from tests.sandbox.test_standin import error_of

MANIFEST_LIKE = ("commands", "chat:write", "channels:manage", "channels:read", "users:read")


@pytest.fixture
def narrow(slack: SlackStandIn) -> Iterator[SlackStandIn]:
    slack.grant_scopes(MANIFEST_LIKE)
    yield slack
    slack.grant_scopes(ALL_BOT_SCOPES)


def test_every_authenticated_answer_lists_the_granted_scopes(slack: SlackStandIn, client: WebClient):
    answer = client.auth_test()
    assert answer.headers["x-oauth-scopes"].split(",") == list(ALL_BOT_SCOPES)
    assert {"chat:write.public", "commands", "usergroups:write", "files:write"} <= set(slack.scopes)
    info = client.users_info(user=ALICE)
    assert info.headers["x-accepted-oauth-scopes"] == "users:read"


def test_granted_scopes_are_configurable_and_the_header_follows(narrow: SlackStandIn, client: WebClient):
    assert client.auth_test().headers["x-oauth-scopes"] == ",".join(MANIFEST_LIKE)


def test_a_method_without_its_scope_answers_missing_scope(narrow: SlackStandIn, client: WebClient):
    with pytest.raises(SlackApiError) as info:
        client.usergroups_users_update(usergroup="S0X", users=[ALICE])
    answer = info.value.response
    assert (answer["error"], answer["needed"], answer["provided"]) == (
        "missing_scope", "usergroups:write", ",".join(MANIFEST_LIKE))
    assert narrow.calls_to("usergroups.users.update")[-1].error == "missing_scope"


def test_a_private_channel_needs_groups_write(narrow: SlackStandIn, client: WebClient):
    assert client.conversations_create(name="inc-public")["ok"]  # channels:manage is granted
    assert error_of(client.conversations_create, name="inc-secret", is_private=True) == "missing_scope"
    assert [c.name for c in narrow.channels] == ["inc-public"]


def test_posting_to_a_channel_the_bot_is_not_in_needs_chat_write_public(narrow: SlackStandIn, client: WebClient):
    channel_id = narrow.add_channel("incidents", members=[ALICE])
    assert error_of(client.chat_postMessage, channel=channel_id, text="INC-1 declared") == "not_in_channel"
    narrow.grant_scopes((*MANIFEST_LIKE, "chat:write.public"))
    assert client.chat_postMessage(channel=channel_id, text="INC-1 declared")["ok"]


def test_the_app_level_token_opens_connections_and_nothing_else(slack: SlackStandIn, client: WebClient):
    answer = client.apps_connections_open(app_token=slack.app_token)  # slack_sdk sends it as the bearer token
    assert answer["url"].startswith("ws://127.0.0.1:") and answer.headers["x-oauth-scopes"] == "connections:write"
    app = WebClient(token=slack.app_token, base_url=slack.api_url)
    assert error_of(app.chat_postMessage, channel="C0X", text="x") == "not_allowed_token_type"
    assert error_of(client.apps_connections_open, app_token=slack.token) == "not_allowed_token_type"
    assert error_of(client.apps_connections_open, app_token="xapp-1-forged") == "invalid_auth"
