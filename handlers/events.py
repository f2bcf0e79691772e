"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.deps import Deps
from bot.services import incidents
from bot.slack import render


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened_event)


def handle_app_home_opened_event(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    # Slack redelivers an event it thinks was lost (X-Slack-Retry-Num); act on each event id once.
    if event.get("tab", "home") != "home":
        return
    if body.get("event_id") and not incidents.claim_once(deps, f"event:{body['event_id']}"):
        return
    viewer = event["user"]  # a private incident only for its channel's members
    deps.slack.publish_home(viewer, render.home_view(incidents.open_for(deps, deps.team_id, viewer)))
