"""What Firebell says to people about failures: more than one layer says these."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import DBAPIError

from bot.domain.errors import FirebellError

log = logging.getLogger(__name__)

DATABASE_DOWN = "Firebell cannot reach its database, nothing was changed. Try again in a minute."

# What to do about a Slack error that will not heal by itself (the operator's part)
FIXES = {
    "not_in_channel": "invite Firebell to the channel (`/invite @Firebell`)",
    "channel_not_found": "the channel is gone or Firebell cannot see it; check `broadcast_channel` in firebell.yml",
    "is_archived": "the channel is archived; unarchive it, or change `broadcast_channel` in firebell.yml",
    "missing_scope": "reinstall the app from manifest.yml so that it has every scope Firebell asks for",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid; set the bot token of the installed app",
    "not_authed": "SLACK_BOT_TOKEN is not set",
    "token_revoked": "the bot token was revoked; reinstall the app and set its new SLACK_BOT_TOKEN",
    "account_inactive": "the bot token was revoked; reinstall the app and set its new SLACK_BOT_TOKEN",
    "restricted_action": "a workspace setting forbids it; ask a Slack admin",
}


def fix_for(error: str) -> str:
    """How to fix a Slack error that will not heal, then deliver the work again."""
    fix = FIXES.get(error.split(" ", 1)[0])
    return (f"To fix: {fix}, then run `firebell outbox retry`." if fix
            else "Run `firebell outbox` for the details, and `firebell outbox retry` once fixed.")


def error_id() -> str:
    """A short id a user can quote and an operator can grep for in the logs."""
    return uuid.uuid4().hex[:8]


def explain(error: BaseException, doing: str = "request") -> str:
    """What to tell the person whose ``doing`` raised ``error`` (never a traceback): a Firebell error's own message,
    the database being away, or an unexpected error logged with an id they can quote."""
    if isinstance(error, FirebellError):
        return error.message
    if isinstance(error, DBAPIError):
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
        return DATABASE_DOWN
    ref = error_id()
    log.error("%s failed (error id %s)", doing, ref, exc_info=error)
    return f"Firebell hit an unexpected error (error id `{ref}`); tell whoever runs Firebell."
