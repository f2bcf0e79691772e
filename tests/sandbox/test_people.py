"""users.info as Slack shapes a person (time zone and its offset now, names), and user groups kept by
usergroups.users.update, through slack_sdk's WebClient."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.sandbox import SlackStandIn
from tests.sandbox.conftest import ALICE, BOB, CAROL
from tests.sandbox.test_standin import error_of


def offset_now(zone: str) -> int:
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def test_users_info_gives_the_time_zone_its_offset_now_and_both_names(slack: SlackStandIn, client: WebClient):
    slack.add_user("U0DANA", "dana", real_name="Dana Díaz", tz="America/New_York", display_name="")
    alice = client.users_info(user=ALICE)["user"]
    assert (alice["tz"], alice["tz_offset"]) == ("Europe/Paris", offset_now("Europe/Paris"))
    assert alice["tz_offset"] in (3600, 7200) and alice["tz_label"]
    assert (alice["profile"]["real_name"], alice["profile"]["display_name"]) == ("Alice A", "alice")
    dana = client.users_info(user="U0DANA")["user"]
    assert dana["tz_offset"] == offset_now("America/New_York") and dana["tz_offset"] in (-18000, -14400)
    assert (dana["real_name"], dana["profile"]["real_name"], dana["profile"]["display_name"]) == (
        "Dana Díaz", "Dana Díaz", "")  # no display name set: a client shows the real name
    utc = client.users_info(user=BOB)["user"]
    assert (utc["tz"], utc["tz_offset"]) == ("UTC", 0)
    assert error_of(client.users_info, user="U0GHOST") == "user_not_found"


def test_a_user_with_an_unknown_time_zone_cannot_be_added(slack: SlackStandIn):
    with pytest.raises(ValueError, match="unknown time zone"):
        slack.add_user("U0ODD", "odd", tz="Mars/Olympus")


def test_usergroups_users_update_replaces_the_members_and_list_agrees(slack: SlackStandIn, client: WebClient):
    slack.add_usergroup("S0L1", "l1-oncall", [ALICE, BOB], name="L1 on call")
    answer = client.usergroups_users_update(usergroup="S0L1", users=[CAROL, ALICE, CAROL], include_count=True)
    group = answer["usergroup"]
    assert (group["id"], group["handle"], group["name"], group["is_usergroup"]) == ("S0L1", "l1-oncall", "L1 on call",
                                                                                     True)
    assert (group["users"], group["user_count"], group["updated_by"]) == ([CAROL, ALICE], 2, slack.bot_user_id)
    assert client.usergroups_users_list(usergroup="S0L1")["users"] == [CAROL, ALICE]
    assert slack.usergroup_members("S0L1") == [CAROL, ALICE]
    [listed] = client.usergroups_list(include_users=True, include_count=True)["usergroups"]
    assert (listed["id"], listed["users"], listed["user_count"]) == ("S0L1", [CAROL, ALICE], 2)
    assert "users" not in client.usergroups_list()["usergroups"][0]  # only with include_users


def test_usergroups_users_update_refuses_what_slack_refuses(slack: SlackStandIn, client: WebClient):
    slack.add_usergroup("S0L1", "l1-oncall", [ALICE])
    slack.add_user("U0GUEST", "guest", guest=True)
    assert error_of(client.usergroups_users_update, usergroup="S0L1", users="") == "no_users_provided"  # disable it
    assert error_of(client.usergroups_users_update, usergroup="S0L1", users=[ALICE, "U0GHOST"]) == "invalid_users"
    assert error_of(client.usergroups_users_update, usergroup="S0L1", users=[slack.bot_user_id]) == "invalid_users"
    assert error_of(client.usergroups_users_update, usergroup="S0L1", users=["U0GUEST"]) == "invalid_users"
    assert error_of(client.usergroups_users_update, usergroup="S0NOPE", users=[ALICE]) == "no_such_subteam"
    assert slack.usergroup_members("S0L1") == [ALICE]  # nothing changed


def test_a_disabled_group_is_listed_only_when_asked_for(slack: SlackStandIn, client: WebClient):
    slack.add_usergroup("S0OLD", "old-oncall", [ALICE], disabled=True)
    assert client.usergroups_list()["usergroups"] == []
    [old] = client.usergroups_list(include_disabled=True)["usergroups"]
    assert old["date_delete"] > 0
    assert error_of(client.usergroups_users_list, usergroup="S0OLD") == "no_such_subteam"
    assert client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)["users"] == [ALICE]


def test_usergroup_members_must_be_users(slack: SlackStandIn):
    with pytest.raises(ValueError, match="add_user them first"):
        slack.add_usergroup("S0X", "x", ["U0GHOST"])
