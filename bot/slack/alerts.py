"""Alert intake's messages: the triage post (Declare incident / Dismiss), the storm digest, and what the incident's
channel is told of its alert group. Pure functions of the domain's views; escaped, since alert text is the
sender's."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.alerts import EpisodeView, Rate, State
from bot.domain.humanize import duration
from bot.slack import text as t
from bot.slack.ids import COMMAND, Action
from bot.slack.render import SEVERITY_EMOJI

DIGEST_LINES = 40  # one section (and its Declare button) each; the message's 50 blocks hold the rest of it
SHOWN_ALERTS = 10


def _headline(view: EpisodeView) -> str:
    return f"{SEVERITY_EMOJI[view.severity]} *{view.severity.label}* {t.escape(view.title)}"


def _where_now(view: EpisodeView) -> str:
    if view.state is State.INCIDENT:
        if view.incident_ref:
            who = f" by {t.user(view.handled_by)}" if view.handled_by else ""
            return f"🚒 Declared{who}: *{view.incident_ref}* {t.channel(view.incident_channel)}"
        return "🚒 Declaring an incident…"
    if view.state is State.DISMISSED:
        return f"🙈 Dismissed by {t.user(view.handled_by)}"
    return ""


def _status(view: EpisodeView) -> str:
    if view.status == "resolved":
        return f"✅ Resolved ({view.total} alert{'s' if view.total != 1 else ''})"
    return f"🔥 Firing: {view.firing} of {view.total} alert{'s' if view.total != 1 else ''}"


def triage_buttons(view: EpisodeView) -> list[ButtonElement]:
    if not view.state.awaits_triage:
        return []
    value = str(view.episode_id)
    return [ButtonElement(text="Declare incident", action_id=Action.ALERT_DECLARE.value, value=value,
                          style="primary"),
            ButtonElement(text="Dismiss", action_id=Action.ALERT_DISMISS.value, value=value)]


def triage_message(view: EpisodeView) -> tuple[str, list[Block]]:
    """One alert group waiting for L1: what fires, and the two buttons (gone once it is declared or dismissed)."""
    text = f"{view.severity.label} alert from {view.source.label}: {view.title}"
    shown = view.lines[:SHOWN_ALERTS]
    lines = [f"• {t.escape(line)}" for line in shown]
    if shown and view.total > len(shown):
        lines.append(f"…and {view.total - len(shown)} more")
    blocks: list[Block] = [
        SectionBlock(block_id="alert_title", text=t.truncate(_headline(view), 3000)),
        SectionBlock(block_id="alert_alerts", text=t.truncate("\n".join(lines) or "(no alerts)", 3000)),
    ]
    context = [f"{view.source.label} · {_status(view)}"]
    if view.previous:
        context.append(f"fired again: last time {t.escape(view.previous)}")
    if where := _where_now(view):
        context.append(where)
    blocks.append(ContextBlock(block_id="alert_state", elements=[MarkdownTextObject(text=" · ".join(context))]))
    if buttons := triage_buttons(view):
        blocks.append(ActionsBlock(block_id="alert_actions", elements=buttons))
    return text, blocks


def digest_message(views: Sequence[EpisodeView], limit: Rate) -> tuple[str, list[Block]]:
    """A storm: the groups beyond max_new_incidents, one line each with its own Declare button."""
    waiting = sum(1 for v in views if v.state.awaits_triage)
    text = (f"Alert storm: {len(views)} alert groups beyond the limit of {limit.count} new incidents per "
            f"{duration(limit.per)}")
    blocks: list[Block] = [SectionBlock(block_id="digest_head", text=(
        f"🌪️ *Alert storm*: {len(views)} alert groups arrived beyond `max_new_incidents` ({limit.count} per "
        f"{duration(limit.per)}); {waiting} wait for triage. Declare the ones that need an incident."))]
    for view in views[:DIGEST_LINES]:
        line = f"{_headline(view)} · {_status(view)}"
        if where := _where_now(view):
            line += f" · {where}"
        buttons = triage_buttons(view)
        blocks.append(SectionBlock(block_id=f"digest_{view.episode_id}", text=t.truncate(line, 3000),
                                   accessory=buttons[0] if buttons else None))
    if len(views) > DIGEST_LINES:
        blocks.append(ContextBlock(block_id="digest_more", elements=[MarkdownTextObject(
            text=f"…and {len(views) - DIGEST_LINES} more groups: `firebell alerts --since 1h` lists them all")]))
    return text, blocks


def news_message(ref: str, fired: Sequence[str], resolved: Sequence[str], *, group_resolved: bool,
                 asked: Sequence[str] = ()) -> tuple[str, list[Block]]:
    """New alerts of the incident's group, and the ones that resolved; when all resolved, ask to confirm."""
    blocks: list[Block] = []
    if fired:
        blocks.append(SectionBlock(block_id="alerts_fired", text=t.truncate(
            f"🔥 *{len(fired)} new alert{'s' if len(fired) != 1 else ''}* in this incident's group:\n"
            + "\n".join(f"• {t.escape(line)}" for line in fired[:SHOWN_ALERTS])
            + (f"\n…and {len(fired) - SHOWN_ALERTS} more" if len(fired) > SHOWN_ALERTS else ""), 3000)))
    if resolved:
        blocks.append(SectionBlock(block_id="alerts_resolved", text=t.truncate(
            "✅ *Resolved*:\n" + "\n".join(f"• {t.escape(line)}" for line in resolved[:SHOWN_ALERTS])
            + (f"\n…and {len(resolved) - SHOWN_ALERTS} more" if len(resolved) > SHOWN_ALERTS else ""), 3000)))
    if group_resolved:
        who = (", ".join(t.user(u) for u in asked) if asked
               else f"Commander (nobody is yet: `{COMMAND} role commander @you`)")
        blocks.append(SectionBlock(block_id="alerts_all_resolved", text=(
            f"All alerts of this group have resolved. {who}, confirm the service is healthy and resolve {ref} "
            f"with its root cause: `{COMMAND} resolve`. Firebell never closes an incident by itself.")))
    summary = [f"{len(fired)} new alert(s)" if fired else "", f"{len(resolved)} resolved" if resolved else ""]
    text = f"{ref}: " + ", ".join(s for s in summary if s) + (" · all resolved" if group_resolved else "")
    return text, blocks


def fired_again(ref: str, previous: str) -> str:
    return f"🔁 This alert group fired again: last time {t.escape(previous)}. {ref} is a new incident."
