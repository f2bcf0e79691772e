"""Slack's markup made readable in a terminal, for `firebell demo`'s transcript."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.sandbox import SlackStandIn

PEOPLE = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol", "U0DAN": "dan"}


class Transcript:
    """Slack's markup made readable in a terminal: names for ids, fallbacks for date tokens."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self._shown: dict[tuple[str, str], str] = {}  # (channel, ts) -> what was printed of that message

    def plain(self, text: str) -> str:
        names = {**PEOPLE, self.slack.bot_user_id: "Firebell"}  # Firebell itself declares an alert's incident
        text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
        text = re.sub(r"<@(\w+)(?:\|[^>]*)?>", lambda m: "@" + names.get(m.group(1), m.group(1)), text)
        text = re.sub(r"\b(U0[A-Z0-9]+)\b", lambda m: "@" + names[m.group(1)] if m.group(1) in names
                      else m.group(1), text)  # an id written out (a timeline's role line, the report file)
        text = re.sub(r"<#(\w+)>", lambda m: "#" + self.channel_name(m.group(1)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def channel_name(self, channel_id: str) -> str:
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
        """Print each channel message not printed yet, and the card again only where what it shows changed (an edit
        that changes nothing on it is not printed twice)."""
        for channel in self.slack.channels:
            for message in self.slack.messages(channel.id):
                shown = json.dumps([message.text, message.blocks], sort_keys=True)
                if self._shown.get((channel.id, message.ts)) == shown:
                    continue
                self._shown[(channel.id, message.ts)] = shown
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


