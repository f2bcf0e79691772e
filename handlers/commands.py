"""`/incident …`: parse, call one use case, answer (ephemerally)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.domain.errors import FirebellError
from bot.services import declare as declaring
from bot.services import incidents
from bot.slack import render
from bot.slack.commands import Acknowledge, Declare, Help, ListOpen, parse_command
from bot.slack.ids import COMMAND, DeclareMetadata
from handlers.common import after_ack, reply_to_command


def register(app: App) -> None:
    app.command(COMMAND)(handle_incident_command)


def handle_incident_command(ack: Ack, command: dict[str, Any], deps: Deps) -> None:
    try:
        parsed = parse_command(command.get("text", ""))
        if isinstance(parsed, Declare) and parsed.title:
            request = declaring.validate(declaring.DeclareRequest(
                team_id=deps.team_id, user_id=command["user_id"], title=parsed.title, severity=parsed.severity))
    except FirebellError as exc:
        ack(text=exc.message)
        return
    match parsed:
        case Help():
            ack(text=render.HELP)
        case ListOpen():
            ack(text="Open incidents", blocks=render.incident_list(incidents.open_incidents(deps, deps.team_id)))
        case Declare(title=""):
            ack()
            deps.slack.open_view(command["trigger_id"], render.declare_modal(
                DeclareMetadata(origin="command", channel_id=command.get("channel_id")), severity=parsed.severity))
        case Declare():
            ack(text=f"Declaring a {parsed.severity.label} incident…")
            after_ack(deps, lambda: _declare(deps, request), reply_to_command(deps, command))
        case Acknowledge(number=number):
            ack()
            after_ack(deps, lambda: _acknowledge(deps, command, number), reply_to_command(deps, command))


def _declare(deps: Deps, request: declaring.DeclareRequest) -> str:
    result = declaring.declare(deps, request)
    return render.declared_message(result.incident, result.problems)


def _acknowledge(deps: Deps, command: dict[str, Any], number: int | None) -> None:
    incidents.acknowledge(deps, deps.team_id, command["user_id"], channel_id=command.get("channel_id"), number=number)
