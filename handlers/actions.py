"""Buttons on the incident card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.services import incidents
from bot.slack.ids import Action
from handlers.common import after_ack, reply_in_channel


def register(app: App) -> None:
    app.action(Action.ACKNOWLEDGE.value)(handle_acknowledge_action)


def handle_acknowledge_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    ack()
    user_id, channel_id = body["user"]["id"], body["channel"]["id"]

    def acknowledge() -> None:
        incidents.acknowledge(deps, deps.team_id, user_id, channel_id=channel_id)

    after_ack(deps, acknowledge, reply_in_channel(deps, channel_id, user_id))
