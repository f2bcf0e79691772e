"""Modal submissions: validate inline (response_action=errors), decide, then do the Slack work after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.domain.errors import FirebellError, InvalidInput
from bot.domain.incident import Status
from bot.domain.rules import parse_severity
from bot.services import declare as declaring
from bot.services import feedback, incidents, lifecycle, paging
from bot.services.change import Target
from bot.slack import modals
from bot.slack.ids import (
    PRIVATE_OPTION,
    DeclareBlock,
    DeclareMetadata,
    FeedbackMetadata,
    IncidentMetadata,
    MessageMetadata,
    PageBlock,
    ResolveBlock,
    TimelineBlock,
    UpdateBlock,
    ViewId,
)
from bot.slack.state import flatten_state
from handlers.common import add_to_timeline, after_ack, reply_by_dm


def register(app: App) -> None:
    app.view(ViewId.DECLARE.value)(handle_declare_submission)
    app.view(ViewId.UPDATE.value)(handle_update_submission)
    app.view(ViewId.RESOLVE.value)(handle_resolve_submission)
    app.view(ViewId.ADD_TO_TIMELINE.value)(handle_add_to_timeline_submission)
    app.view(ViewId.PAGE.value)(handle_page_submission)
    app.view(ViewId.FEEDBACK.value)(handle_feedback_submission)


def _refuse(ack: Ack, exc: FirebellError, default_block: str) -> None:
    """Show the problem inline, on the field it is about."""
    ack(response_action="errors", errors={getattr(exc, "field", None) or default_block: exc.message[:300]})


def handle_declare_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    values = flatten_state(view)
    metadata = DeclareMetadata.model_validate_json(view.get("private_metadata") or '{"origin": "shortcut"}')
    try:
        request = declaring.validate(declaring.DeclareRequest(
            team_id=deps.team_id, user_id=user_id, title=values.get(DeclareBlock.TITLE) or "",
            severity=parse_severity(values.get(DeclareBlock.SEVERITY) or "sev3"),
            description=values.get(DeclareBlock.DESCRIPTION) or "",
            origin_channel=metadata.channel_id if metadata.origin == "message" else None,
            origin_ts=metadata.message_ts,
            private=PRIVATE_OPTION in (values.get(DeclareBlock.PRIVATE) or []),
        ))
    except InvalidInput as exc:
        _refuse(ack, exc, DeclareBlock.TITLE)
        return
    # The reporter is invited to the new channel and sees it there; a DM only when something went wrong.
    if not declaring.accept(deps, request, once=f"view:{view['id']}"):
        ack(response_action="errors", errors={DeclareBlock.TITLE.value: "This form was already submitted."})
        return
    ack()


def _target(deps: Deps, view: dict[str, Any]) -> Target:
    return Target(deps.team_id, incident_id=IncidentMetadata.model_validate_json(view["private_metadata"]).incident_id)


def handle_update_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    values = flatten_state(view)
    status = values.get(UpdateBlock.STATUS)
    try:
        lifecycle.post_update(deps, _target(deps, view), body["user"]["id"], values.get(UpdateBlock.TEXT) or "",
                              Status(status) if status else None)
    except FirebellError as exc:
        _refuse(ack, exc, UpdateBlock.TEXT)
        return
    ack()


def handle_resolve_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    values = flatten_state(view)
    try:
        lifecycle.resolve(
            deps, _target(deps, view), body["user"]["id"],
            category=values.get(ResolveBlock.CATEGORY) or "",
            root_cause=values.get(ResolveBlock.ROOT_CAUSE) or "",
            resolution=values.get(ResolveBlock.RESOLUTION) or "",
            follow_ups=(values.get(ResolveBlock.FOLLOW_UPS) or "").splitlines(),
            lessons=values.get(ResolveBlock.LESSONS) or "",
            caused_by_change=int(caused) if (caused := values.get(ResolveBlock.CAUSED_BY)) else None,
        )
    except FirebellError as exc:
        _refuse(ack, exc, ResolveBlock.CATEGORY)
        return
    ack()


def handle_add_to_timeline_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    message = MessageMetadata.model_validate_json(view["private_metadata"])
    number = flatten_state(view).get(TimelineBlock.INCIDENT)
    if not number:
        ack(response_action="errors", errors={TimelineBlock.INCIDENT.value: "Pick an incident."})
        return
    ack()
    target = Target(deps.team_id, number=int(number))

    def add() -> str:
        incidents.get(deps, target, viewer=user_id)  # the form lists only what they may see; a private one is checked
        return add_to_timeline(deps, target, user_id, message)
    after_ack(deps, add, reply_by_dm(deps, user_id))



def handle_page_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    values = flatten_state(view)
    try:
        paging.page(deps, _target(deps, view), body["user"]["id"], values.get(PageBlock.TIER) or "",
                    values.get(PageBlock.MESSAGE) or "")
    except FirebellError as exc:
        _refuse(ack, exc, PageBlock.TIER)
        return
    ack()


def handle_feedback_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    metadata = FeedbackMetadata.model_validate_json(view["private_metadata"])
    try:
        feedback.comment(deps, body["user"]["id"], metadata.incident_id,
                         flatten_state(view).get(modals.FEEDBACK_COMMENT) or "")
    except FirebellError as exc:
        _refuse(ack, exc, modals.FEEDBACK_COMMENT)
        return
    ack()
