"""Pure renderers of on-call: who is on call in each tier, the overrides, and the handoff notice at a shift change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from bot.domain.humanize import duration
from bot.domain.incident import Incident
from bot.domain.oncall import Override, Shift, Source, TierOnCall
from bot.slack import render
from bot.slack import text as t


def member(member_id: str) -> str:
    return f"<!subteam^{member_id}>" if member_id.startswith("S") else t.user(member_id)


def shift_who(shift: Shift) -> str:
    """``<@U01> (layer 1)``, ``<@U09> (🔁 override #3)`` or ``nobody (a gap in the schedule)``."""
    if shift.source is Source.GAP:
        return "nobody (a gap in the schedule)"
    why = f"🔁 override #{shift.override}" if shift.source is Source.OVERRIDE else f"layer {shift.layer}"
    return f"{t.user(shift.user)} ({why})"


def tier_line(state: TierOnCall) -> str:
    members = ", ".join(member(m) for m in state.members)
    line = f"*{t.escape(state.tier)}*: "
    if not state.scheduled and state.current.source is Source.GAP:
        return line + f"no schedule; every member is paged: {members}"
    line += f"{shift_who(state.current)}"
    if state.following is not None:
        line += f" until {t.date_token(state.current.end)}; next {shift_who(state.following)}"
    if members:
        line += f"\n   also paged, always: {members}"
    return line


def oncall_view(states: Sequence[TierOnCall]) -> tuple[str, list[Block]]:
    if not states:
        return "No tiers", [SectionBlock(text="No tiers are configured: add `tiers:` to firebell.yml.")]
    return "Who is on call", render.sections("Who is on call", [tier_line(s) for s in states], "")


def override_line(override: Override) -> str:
    return (f"*#{override.id}* {t.escape(override.tier)}: {t.user(override.user)} from "
            f"{t.date_token(override.start)} until {t.date_token(override.end)}"
            + (f" (by {t.user(override.created_by)})" if override.created_by and override.created_by != override.user
               else ""))


def overrides_view(overrides: Sequence[Override]) -> tuple[str, list[Block]]:
    return "On-call overrides", render.sections(
        "On-call overrides", [override_line(o) for o in overrides],
        "No overrides to come. Add one: `/incident oncall override <tier> @person <8h | until YYYY-MM-DD HH:MM>`.")


def override_added(override: Override, zone: str) -> str:
    return (f"🔁 Override #{override.id}: {t.user(override.user)} is on call in *{t.escape(override.tier)}* from "
            f"{t.date_token(override.start)} until {t.date_token(override.end)} (read in {zone}). "
            f"`/incident oncall cancel {override.id}` undoes it.")


def override_cancelled(override: Override) -> str:
    return f"Cancelled override #{override.id} ({t.user(override.user)} in *{t.escape(override.tier)}*)."


def incident_line(incident: Incident, now: datetime) -> str:
    clocks = [render.clock_line(c, now) for c in incident.current_clocks if c.stopped_at is None]
    return (f"{render.incident_summary(incident)} · {t.channel(incident.channel_id)}"
            + (" · " + " · ".join(clocks) if clocks else ""))


def handoff_message(tier: str, off: Shift, on: Shift, at: datetime, incidents: Sequence[Incident],
                    now: datetime, *, late_after: float) -> tuple[str, list[Block]]:
    """The notice at a shift change: who goes off, who comes on, and the open incidents with their running clocks."""
    headline = f"🔄 {t.escape(tier)} handoff: {shift_who(off)} → {shift_who(on)}"
    lines = [f"Shift change {t.date_token(at)}."]
    if on.source is not Source.GAP:
        lines[0] += f" {t.user(on.user)} is on call until {t.date_token(on.end)}."
    if (now - at).total_seconds() > late_after:
        lines.append(f"_Sent {duration(now - at)} late: Firebell was not running at the shift change._")
    if incidents:
        lines.append(f"*Open incidents ({len(incidents)})*")
        lines += [f"• {incident_line(i, now)}" for i in incidents]
    else:
        lines.append("No open incidents.")
    text = headline + " · " + (f"{len(incidents)} open incident(s)" if incidents else "no open incidents")
    blocks: list[Block] = [HeaderBlock(text=t.truncate(f"{tier} handoff", 150)),
                           SectionBlock(text=t.truncate(headline, 3000))]
    blocks += render.sections(f"{tier} handoff", lines, "")[1:]
    return text, blocks[: render.MAX_MESSAGE_BLOCKS]
