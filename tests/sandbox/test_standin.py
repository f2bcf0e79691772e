"""The stand-in's Web API, through slack_sdk's real WebClient: happy paths and Slack's error codes."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackStandIn
from tests.sandbox.conftest import ALICE, BOB, CAROL


def error_of(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def new_channel(client: WebClient, name: str = "inc-1", **kwargs: Any) -> str:
    return client.conversations_create(name=name, **kwargs)["channel"]["id"]


# --- auth and transport --------------------------------------------------------------------------


def test_auth_test_describes_the_bot(slack: SlackStandIn, client: WebClient):
    answer = client.auth_test()
    assert answer["user_id"] == slack.bot_user_id and answer["team_id"] == slack.team_id
    assert answer["bot_id"] and answer["url"] == "https://firebell-test.slack.com/"


def test_missing_and_wrong_tokens_are_refused(slack: SlackStandIn):
    assert error_of(WebClient(base_url=slack.api_url).conversations_create, name="x") == "not_authed"
    assert error_of(WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test) == "invalid_auth"
    assert WebClient(base_url=slack.api_url).api_test()["ok"]  # api.test needs no token
    assert slack.channels == []


def test_unknown_method_is_a_404(client: WebClient):
    with pytest.raises(SlackApiError) as info:
        client.api_call("chat.frobnicate", json={"channel": "C1"})
    assert info.value.response.status_code == 404 and info.value.response["error"] == "unknown_method"


def test_form_bodies_json_bodies_and_token_fields_are_all_accepted(slack: SlackStandIn):
    form = f"token={slack.token}&name=from-form&is_private=true".encode()
    status, answer = post(slack.api_url + "conversations.create", form,
                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and answer["ok"] and answer["channel"]["is_private"] is True
    blocks = json.dumps([{"type": "divider"}])
    status, answer = post(
        slack.api_url + "chat.postMessage",
        f"channel={answer['channel']['id']}&blocks={blocks}".encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {slack.token}"},
    )
    assert answer["ok"] and answer["message"]["blocks"][0]["type"] == "divider"
    status, answer = post(slack.api_url + "conversations.create", json.dumps({"name": "from-json"}).encode(),
                          {"Content-Type": "application/json", "Authorization": f"Bearer {slack.token}"})
    assert answer["ok"] and answer["channel"]["name"] == "from-json"
    # JSON bodies must carry the token in the Authorization header, as with Slack
    status, answer = post(slack.api_url + "conversations.create",
                          json.dumps({"name": "x", "token": slack.token}).encode(), {"Content-Type": "application/json"})
    assert answer == {"ok": False, "error": "not_authed"}


def test_calls_are_logged_without_the_token(slack: SlackStandIn, client: WebClient):
    client.conversations_create(name="logged")
    error_of(client.conversations_create, name="logged")
    first, second = slack.calls_to("conversations.create")
    assert (first.ok, first.error, first.status) == (True, None, 200)
    assert (second.ok, second.error) == (False, "name_taken")
    assert first.args == {"name": "logged"} and first.at <= second.at


# --- conversations ------------------------------------------------------------------------------


def test_create_channel(slack: SlackStandIn, client: WebClient):
    channel = client.conversations_create(name="inc-42_db", is_private=True)["channel"]
    assert re.fullmatch(r"C[A-Z0-9]{10}", channel["id"])
    assert (channel["name"], channel["is_private"], channel["creator"]) == ("inc-42_db", True, slack.bot_user_id)
    assert isinstance(channel["created"], int)
    stored = slack.channel(channel["id"])
    assert stored.members == {slack.bot_user_id} and slack.channel_by_name("inc-42_db") == stored


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Inc-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc.1", "invalid_name_specials"),
        ("#inc", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("general", "name_taken"),
        ("old", "name_taken"),
    ],
)
def test_create_channel_refuses_bad_names(slack: SlackStandIn, client: WebClient, name: str, error: str):
    slack.add_channel("general", members=[ALICE])
    client.conversations_archive(channel=new_channel(client, "old"))
    assert error_of(client.conversations_create, name=name) == error
    assert client.conversations_create(name="x" * 80)["ok"]


def test_invite(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    answer = client.conversations_invite(channel=channel_id, users=[ALICE, BOB])
    assert answer["channel"]["id"] == channel_id
    assert slack.channel(channel_id).members == {slack.bot_user_id, ALICE, BOB}
    # some already in, some new: the new ones are invited
    client.conversations_invite(channel=channel_id, users=f"{ALICE},{CAROL}")
    assert CAROL in slack.channel(channel_id).members


def test_invite_errors(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    client.conversations_invite(channel=channel_id, users=ALICE)
    outside = slack.add_channel("elsewhere", members=[ALICE])
    archived = new_channel(client, "archived")
    client.conversations_archive(channel=archived)
    invite = client.conversations_invite
    assert error_of(invite, channel="C0NOPE", users=BOB) == "channel_not_found"
    assert error_of(invite, channel=outside, users=BOB) == "not_in_channel"
    assert error_of(invite, channel=archived, users=BOB) == "is_archived"
    assert error_of(invite, channel=channel_id, users=[BOB, "U0GHOST"]) == "user_not_found"
    assert error_of(invite, channel=channel_id, users=slack.bot_user_id) == "cant_invite_self"
    assert error_of(invite, channel=channel_id, users=ALICE) == "already_in_channel"
    many = [f"U{i:09d}" for i in range(101)]
    assert error_of(invite, channel=channel_id, users=many) == "too_many_users"
    assert BOB not in slack.channel(channel_id).members  # a failed call invites nobody
    assert invite(channel=channel_id, users=[BOB, "U0GHOST"], force=True)["errors"][0]["user"] == "U0GHOST"


@pytest.mark.parametrize("method", ["setTopic", "setPurpose"])
def test_topic_and_purpose(slack: SlackStandIn, client: WebClient, method: str):
    key = "topic" if method == "setTopic" else "purpose"
    call = getattr(client, f"conversations_{method}")
    channel_id = new_channel(client)
    assert call(channel=channel_id, **{key: "SEV1 · Investigating"})["ok"]
    assert getattr(slack.channel(channel_id), key) == "SEV1 · Investigating"
    assert call(channel=channel_id, **{key: "x" * 250})["ok"]
    assert error_of(call, channel=channel_id, **{key: "x" * 251}) == "too_long"
    assert error_of(call, channel="C0NOPE", **{key: "t"}) == "channel_not_found"
    assert error_of(call, channel=slack.add_channel("other", members=[ALICE]), **{key: "t"}) == "not_in_channel"
    client.conversations_archive(channel=channel_id)
    assert error_of(call, channel=channel_id, **{key: "t"}) == "is_archived"


def test_info_archive_members(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    client.conversations_invite(channel=channel_id, users=[ALICE, BOB, CAROL])
    info = client.conversations_info(channel=channel_id)["channel"]
    assert info["is_member"] and info["name"] == "inc-1"
    members = [m for page in client.conversations_members(channel=channel_id, limit=2) for m in page["members"]]
    assert sorted(members) == sorted([slack.bot_user_id, ALICE, BOB, CAROL])
    secret = slack.add_channel("secret", is_private=True, members=[ALICE])
    assert error_of(client.conversations_info, channel=secret) == "channel_not_found"
    assert error_of(client.conversations_archive, channel=secret) == "not_in_channel"
    client.conversations_archive(channel=channel_id)
    assert slack.channel(channel_id).archived
    assert error_of(client.conversations_archive, channel=channel_id) == "already_archived"


def test_open_a_dm(slack: SlackStandIn, client: WebClient):
    first = client.conversations_open(users=ALICE)["channel"]["id"]
    again = client.conversations_open(users=[ALICE])
    assert first.startswith("D") and again["channel"]["id"] == first and again["already_open"]
    assert error_of(client.conversations_open, users="U0GHOST") == "user_not_found"
    client.chat_postMessage(channel=first, text="hello")
    assert [m.text for m in slack.dms(ALICE)] == ["hello"]


# --- chat ---------------------------------------------------------------------------------------


def test_post_message(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    blocks = [{"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    answer = client.chat_postMessage(channel=channel_id, text="hi", blocks=blocks)
    assert answer["channel"] == channel_id and re.fullmatch(r"\d+\.\d{6}", answer["ts"])
    assert answer["message"]["blocks"] == blocks and answer["message"]["bot_id"] == slack.bot_id
    reply = client.chat_postMessage(channel=channel_id, text="in thread", thread_ts=answer["ts"])
    stamps = [client.chat_postMessage(channel=channel_id, text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5 and float(stamps[0]) > float(reply["ts"])
    stored = slack.message(channel_id, reply["ts"])
    assert (stored.thread_ts, stored.bot, stored.user) == (answer["ts"], True, slack.bot_user_id)
    assert slack.message(channel_id, answer["ts"]).blocks == blocks


def test_post_message_to_a_user_id_lands_in_the_dm(slack: SlackStandIn, client: WebClient):
    answer = client.chat_postMessage(channel=BOB, text="You are on call")
    assert answer["channel"].startswith("D")
    assert [m.text for m in slack.dms(BOB)] == ["You are on call"] and slack.dms(ALICE) == []


def test_post_message_by_channel_name(slack: SlackStandIn, client: WebClient):
    general = slack.add_channel("general", members=[ALICE])
    assert client.chat_postMessage(channel="#general", text="a")["channel"] == general
    assert client.chat_postMessage(channel="general", text="b")["channel"] == general
    assert [m.text for m in slack.messages(general)] == ["a", "b"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    post_ = client.chat_postMessage
    assert error_of(post_, channel=channel_id) == "no_text"
    assert error_of(post_, channel="C0NOPE", text="x") == "channel_not_found"
    assert error_of(post_, channel="U0GHOST", text="x") == "channel_not_found"
    assert error_of(post_, channel=channel_id, text="x" * 40_001) == "msg_too_long"
    secret = slack.add_channel("secret", is_private=True, members=[ALICE])
    assert error_of(post_, channel=secret, text="x") == "not_in_channel"
    public = slack.add_channel("public", members=[ALICE])
    assert post_(channel=public, text="chat:write.public")["ok"]
    with pytest.raises(SlackApiError) as info:
        post_(channel=channel_id, text="fallback",
              blocks=[{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert info.value.response["error"] == "invalid_blocks"
    assert "must be less than 151 characters" in info.value.response["response_metadata"]["messages"][0]
    client.conversations_archive(channel=channel_id)
    assert error_of(post_, channel=channel_id, text="x") == "is_archived"


def test_update(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    ts = client.chat_postMessage(channel=channel_id, text="v1")["ts"]
    answer = client.chat_update(channel=channel_id, ts=ts, text="v2", blocks=[{"type": "divider"}])
    assert answer["ts"] == ts and answer["message"]["text"] == "v2"
    client.chat_update(channel=channel_id, ts=ts, text="v3")
    message = slack.message(channel_id, ts)
    assert (message.text, message.edits, message.blocks[0]["type"]) == ("v3", 2, "divider")
    update = client.chat_update
    assert error_of(update, channel=channel_id, ts="1.000001", text="x") == "message_not_found"
    assert error_of(update, channel="C0NOPE", ts=ts, text="x") == "channel_not_found"
    assert error_of(update, channel=channel_id, ts=ts, text="x", blocks=[{"type": "nope"}]) == "invalid_blocks"
    assert error_of(update, channel=channel_id, ts=ts, text="x" * 4001) == "msg_too_long"
    public = slack.add_channel("public", members=[ALICE])
    human = slack.post_user_message(public, ALICE, "mine")
    assert error_of(update, channel=public, ts=human, text="x") == "cant_update_message"


def test_post_ephemeral(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    client.conversations_invite(channel=channel_id, users=ALICE)
    assert client.chat_postEphemeral(channel=channel_id, user=ALICE, text="only you")["message_ts"]
    [ephemeral] = slack.ephemerals
    assert (ephemeral.channel, ephemeral.user, ephemeral.text) == (channel_id, ALICE, "only you")
    assert slack.messages(channel_id) == []
    assert error_of(client.chat_postEphemeral, channel=channel_id, user=BOB, text="x") == "user_not_in_channel"
    assert error_of(client.chat_postEphemeral, channel="C0NOPE", user=BOB, text="x") == "channel_not_found"
    dm = client.conversations_open(users=BOB)["channel"]["id"]
    assert client.chat_postEphemeral(channel=dm, user=BOB, text="in the DM")["ok"]


def test_permalink(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    ts = client.chat_postMessage(channel=channel_id, text="x")["ts"]
    link = client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
    assert link == f"https://firebell-test.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
    reply = client.chat_postMessage(channel=channel_id, text="r", thread_ts=ts)["ts"]
    assert f"?thread_ts={ts}&cid={channel_id}" in client.chat_getPermalink(channel=channel_id, message_ts=reply)[
        "permalink"]
    assert error_of(client.chat_getPermalink, channel=channel_id, message_ts="1.000001") == "message_not_found"
    assert error_of(client.chat_getPermalink, channel="C0NOPE", message_ts=ts) == "channel_not_found"


def test_pins_reactions_bookmarks(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    ts = client.chat_postMessage(channel=channel_id, text="card")["ts"]
    assert client.pins_add(channel=channel_id, timestamp=ts)["ok"]
    assert slack.channel(channel_id).pins == [ts]
    assert client.pins_list(channel=channel_id)["items"][0]["message"]["ts"] == ts
    assert error_of(client.pins_add, channel=channel_id, timestamp=ts) == "already_pinned"
    assert error_of(client.pins_add, channel=channel_id, timestamp="1.000001") == "message_not_found"
    assert error_of(client.pins_add, channel="C0NOPE", timestamp=ts) == "channel_not_found"
    public = slack.add_channel("public", members=[ALICE])
    human = slack.post_user_message(public, ALICE, "x")
    assert error_of(client.pins_add, channel=public, timestamp=human) == "not_in_channel"

    assert client.reactions_add(channel=channel_id, timestamp=ts, name="eyes")["ok"]
    assert slack.message(channel_id, ts).reactions == {"eyes": [slack.bot_user_id]}
    assert error_of(client.reactions_add, channel=channel_id, timestamp=ts, name="eyes") == "already_reacted"
    assert error_of(client.reactions_add, channel=channel_id, timestamp=ts, name=":eyes:") == "invalid_name"

    bookmark = client.bookmarks_add(channel_id=channel_id, title="Runbook", type="link", link="https://x.test/rb")
    assert bookmark["bookmark"]["title"] == "Runbook"
    assert [b.link for b in slack.channel(channel_id).bookmarks] == ["https://x.test/rb"]
    assert error_of(client.bookmarks_add, channel_id=channel_id, title="t", type="link", link="ftp://x") == "invalid_link"


def test_users_and_usergroups(slack: SlackStandIn, client: WebClient):
    user = client.users_info(user=ALICE)["user"]
    assert (user["name"], user["real_name"], user["tz"], user["is_bot"]) == ("alice", "Alice A", "Europe/Paris", False)
    assert error_of(client.users_info, user="U0GHOST") == "user_not_found"
    ids = {m["id"] for m in client.users_list()["members"]}
    assert ids == {slack.bot_user_id, ALICE, BOB, CAROL}
    slack.add_usergroup("S0ONCALL", "oncall", [ALICE, BOB])
    assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == [ALICE, BOB]
    assert error_of(client.usergroups_users_list, usergroup="S0NOPE") == "no_such_subteam"


# --- files --------------------------------------------------------------------------------------


def test_files_upload_v2(slack: SlackStandIn, client: WebClient):
    channel_id = new_channel(client)
    answer = client.files_upload_v2(channel=channel_id, content="timeline\n", filename="inc-1.md",
                                    title="INC-1 timeline", initial_comment="Postmortem draft")
    assert answer["file"]["title"] == "INC-1 timeline"
    [file] = slack.files
    assert (file.filename, file.content, file.channels, file.completed) == (
        "inc-1.md", b"timeline\n", [channel_id], True)
    [message] = slack.messages(channel_id)
    assert (message.text, message.files) == ("Postmortem draft", [file.id])
    fake = json.dumps([{"id": "F0NOPE"}])
    assert error_of(client.files_completeUploadExternal, files=json.loads(fake)) == "file_not_found"
    assert error_of(client.files_getUploadURLExternal, filename="a", length=0) == "missing_argument"
