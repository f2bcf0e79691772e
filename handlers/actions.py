"""Buttons on the incident card. A button only opens a form or asks a use case; the use case checks rights."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.domain.errors import FirebellError
from bot.services import change_events, feedback, incidents, lifecycle, paging
from bot.services.change import Target
from bot.slack import modals
from bot.slack.ids import Action, DeclareMetadata
from handlers.common import before_ack, open_form, reply_after_ack, reply_by_dm, reply_in_channel


def register(app: App) -> None:
    app.action(Action.ACKNOWLEDGE.value)(handle_acknowledge_action)
    app.action(Action.POST_UPDATE.value)(handle_post_update_action)
    app.action(Action.RESOLVE.value)(handle_resolve_action)
    app.action(Action.PAGE.value)(handle_page_action)
    app.action(Action.PAGE_ACKNOWLEDGE.value)(handle_page_acknowledge_action)
    app.action(Action.DECLARE.value)(handle_declare_action)
    app.action(re.compile(rf"^{Action.FEEDBACK.value}_[1-5]$"))(handle_feedback_action)


def _where(body: dict[str, Any], deps: Deps) -> tuple[str, str, Target]:
    user_id, channel_id = body["user"]["id"], body["channel"]["id"]
    return user_id, channel_id, Target(deps.team_id, channel_id=channel_id)


def handle_acknowledge_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    user_id, channel_id, target = _where(body, deps)

    def acknowledge() -> None:
        lifecycle.acknowledge(deps, target, user_id)

    before_ack(ack, deps, acknowledge, reply_in_channel(deps, channel_id, user_id))


def _open_incident_form(ack: Ack, body: dict[str, Any], deps: Deps,
                        form: Callable[[Target, str], View]) -> None:
    """Ack, then open the form ``form`` builds for this card's incident (it raises to refuse, e.g. no right)."""
    ack()
    user_id, channel_id, target = _where(body, deps)
    reply = reply_in_channel(deps, channel_id, user_id)
    try:
        view = form(target, user_id)
    except FirebellError as exc:
        reply_after_ack(deps, reply, exc.message)
        return
    open_form(deps, body["trigger_id"], view, reply)


def handle_post_update_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    _open_incident_form(ack, body, deps, lambda target, _user: modals.update_modal(incidents.get(deps, target)))


def handle_resolve_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    def form(target: Target, user: str) -> View:
        incident = lifecycle.check_can_resolve(deps, target, user)
        return modals.resolve_modal(incident, deps.config.root_cause_categories,
                                    change_events.candidates(deps, incident))

    _open_incident_form(ack, body, deps, form)


def handle_page_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    def form(target: Target, _user: str) -> View:
        incident = incidents.get(deps, target)
        if not deps.config.tiers:
            raise FirebellError("No on-call tiers are configured (`tiers` in firebell.yml).")
        return modals.page_modal(incident, [t.name for t in deps.config.tiers])

    _open_incident_form(ack, body, deps, form)


def handle_page_acknowledge_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """The Acknowledge button in a page's DM, or on App Home (no channel: answered by DM); its value is the page id."""
    user_id, channel_id = body["user"]["id"], (body.get("channel") or {}).get("id")
    page_id = int(body["actions"][0]["value"])

    def acknowledge() -> None:
        paging.acknowledge_page(deps, page_id, user_id)

    reply = reply_in_channel(deps, channel_id, user_id) if channel_id else reply_by_dm(deps, user_id)
    before_ack(ack, deps, acknowledge, reply)


def handle_feedback_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """A score button in the feedback DM: recorded at once, then a form for an optional comment."""
    user_id = body["user"]["id"]
    incident_id, score = (int(part) for part in body["actions"][0]["value"].split(":", 1))
    reply = reply_by_dm(deps, user_id)
    try:
        incident = feedback.score(deps, user_id, incident_id, score)
    except FirebellError as exc:
        ack()
        reply_after_ack(deps, reply, exc.message)
        return
    ack()
    open_form(deps, body["trigger_id"], modals.comment_modal(incident, score), reply)


def handle_declare_action(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """App Home's Declare incident button: the declare form, as from the shortcut."""
    ack()
    open_form(deps, body["trigger_id"], modals.declare_modal(DeclareMetadata(origin="shortcut")),
              reply_by_dm(deps, body["user"]["id"]))
