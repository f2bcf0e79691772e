"""Text in Slack's formats: mrkdwn escaping and the ``<!date^…>`` token."""

from __future__ import annotations

from datetime import UTC, datetime


def escape(text: str) -> str:
    """Escape user text for mrkdwn so it cannot mention (<!channel>, <@U…>) or link; shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date_token(at: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A time each reader sees in their own time zone; the fallback is UTC for old clients."""
    at = at.astimezone(UTC)
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{fmt}|{fallback}>"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "nobody"


def channel(channel_id: str | None) -> str:
    return f"<#{channel_id}>" if channel_id else "(no channel)"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
