"""Message and global shortcuts: open a form at once (a trigger id lives 3 seconds), or act after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.services import incidents
from bot.services.change import Target
from bot.slack import modals
from bot.slack.ids import DeclareMetadata, MessageMetadata, Shortcut
from handlers.common import add_to_timeline, after_ack, open_form, reply_by_dm, reply_in_channel


def register(app: App) -> None:
    app.shortcut(Shortcut.DECLARE.value)(handle_declare_shortcut)
    app.shortcut(Shortcut.DECLARE_FROM_MESSAGE.value)(handle_declare_from_message_shortcut)
    app.shortcut(Shortcut.ADD_TO_TIMELINE.value)(handle_add_to_timeline_shortcut)


def handle_declare_shortcut(ack: Ack, shortcut: dict[str, Any], deps: Deps) -> None:
    ack()
    open_form(deps, shortcut["trigger_id"], modals.declare_modal(DeclareMetadata(origin="shortcut")),
              reply_by_dm(deps, shortcut["user"]["id"]))


def handle_declare_from_message_shortcut(ack: Ack, shortcut: dict[str, Any], deps: Deps) -> None:
    ack()
    message_text = (shortcut.get("message") or {}).get("text") or ""
    first_line = next((line.strip() for line in message_text.splitlines() if line.strip()), "")
    metadata = DeclareMetadata(
        origin="message", channel_id=shortcut["channel"]["id"], message_ts=shortcut["message"]["ts"]
    )
    open_form(deps, shortcut["trigger_id"],
              modals.declare_modal(metadata, title=first_line, description=message_text),
              reply_by_dm(deps, shortcut["user"]["id"]))


def handle_add_to_timeline_shortcut(ack: Ack, shortcut: dict[str, Any], deps: Deps) -> None:
    ack()
    user_id, channel_id = shortcut["user"]["id"], shortcut["channel"]["id"]
    posted = shortcut.get("message") or {}
    message = MessageMetadata(channel_id=channel_id, message_ts=posted["ts"],
                              author=posted.get("user") or posted.get("bot_id"), text=posted.get("text") or "")
    try:  # used in an incident's channel: that is the incident
        incident = incidents.get(deps, Target(deps.team_id, channel_id=channel_id))
    except NotFound:
        open_form(deps, shortcut["trigger_id"],
                  modals.add_to_timeline_modal(message, incidents.open_for(deps, deps.team_id, user_id)),
                  reply_by_dm(deps, user_id))
        return
    target = Target(deps.team_id, incident_id=incident.id)
    after_ack(deps, lambda: add_to_timeline(deps, target, user_id, message),
              reply_in_channel(deps, channel_id, user_id))
