"""Modal submissions: validate inline (response_action=errors), claim once, then work after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.domain.errors import InvalidInput
from bot.domain.rules import parse_severity
from bot.services import declare as declaring
from bot.services import incidents
from bot.slack import render
from bot.slack.ids import DeclareBlock, DeclareMetadata, ViewId
from bot.slack.state import flatten_state
from handlers.common import after_ack, reply_by_dm


def register(app: App) -> None:
    app.view(ViewId.DECLARE.value)(handle_declare_submission)


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
        ))
    except InvalidInput as exc:
        ack(response_action="errors", errors={exc.field: exc.message})
        return
    if not incidents.claim_once(deps, f"view:{view['id']}"):
        ack(response_action="errors", errors={DeclareBlock.TITLE.value: "This form was already submitted."})
        return
    ack()
    after_ack(deps, lambda: _declare(deps, request), reply_by_dm(deps, user_id))


def _declare(deps: Deps, request: declaring.DeclareRequest) -> str | None:
    result = declaring.declare(deps, request)
    # The reporter is invited to the new channel and sees it; a DM only when something went wrong.
    return render.declared_message(result.incident, result.problems) if result.problems else None
