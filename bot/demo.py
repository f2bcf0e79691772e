"""`firebell demo`: a scripted incident against the local Slack stand-in, printed as a transcript."""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import FirebellConfig, Settings
from bot.runtime import build
from bot.sandbox import SlackDriver, SlackStandIn

PEOPLE = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"}
BROADCAST = "C0INCIDENTS"


class Transcript:
    """Slack's markup made readable in a terminal: names for ids, fallbacks for date tokens."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self._seen: set[tuple[str, str]] = set()

    def plain(self, text: str) -> str:
        text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
        text = re.sub(r"<@(\w+)>", lambda m: "@" + PEOPLE.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<#(\w+)>", lambda m: "#" + self._channel_name(m.group(1)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _channel_name(self, channel_id: str) -> str:
        try:
            return self.slack.channel(channel_id).name
        except KeyError:
            return channel_id

    def blocks(self, blocks: list[dict[str, Any]] | None, indent: str = "    │ ") -> list[str]:
        lines: list[str] = []
        for block in blocks or []:
            kind = block["type"]
            if kind == "header":
                lines.append(block["text"]["text"].upper())
            elif kind == "section":
                if block.get("text"):
                    lines.extend(self.plain(block["text"]["text"]).splitlines())
                fields = [self.plain(f["text"]).replace("\n", ": ", 1) for f in block.get("fields", [])]
                lines.extend(" · ".join(fields[i:i + 2]) for i in range(0, len(fields), 2))
            elif kind == "context":
                lines.append(" ".join(self.plain(e.get("text", "")) for e in block["elements"]))
            elif kind == "actions":
                lines.append("  ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
        return [indent + line for line in lines]

    def new_messages(self) -> None:
        """Print each channel message not printed yet (and edits to the pinned card)."""
        for channel in self.slack.channels:
            for message in self.slack.messages(channel.id):
                key = (message.ts, str(message.edits))
                if (channel.id, message.ts + "/" + key[1]) in self._seen:
                    continue
                self._seen.add((channel.id, message.ts + "/" + key[1]))
                who = "Firebell" if message.bot else PEOPLE.get(message.user or "", message.user)
                pinned = " (pinned)" if message.ts in channel.pins else ""
                edited = " (card updated)" if message.edits else ""
                print(f"  #{channel.name} · {who}{pinned}{edited}:")
                if message.blocks:
                    print("\n".join(self.blocks(message.blocks)))
                else:
                    print(f"    │ {self.plain(message.text)}")


def is_json(headers: dict[str, str]) -> bool:
    return any(k.lower() == "content-type" and v.startswith("application/json") for k, v in headers.items())


def say(text: str) -> None:
    print(f"\n▶ {text}")


def run_demo() -> int:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        for user_id, name in PEOPLE.items():
            slack.add_user(user_id, name)
        slack.add_channel("incidents", channel_id=BROADCAST, members=list(PEOPLE))
        slack.add_channel("general", channel_id="C0GENERAL", members=list(PEOPLE))
        secret = secrets.token_hex(16)
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret=secret, slack_api_url=slack.api_url,
                            database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", _env_file=None)
        firebell = build(settings, FirebellConfig.model_validate({
            "broadcast_channel": BROADCAST,
            "tiers": [{"name": "L1", "members": ["U0CAROL"], "ack_timeout": "10m"}],
            "severities": {"sev2": {"ack": "15m", "update_every": "1h", "resolve": "8h", "page": "L1"}}}))
        server = firebell.server("127.0.0.1", 0).start()
        driver = SlackDriver(f"{server.url}/slack/events", secret, slack)
        transcript = Transcript(slack)
        print(f"Firebell demo: a Slack stand-in at {slack.base_url}, Firebell at {server.url}, SQLite in {tmp}")
        try:
            play(driver, slack, transcript, firebell.settle)
        finally:
            server.stop()
            firebell.close()
    return 0


def play(driver: SlackDriver, slack: SlackStandIn, transcript: Transcript, quiet: Callable[[], object]) -> None:
    def command(user: str, text: str, channel: str) -> None:
        say(f"{PEOPLE[user]} types in #{transcript._channel_name(channel)}: /incident {text}")
        answer = driver.slash_command(user, text, channel_id=channel)
        shown = transcript.plain(answer.text)
        if is_json(answer.headers):
            body = answer.json()
            shown = "\n" + "\n".join(transcript.blocks(body["blocks"])) if body.get("blocks") else body.get("text", "")
        if shown.strip():
            print(f"  (only {PEOPLE[user]} sees) Firebell: {shown}")

    def settle(predicate) -> None:  # noqa: ANN001 - waits for Firebell's work after its answer
        slack.wait_for(predicate)
        quiet()  # and for everything it queued, so the transcript reads in a stable order
        transcript.new_messages()

    command("U0ALICE", "declare sev2 Checkout returns 500s for EU customers", "C0GENERAL")
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-1-")), None))
    slack.wait_for(lambda: slack.channel(channel.id).pins and slack.messages(BROADCAST))
    reply = slack.wait_for(lambda: slack.response_posts())[0]
    print(f"  (only alice sees) Firebell: {transcript.plain(reply['text'])}")
    print(f"  Slack: #{channel.name} created, alice invited; topic: {slack.channel(channel.id).topic}")
    transcript.new_messages()
    card_ts = slack.channel(channel.id).pins[0]

    page = slack.wait_for(lambda: [m for m in slack.dms("U0CAROL") if "You are paged" in m.text])[0]
    print("  Slack: SEV2 pages tier L1 (firebell.yml), so carol gets a DM:")
    print("\n".join(transcript.blocks(page.blocks)))
    transcript.new_messages()
    say("carol clicks [ Acknowledge ] in her DM")
    driver.click("U0CAROL", channel_id=page.channel, message_ts=page.ts, action_id="page_acknowledge")
    settle(lambda: any("acknowledged the page" in m.text for m in slack.messages(channel.id)))
    print("  Slack: carol's DM now reads: " + transcript.plain(slack.message(page.channel, page.ts).text))

    command("U0ALICE", "sla", channel.id)

    command("U0ALICE", "role comms <@U0BOB|bob>", channel.id)
    settle(lambda: any("*comms*" in m.text for m in slack.messages(channel.id)))

    command("U0BOB", "status identified A config push sent EU traffic to a drained pool", channel.id)
    settle(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Identified"))

    command("U0ALICE", "note Rolling back the config push", channel.id)

    say("bob clicks [ Post update ] on the card and fills in the form")
    driver.click("U0BOB", channel_id=channel.id, message_ts=card_ts, action_id="incident_post_update")
    form = slack.wait_for(lambda: slack.open_views("U0BOB"))[-1]
    driver.submit_view("U0BOB", form.id, {"text": {"value": "Rollback done; error rate back to normal. Watching."},
                                          "status": {"value": "monitoring"}})
    settle(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Monitoring"))

    say(f"alice types in #{channel.name}: /incident resolve, and fills in the resolve form")
    driver.slash_command("U0ALICE", "resolve", channel_id=channel.id)
    form = slack.wait_for(lambda: [v for v in slack.open_views("U0ALICE") if "resolve" in v.callback_id])[-1]
    driver.submit_view("U0ALICE", form.id, {
        "root_cause_category": {"value": "configuration"},
        "root_cause": {"value": "A config push pointed EU checkout at a pool that had been drained."},
        "resolution": {"value": "Rolled the config back."},
        "follow_ups": {"value": "Validate pool targets before a push\nAlert when a pool has no healthy hosts"},
    })
    files = slack.wait_for(lambda: [f for f in slack.files if f.completed])
    settle(lambda: any("is resolved" in str(m.blocks) for m in slack.messages(channel.id)))
    print(f"  Slack: file {files[0].filename} shared in #{channel.name}:")
    for line in (files[0].content or b"").decode().splitlines()[:14]:
        print(f"    ┆ {line}")
    print("    ┆ …")

    command("U0ALICE", "timeline", channel.id)
    command("U0BOB", "list", "C0GENERAL")
    command("U0BOB", "declare sev9 Oops", "C0GENERAL")

    print("\nEverything above is stored: `firebell export --json` and `firebell postmortem INC-1` print it. "
          "SLA reminders and escalations run on Firebell's scheduler while `firebell serve` runs.")
