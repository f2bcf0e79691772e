"""Fault injection, response_urls, waiting, resetting, and the stand-in's own clock."""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.sandbox import SlackStandIn
from tests.sandbox.conftest import ALICE


def test_rate_limit_is_a_429_with_retry_after_that_slack_sdk_retries(slack: SlackStandIn):
    slack.fail("conversations.create", status=429, retry_after=0)
    plain = WebClient(token=slack.token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as info:
        plain.conversations_create(name="inc-1")
    assert info.value.response.status_code == 429 and info.value.response["error"] == "ratelimited"
    assert info.value.response.headers["Retry-After"] == "0"

    slack.fail("conversations.create", status=429, retry_after=0)
    patient = WebClient(token=slack.token, base_url=slack.api_url,
                        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert patient.conversations_create(name="inc-1")["ok"]
    assert [(c.status, c.error) for c in slack.calls_to("conversations.create")] == [
        (429, "ratelimited"), (429, "ratelimited"), (200, None)]
    assert len(slack.channels) == 1


def test_server_errors_are_5xx_that_slack_sdk_retries(slack: SlackStandIn):
    slack.fail("chat.postMessage", status=500, times=2)
    channel = slack.add_channel("general", members=[slack.bot_user_id])
    plain = WebClient(token=slack.token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as info:
        plain.chat_postMessage(channel=channel, text="x")
    assert info.value.response.status_code == 500
    patient = WebClient(token=slack.token, base_url=slack.api_url,
                        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert patient.chat_postMessage(channel=channel, text="x")["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 500, 200]
    assert [m.text for m in slack.messages(channel)] == ["x"]


def test_injected_api_errors(slack: SlackStandIn, client: WebClient):
    slack.fail("conversations.create", error="restricted_action", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            client.conversations_create(name="inc-1")
        assert info.value.response.status_code == 200 and info.value.response["error"] == "restricted_action"
    assert client.conversations_create(name="inc-1")["ok"]
    slack.fail("chat.postMessage", status=503)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=ALICE, text="x")


def test_response_urls_record_posts_and_act_like_slack(slack: SlackStandIn, client: WebClient):
    channel = slack.add_channel("general", members=[ALICE, slack.bot_user_id])
    url = slack.new_response_url(channel_id=channel, user_id=ALICE)
    webhook = WebhookClient(url)
    assert webhook.send(text="only you").status_code == 200
    assert webhook.send(text="everyone", response_type="in_channel").status_code == 200
    assert [(e.user, e.text, e.via) for e in slack.ephemerals] == [(ALICE, "only you", "response_url")]
    assert [m.text for m in slack.messages(channel)] == ["everyone"]
    assert webhook.send(text="replaced", replace_original=True).status_code == 200
    assert [e.text for e in slack.ephemerals] == ["replaced"]
    assert webhook.send(text="4").status_code == webhook.send(text="5").status_code == 200
    sixth = webhook.send(text="6")
    assert sixth.status_code == 404 and "used_url" in sixth.body
    assert [p["text"] for p in slack.response_posts(url)] == ["only you", "everyone", "replaced", "4", "5"]
    assert slack.response_posts(slack.new_response_url()) == []


def test_a_response_url_from_a_message_replaces_or_deletes_it(slack: SlackStandIn, client: WebClient):
    channel = slack.add_channel("general", members=[ALICE, slack.bot_user_id])
    ts = client.chat_postMessage(channel=channel, text="card")["ts"]
    url = slack.new_response_url(channel_id=channel, user_id=ALICE, message_ts=ts)
    WebhookClient(url).send(text="card v2", replace_original=True)
    assert (slack.message(channel, ts).text, slack.message(channel, ts).edits) == ("card v2", 1)
    bad = WebhookClient(url).send(blocks=[{"type": "nope"}])
    assert bad.status_code == 400 and "invalid_blocks" in bad.body
    WebhookClient(url).send_dict({"delete_original": True})
    assert slack.messages(channel) == []


def test_wait_for_returns_the_value_or_explains_the_timeout(slack: SlackStandIn, client: WebClient):
    assert slack.wait_for(lambda: [1]) == [1]
    client.auth_test()
    with pytest.raises(AssertionError) as info:
        slack.wait_for(lambda: slack.channel_by_name("never"), timeout=0.05)
    assert "still falsy" in str(info.value) and "auth.test -> 200 ok" in str(info.value)
    with pytest.raises(AssertionError, match="KeyError"):
        slack.wait_for(lambda: slack.channel("C0NOPE"), timeout=0.05)


def test_reset_forgets_everything_but_the_bot(slack: SlackStandIn, client: WebClient):
    client.conversations_create(name="inc-1")
    slack.fail("auth.test", error="invalid_auth")
    slack.reset()
    assert slack.channels == [] and slack.calls == []
    assert client.auth_test()["user_id"] == slack.bot_user_id
    with pytest.raises(SlackApiError):
        client.users_info(user=ALICE)


def test_slacks_clock_does_not_stop_when_the_apps_does(slack: SlackStandIn, client: WebClient):
    channel = slack.add_channel("general", members=[slack.bot_user_id])
    with freeze_time("2020-01-01 12:00:00"):
        first = client.chat_postMessage(channel=channel, text="a")["ts"]
        second = client.chat_postMessage(channel=channel, text="b")["ts"]
        assert slack.wait_for(lambda: True, timeout=0.1)
    assert float(first) > 1_700_000_000 and float(second) > float(first)


def test_state_is_handed_out_as_copies(slack: SlackStandIn, client: WebClient):
    channel_id = client.conversations_create(name="inc-1")["channel"]["id"]
    slack.channel(channel_id).members.add("U0INTRUDER")
    assert slack.channel(channel_id).members == {slack.bot_user_id}
