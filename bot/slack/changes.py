"""Change events as Slack shows them: newest first, each with its link. Pure; the change text is the sender's, so
it is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.changes import Change
from bot.domain.humanize import duration
from bot.slack import text as t

SHOWN = 20


def change_line(change: Change) -> str:
    who = f" by {t.escape(change.author)}" if change.author else (
        f" by {t.user(change.recorded_by)}" if change.recorded_by else "")
    link = f" · {t.escape(change.url)}" if change.url else ""
    return f"• {t.date_token(change.at)} *{t.escape(change.service)}*: {t.escape(change.summary)}{who}{link}"


def changes_message(changes: Sequence[Change], window: timedelta, *, before_incident: bool) -> tuple[str, list[Block]]:
    title = "Changes before this incident" if before_incident else "Recent changes"
    text = f"{title} (last {duration(window)}): {len(changes)}"
    if not changes:
        return text, [SectionBlock(block_id="changes", text=f"*{title}* (last {duration(window)}): none recorded.")]
    lines = [change_line(c) for c in changes[:SHOWN]]
    blocks: list[Block] = [SectionBlock(block_id="changes", text=t.truncate(
        f"🔧 *{title}* (last {duration(window)}, newest first):\n" + "\n".join(lines), 3000))]
    if len(changes) > SHOWN:
        blocks.append(ContextBlock(block_id="changes_more", elements=[MarkdownTextObject(
            text=f"…and {len(changes) - SHOWN} more")]))
    return text, blocks


def recorded(change: Change, stored: bool) -> str:
    return (f"Recorded the change to *{t.escape(change.service)}*: {t.escape(change.summary)}" if stored
            else "That change was recorded before; nothing new.")
