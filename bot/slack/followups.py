"""Follow-ups as Slack shows them: the list, the owner's DMs (one line each: ``render.follow_up_line``). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.domain.followups import FollowUp
from bot.domain.incident import incident_ref
from bot.slack import text as t
from bot.slack.ids import COMMAND
from bot.slack.render import follow_up_line as line
from bot.slack.render import sections


def listing(items: Sequence[FollowUp], now: datetime, *, mine: bool) -> tuple[str, list[Block]]:
    header = "Your open follow-ups" if mine else "Open follow-ups"
    lines = [f"{line(i, now)} · {incident_ref(i.incident_number)} {t.channel(i.channel_id)}" for i in items]
    empty = ("Nothing is waiting on you." if mine else "No open follow-ups.") + \
        f" Add one in an incident's channel: `{COMMAND} followup add <text> [@owner] [due YYYY-MM-DD]`."
    return f"{header} ({len(items)})", sections(f"{header} ({len(items)})", lines, empty)


def reminder(item: FollowUp) -> str:
    return (f"⏰ Follow-up {item.ref} of {incident_ref(item.incident_number)} was due {item.due}: "
            f"{t.escape(item.text)} ({t.channel(item.channel_id)}). When it is done: `{COMMAND} followup done "
            f"{item.id}`.")


def unowned_reminder(item: FollowUp) -> str:
    return (f"⏰ Follow-up {item.ref} was due {item.due} and has no owner: {t.escape(item.text)}. "
            f"`{COMMAND} followup done {item.id}` when it is done.")


def assigned(item: FollowUp) -> str:
    due = f", due {item.due}" if item.due else ""
    return (f"You own follow-up {item.ref} of {incident_ref(item.incident_number)}{due}: {t.escape(item.text)} "
            f"({t.channel(item.channel_id)}). `{COMMAND} followup done {item.id}` when it is done.")
