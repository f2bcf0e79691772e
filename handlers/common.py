"""What every listener shares: running the use case after the ack, and answering its outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.background import error_id
from bot.deps import Deps
from bot.domain.errors import FirebellError
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger(__name__)

Reply = Callable[[str], None]


def after_ack(deps: Deps, work: Callable[[], str | None], reply: Reply) -> None:
    """Run ``work`` off the listener thread; tell the person what came of it (its message or the error)."""

    def run() -> None:
        try:
            message = work()
        except FirebellError as exc:
            message = exc.message
        except Exception:  # answered with an id to quote, never a traceback
            ref = error_id()
            log.exception("request failed (error id %s)", ref)
            message = f"Firebell hit an unexpected error (error id `{ref}`); tell whoever runs Firebell."
        if message:
            _send(reply, message)

    deps.background.submit(run)


def _send(reply: Reply, message: str) -> None:
    try:
        reply(message)
    except SlackCallFailed as exc:
        log.error("could not tell the user %r: %s", message, exc.error)


def reply_to_command(deps: Deps, command: dict[str, Any]) -> Reply:
    return lambda text: deps.slack.respond(command["response_url"], text)


def reply_in_channel(deps: Deps, channel_id: str, user_id: str) -> Reply:
    return lambda text: deps.slack.post_ephemeral(channel_id, user_id, text)


def reply_by_dm(deps: Deps, user_id: str) -> Reply:
    return lambda text: deps.slack.post(user_id, text)
