"""The buttons of a triage message and of a storm digest's lines: Declare incident, Dismiss. Each value is the
alert episode's id; the use case decides once, however often it is clicked."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.services import alert_intake
from bot.slack.ids import Action
from handlers.common import before_ack, reply_in_channel


def register(app: App) -> None:
    app.action(Action.ALERT_DECLARE.value)(handle_alert_declare_action)
    app.action(Action.ALERT_DISMISS.value)(handle_alert_dismiss_action)


def _clicked(body: dict[str, Any]) -> tuple[str, str, int]:
    return body["user"]["id"], body["channel"]["id"], int(body["actions"][0]["value"])


def handle_alert_declare_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    user_id, channel_id, episode_id = _clicked(body)
    before_ack(ack, deps, lambda: alert_intake.declare_from_triage(deps, episode_id, user_id),
               reply_in_channel(deps, channel_id, user_id))


def handle_alert_dismiss_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    user_id, channel_id, episode_id = _clicked(body)
    before_ack(ack, deps, lambda: alert_intake.dismiss(deps, episode_id, user_id),
               reply_in_channel(deps, channel_id, user_id))
