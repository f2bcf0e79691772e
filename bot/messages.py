"""What Firebell says to people about failures: more than one layer says these."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from bot.domain.errors import FirebellError
from bot.observability import logs

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
    """A short reference a user can quote and an operator can grep for in the logs."""
    return logs.error_ref()


def explain(error: BaseException, doing: str = "a request") -> str:
    """What to tell the person whose ``doing`` raised ``error`` (never a traceback): a Firebell error's own message,
    the database being away, or "Something went wrong (ref 7f3a2c)…" with the same ref and the traceback in the
    log."""
    if isinstance(error, FirebellError):
        return error.message
    if isinstance(error, DBAPIError):
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
        return DATABASE_DOWN
    return logs.unexpected_error(log, error, doing)


def outcome_of(error: BaseException) -> str:
    """How a request that raised ``error`` is counted (firebell_requests_total's outcome)."""
    if isinstance(error, FirebellError):
        return "refused_input"
    return "database_unavailable" if isinstance(error, DBAPIError) else "error"
