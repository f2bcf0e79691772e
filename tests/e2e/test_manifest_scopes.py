"""manifest.yml asks for exactly the bot scopes Firebell's code uses: a served Firebell whose token holds only the
manifest's scopes goes through every feature that calls Slack without one missing_scope, and every scope the manifest
asks for was needed by one of those calls. README's scope table and `firebell check` name the same scopes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bot.config import FirebellConfig
from bot.observability import check
from bot.observability.probes import LiveProbes
from bot.sandbox import SlackStandIn
from bot.sandbox.records import Call
from bot.sandbox.scopes import BOT_METHOD_SCOPES
from bot.slack.scopes import BOT_SCOPES
from tests.e2e.conftest import ALICE, BOB, BROADCAST, CAROL, Running, settings_for, start, stop
from tests.e2e.test_knowledge import resolve

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_SCOPES = yaml.safe_load((ROOT / "manifest.yml").read_text())["oauth_config"]["scopes"]["bot"]
ONCALL = "S0ONCALL"
L2_ONCALL = "S0L2ONCALL"
KINDS = {"channel": "channels:", "private": "groups:", "im": "im:", "mpim": "mpim:"}


def test_the_manifest_check_and_readme_name_the_same_scopes():
    assert sorted(MANIFEST_SCOPES) == sorted(BOT_SCOPES) and len(set(MANIFEST_SCOPES)) == len(MANIFEST_SCOPES)
    readme = (ROOT / "README.md").read_text()
    table = re.findall(r"^\| `([a-z.:]+)` \|", readme, re.MULTILINE)
    assert sorted(table) == sorted(MANIFEST_SCOPES)  # README says which feature needs which scope


def scope_used(slack: SlackStandIn, call: Call, joined_at: dict[str, int], index: int) -> str | None:
    """The one scope this call needed (Slack accepts one per conversation type); None when it needs none."""
    accepted = BOT_METHOD_SCOPES.get(call.method, ())
    if call.method == "chat.postMessage":
        channel = call.args.get("channel", "")
        if channel.startswith("C") and not slack.channel(channel).is_private \
                and slack.bot_user_id not in _members_then(slack, channel, joined_at, index):
            return "chat:write.public"  # a public channel the bot was not in (yet)
    if len(accepted) <= 1:
        return accepted[0] if accepted else None
    if call.method == "conversations.create":
        return "groups:write" if call.args.get("is_private") == "true" else "channels:manage"
    if call.method == "conversations.open":
        return "im:write"
    channel = slack.channel(call.args["channel"])
    kind = "private" if channel.kind == "channel" and channel.is_private else channel.kind
    return next(scope for scope in accepted if scope.startswith(KINDS[kind]))


def _members_then(slack: SlackStandIn, channel: str, joined_at: dict[str, int], index: int) -> set[str]:
    members = set(slack.channel(channel).members)
    if channel in joined_at and index < joined_at[channel]:
        members.discard(slack.bot_user_id)  # it joined later
    return members


def test_a_token_with_the_manifests_scopes_does_everything_and_needs_each_of_them(slack: SlackStandIn,
                                                                                 database_url: str):
    slack.grant_scopes(MANIFEST_SCOPES)
    slack.add_usergroup(ONCALL, "oncall", [CAROL])
    slack.add_usergroup(L2_ONCALL, "l2-oncall", [])
    config = FirebellConfig.model_validate({"broadcast_channel": BROADCAST, "admins": [BOB], "tiers": [
        {"name": "L1", "members": [ONCALL]},
        # a rotation whose user group Firebell keeps equal to who is on call (set at start: usergroups:write)
        {"name": "L2", "usergroup": L2_ONCALL,
         "schedule": [{"users": [BOB], "every": "1w", "handoff": "2026-11-30T09:00", "timezone": "UTC"}]}]})
    running: Running = start(slack, database_url, config, slack_timeout=1)
    driver, settle = running.driver, running.firebell.settle
    try:
        # a public incident: its channel, card, topic, invite, announcement (chat:write.public), a resolve's file
        driver.slash_command(ALICE, "declare sev3 Checkout is slow", channel_id="C0GENERAL")
        public = running.incident_channel(1).id
        running.card(public)
        assert settle(30)
        # answers lost to a timeout: before posting again, Firebell looks in the incident channel and the broadcast
        # channel (which it joins to read)
        slack.fail("chat.postMessage", late_by=1.5, times=2)
        driver.slash_command(ALICE, "update Rolling back", channel_id=public)
        assert settle(60)

        # a private incident: its channel, who may see it, a page to a user group, a DM whose answer was lost
        driver.slash_command(ALICE, "declare --private sev3 Leaked keys", channel_id="C0GENERAL")
        private = running.incident_channel(2).id
        running.card(private)
        assert settle(30)
        assert "INC-2" not in json.dumps(driver.slash_command(BOB, "list", channel_id="C0GENERAL").json())
        slack.fail("chat.postMessage", late_by=1.5, times=2)
        driver.slash_command(ALICE, "page L1 Need eyes", channel_id=private)
        assert settle(60)
        assert slack.wait_for(lambda: slack.dms(CAROL))

        resolve(running, public, "capacity", "A full disk", "Grew it")
        slack.wait_for(lambda: [f for f in slack.files if f.completed])
        assert settle(30)

        # `firebell check` (which `serve` runs at start): the broadcast channel, the admin, the user group
        probes = LiveProbes(settings_for(slack, database_url), {}, config=config, db=running.db,
                            slack=running.firebell.deps.slack)
        findings = check.run(probes, BOT_SCOPES)
        assert not check.failed(findings), check.checklist(findings)
    finally:
        stop(running)

    calls = slack.calls
    refused = [(c.method, c.error) for c in calls if c.error == "missing_scope"]
    assert refused == []
    joined_at = {c.args["channel"]: i for i, c in enumerate(calls) if c.method == "conversations.join" and c.ok}
    used = {scope for i, c in enumerate(calls) if c.ok and (scope := scope_used(slack, c, joined_at, i))}
    used.add("commands")  # Slack delivers /incident and the shortcuts only to an app with it
    assert sorted(used) == sorted(MANIFEST_SCOPES)
