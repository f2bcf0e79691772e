"""What every listener shares: running work after the ack, and answering its outcome to the person."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.messages import explain
from bot.services import lifecycle
from bot.services.change import Target
from bot.slack.gateway import SlackCallFailed
from bot.slack.ids import MessageMetadata

log = logging.getLogger(__name__)

Reply = Callable[[str], None]


def after_ack(deps: Deps, work: Callable[[], str | None], reply: Reply) -> None:
    """Run ``work`` off the listener thread; tell the person what came of it (its message or the error)."""
    deps.background.submit(lambda: _reply_with_outcome(work, reply))


def before_ack(ack: Ack, deps: Deps, work: Callable[[], str | None], reply: Reply) -> None:
    """Do ``work`` (one short transaction; its Slack side goes to the outbox), then ack: once Slack has its answer,
    a process stopping cannot lose the click. What came of it is told after the ack."""
    message = _outcome(work)
    ack()
    if message:
        reply_after_ack(deps, reply, message)


def _reply_with_outcome(work: Callable[[], str | None], reply: Reply) -> None:
    message = _outcome(work)
    if message:
        reply_safely(reply, message)


def _outcome(work: Callable[[], str | None]) -> str | None:
    """Run ``work``; its message, or what to tell the person about its failure (never a traceback)."""
    try:
        return work()
    except Exception as exc:  # every failure gets an answer; explain() logs the unexpected ones with an id
        return explain(exc)


def reply_safely(reply: Reply, message: str) -> None:
    """Answer; a reply Slack refuses is logged, not raised (there is nobody left to tell)."""
    try:
        reply(message)
    except SlackCallFailed as exc:
        log.error("could not tell the user %r: %s", message, exc.error)


def reply_after_ack(deps: Deps, reply: Reply, message: str) -> None:
    """Answer off the listener thread (after the ack has gone)."""
    deps.background.submit(lambda: reply_safely(reply, message))


def open_form(deps: Deps, trigger_id: str, view: View, reply: Reply) -> None:
    """Open a modal now (a trigger id lives 3 seconds); if Slack refuses, say so instead of failing silently."""
    try:
        deps.slack.open_view(trigger_id, view)
    except SlackCallFailed as exc:
        log.warning("views.open failed: %s", exc.error)
        reply_after_ack(deps, reply, f"Slack did not open the form ({exc.error}); try again.")


def reply_to_command(deps: Deps, payload: dict[str, Any]) -> Reply:
    return lambda text: deps.slack.respond(payload["response_url"], text)


def reply_in_channel(deps: Deps, channel_id: str, user_id: str) -> Reply:
    """Ephemeral in the channel; by DM when Slack cannot show it there (the person is not a member)."""

    def reply(text: str) -> None:
        try:
            deps.slack.post_ephemeral(channel_id, user_id, text)
        except SlackCallFailed as exc:
            if exc.error not in ("user_not_in_channel", "channel_not_found", "not_in_channel"):
                raise
            deps.slack.post(user_id, text)

    return reply


def reply_by_dm(deps: Deps, user_id: str) -> Reply:
    def reply(text: str) -> None:
        deps.slack.post(user_id, text)

    return reply


def add_to_timeline(deps: Deps, target: Target, user_id: str, message: MessageMetadata) -> str:
    """The "Add to incident timeline" shortcut's work (from the channel or from its form), and its answer."""
    incident = lifecycle.add_message(deps, target, user_id, channel_id=message.channel_id,
                                     message_ts=message.message_ts, author=message.author, text=message.text)
    return f"Added the message to {incident.ref}'s timeline."
