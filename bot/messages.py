"""Messages more than one layer says."""

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
