"""The "Declare incident" shortcuts: open the declare form at once (a trigger id lives 3 seconds)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.slack import render
from bot.slack.ids import DeclareMetadata, Shortcut


def register(app: App) -> None:
    app.shortcut(Shortcut.DECLARE.value)(handle_declare_shortcut)
    app.shortcut(Shortcut.DECLARE_FROM_MESSAGE.value)(handle_declare_from_message_shortcut)


def handle_declare_shortcut(ack: Ack, shortcut: dict[str, Any], deps: Deps) -> None:
    ack()
    deps.slack.open_view(shortcut["trigger_id"], render.declare_modal(DeclareMetadata(origin="shortcut")))


def handle_declare_from_message_shortcut(ack: Ack, shortcut: dict[str, Any], deps: Deps) -> None:
    ack()
    message_text = (shortcut.get("message") or {}).get("text") or ""
    first_line = next((line.strip() for line in message_text.splitlines() if line.strip()), "")
    metadata = DeclareMetadata(
        origin="message", channel_id=shortcut["channel"]["id"], message_ts=shortcut["message"]["ts"]
    )
    deps.slack.open_view(
        shortcut["trigger_id"], render.declare_modal(metadata, title=first_line, description=message_text)
    )
