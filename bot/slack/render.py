"""Pure Block Kit renderers for messages: domain values in, slack_sdk models out. No session, no client."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.followups import FollowUp
from bot.domain.humanize import duration, span
from bot.domain.incident import Incident, PageView, Role, Severity, Status
from bot.domain.sla import BREACH, ClockRun, SlaClock
from bot.slack import text as t
from bot.slack.ids import COMMAND, Action

SEVERITY_EMOJI = {Severity.SEV1: "🔴", Severity.SEV2: "🟠", Severity.SEV3: "🟡", Severity.SEV4: "🔵"}
MAX_MESSAGE_BLOCKS = 50

HELP = f"""*Firebell: incident commands*
• `{COMMAND} declare [--private] [sev1…sev4] <title>`: declare an incident (default sev3) in a new channel;
  with `--private` the channel is private; without a title, a form opens
• `{COMMAND} list`: open incidents, newest first
• `{COMMAND} search <words>`: incidents open and past, best match first, with their root cause and fix
• `{COMMAND} report [7d|30d|90d]`: MTTA, MTTR and SLA compliance of the period (default 30d); the chart by DM
• `{COMMAND} change <service> <summary>`: record a change (a deploy, a config push) ·
  `{COMMAND} changes [6h]`: the recent changes, newest first
• `{COMMAND} problems`: open problems · `problem PRB-N`: one, with its incidents ·
  `problem PRB-N status open|known-error|resolved` · `problem PRB-N workaround <text>` · `problem PRB-N cause <text>`
• `{COMMAND} followups [mine]`: open follow-ups of every incident (or yours) · `followup done <N>`
• `{COMMAND} oncall [tier]`: who is on call now, until when, and who is next ·
  `oncall override <tier> @person <8h | until YYYY-MM-DD HH:MM>` (or `from … until …`, in your Slack time zone) ·
  `oncall overrides` · `oncall cancel <N>`
In an incident's channel (elsewhere, name it: `{COMMAND} INC-7 <command>`):
• `ack`: acknowledge · `status investigating|identified|monitoring [text]`
• `update [text]`: a status update for the channel and stakeholders (no text: a form)
• `note <text>`: add to the timeline · `timeline`: show it · `describe <text>`: set the description
• `followup add <text> [@owner] [due YYYY-MM-DD]`: an action to do after the incident (the owner is reminded)
• `sev 1…4` · `role commander|comms|scribe @person` · `resolve` · `reopen <why>`
• `page <tier> [message]`: page an on-call tier · `sla`: the SLA clocks · `sla pause <why>` · `sla resume`
• `problem new <title>`: open a problem (PRB-N) for this incident · `problem link PRB-N` · `problem unlink`
Shortcuts: *Declare incident* (anywhere, or on a message), *Add to incident timeline* (on a message)."""


def incident_summary(incident: Incident) -> str:
    """One line of mrkdwn, also the notification text of every card and announcement."""
    return (
        f"{SEVERITY_EMOJI[incident.severity]} *{incident.ref}* ({incident.severity.label}, "
        f"{incident.status.label}): {t.escape(incident.title)}"
    )


def clock_line(clock: ClockRun, now: datetime | None = None) -> str:
    name = clock.clock.label.capitalize()
    outcome = clock.verdict()
    if outcome is not None:
        verdict, by = outcome
        return f"{'✅' if verdict == 'met' else '🚨'} {name}: {verdict} by {duration(by)}"
    if clock.due_at is None:
        return f"⏸ {name}: paused"
    overdue = now is not None and now >= clock.due_at
    return f"{'🚨' if overdue else '⏱'} {name}: {'was ' if overdue else ''}due {t.date_token(clock.due_at)}"


def page_line(page: PageView) -> str:
    who = t.user(page.paged_by) if page.paged_by else "Firebell"
    state = {
        "active": "waiting for an acknowledgement",
        "acknowledged": f"acknowledged by {t.user(page.acknowledged_by)}"
        + (f" {t.date_token(page.acknowledged_at)}" if page.acknowledged_at else ""),
        "escalated": "escalated",
        "stopped": "stopped",
    }.get(page.status, page.status)
    return f"📟 {page.tier} paged {t.date_token(page.paged_at)} by {who}: {state}"


def incident_card(incident: Incident, now: datetime | None = None) -> list[Block]:
    fields = [
        f"*Severity*\n{SEVERITY_EMOJI[incident.severity]} {incident.severity.label}",
        f"*Status*\n{'✅ ' if incident.status is Status.RESOLVED else ''}{incident.status.label}",
        f"*Commander*\n{t.user(incident.commander)}",
        f"*Reported by*\n{t.user(incident.declared_by)}",
        f"*Declared*\n{t.date_token(incident.declared_at)}",
    ]
    if incident.detected_at is not None:
        fields.append(f"*Detected*\n{t.date_token(incident.detected_at)} (the first alert)")
    fields += [f"*{role.value.capitalize()}*\n{t.user(incident.holder(role))}"
               for role in (Role.COMMS, Role.SCRIBE) if incident.holder(role)]
    if incident.acknowledged_at is not None:
        fields.append(
            f"*Acknowledged*\n{t.user(incident.acknowledged_by)}, {t.date_token(incident.acknowledged_at)}"
        )
    if incident.resolved_at is not None:
        fields.append(f"*Resolved*\n{t.date_token(incident.resolved_at)} "
                      f"(after {span(incident.declared_at, incident.resolved_at)})")
    blocks: list[Block] = [
        HeaderBlock(block_id="card_title", text=t.truncate(f"{incident.ref}: {incident.title}", 150)),
        SectionBlock(block_id="card_fields", fields=fields[:10]),
    ]
    if incident.description:
        blocks.append(SectionBlock(block_id="card_description", text=t.truncate(t.escape(incident.description), 3000)))
    status_lines = [page_line(p) for p in incident.pages[-5:]]
    order = {c.value: i for i, c in enumerate(SlaClock)}
    status_lines += [clock_line(c, now) for c in sorted(incident.current_clocks, key=lambda c: order.get(c.clock, 9))
                     if incident.status is not Status.RESOLVED or c.clock is not SlaClock.UPDATE]
    if status_lines:
        blocks.append(SectionBlock(block_id="card_status", text=t.truncate("\n".join(status_lines), 3000)))
    if incident.status is Status.RESOLVED and incident.root_cause:
        blocks.append(SectionBlock(block_id="card_root_cause", text=t.truncate(
            f"*Root cause* ({t.escape(incident.root_cause_category or '')}): {t.escape(incident.root_cause)}", 3000)))
    buttons = card_buttons(incident)
    if buttons:
        blocks.append(ActionsBlock(block_id="card_actions", elements=buttons))
    blocks.append(
        ContextBlock(block_id="card_help", elements=[MarkdownTextObject(text=f"`{COMMAND} help` lists the commands")])
    )
    return blocks


def card_buttons(incident: Incident) -> list[ButtonElement]:
    if incident.status is Status.RESOLVED:
        return []
    value = str(incident.id)
    buttons = []
    if incident.acknowledged_at is None:
        buttons.append(ButtonElement(text="Acknowledge", action_id=Action.ACKNOWLEDGE, value=value, style="primary"))
    buttons.append(ButtonElement(text="Post update", action_id=Action.POST_UPDATE, value=value))
    buttons.append(ButtonElement(text="Page", action_id=Action.PAGE, value=value))
    buttons.append(ButtonElement(text="Resolve", action_id=Action.RESOLVE, value=value, style="danger"))
    return buttons


def channel_topic(incident: Incident) -> str:
    return t.truncate(f"{incident.severity.label} · {incident.status.label} · {incident.title}", 250)


def announcement(incident: Incident) -> list[Block]:
    return [
        SectionBlock(
            block_id="announcement",
            text=(
                f"{incident_summary(incident)}\nDeclared by {t.user(incident.declared_by)} "
                f"{t.date_token(incident.declared_at)}. Join {t.channel(incident.channel_id)}"
            ),
        )
    ]


def private_announcement_text(incident: Incident) -> str:
    """All the broadcast channel learns of a private incident: that it exists and who commands it."""
    return f"🔒 A private incident, {incident.ref}, was declared; {t.user(incident.commander)} commands it."


def private_announcement(incident: Incident) -> list[Block]:
    return [SectionBlock(block_id="announcement", text=(
        f"{private_announcement_text(incident)}\nIts channel is private: ask {t.user(incident.commander)} "
        "if you should be in it."))]


def update_blocks(incident: Incident, actor: str, text: str) -> list[Block]:
    """A status update, as posted in the channel and announced to stakeholders. ``text`` is mrkdwn."""
    return [
        SectionBlock(block_id="update", text=t.truncate(
            f"📣 *Update on {incident.ref}* ({incident.severity.label} · {incident.status.label}) "
            f"from {t.user(actor)} in {t.channel(incident.channel_id)}:\n{text}", 3000)),
    ]


def resolution_blocks(incident: Incident, actor: str) -> list[Block]:
    lines = [
        f"✅ *{incident.ref} is resolved* by {t.user(actor)} after "
        f"{span(incident.declared_at, incident.resolved_at)}: {t.escape(incident.title)}",
        f"*Root cause* ({t.escape(incident.root_cause_category or '')}): {t.escape(incident.root_cause or '')}",
        f"*What fixed it*: {t.escape(incident.resolution or '')}",
    ]
    blocks: list[Block] = [SectionBlock(block_id="resolution", text=t.truncate("\n".join(lines), 3000))]
    if incident.follow_ups:
        items = "\n".join(f"• {follow_up_line(item)}" for item in incident.follow_ups)
        blocks.append(SectionBlock(block_id="follow_ups", text=t.truncate(f"*Follow-ups*\n{items}", 3000)))
    return blocks


def follow_up_owner(item: FollowUp) -> str:
    if item.owner:
        return t.user(item.owner)
    return f"@{t.escape(item.owner_name)} (not matched yet)" if item.owner_name else "no owner"


def follow_up_line(item: FollowUp, now: datetime | None = None) -> str:
    """``#12 Add an alert on pool drain · @alice · due 2026-12-20`` (⚠️ when past due)."""
    due = ""
    if item.due is not None:
        late = now is not None and item.overdue(now)
        due = f" · {'⚠️ was ' if late else ''}due {item.due.isoformat()}"
    done = f" · done by {t.user(item.done_by)}" if item.done_at else ""
    return f"*{item.ref}* {t.escape(item.text)} · {follow_up_owner(item)}{due}{done}"


def sections(header: str, lines: Sequence[str], empty: str) -> list[Block]:
    """Lines split across sections of at most 3,000 characters, at most 50 blocks in all."""
    if not lines:
        return [SectionBlock(text=empty)]
    blocks: list[Block] = [HeaderBlock(text=t.truncate(header, 150))]
    chunk: list[str] = []
    for line in lines:
        line = t.truncate(line, 3000)
        if chunk and len("\n".join([*chunk, line])) > 3000:
            blocks.append(SectionBlock(text="\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(SectionBlock(text="\n".join(chunk)))
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        blocks = [*blocks[:MAX_MESSAGE_BLOCKS - 1],
                  SectionBlock(text="…and more: `firebell export --json` has everything.")]
    return blocks


def nearest_deadline(incident: Incident) -> str:
    running = [c for c in incident.current_clocks if c.stopped_at is None and c.due_at is not None]
    if not running:
        return ""
    soonest = min(running, key=lambda c: c.due_at)  # type: ignore[arg-type, return-value]
    return f" · next: {soonest.clock.label} due {t.date_token(soonest.due_at)}"  # type: ignore[arg-type]


def incident_list(incidents: Sequence[Incident]) -> list[Block]:
    lines = [
        f"{incident_summary(i)} · {t.channel(i.channel_id)} · declared {t.date_token(i.declared_at)}"
        + nearest_deadline(i)
        for i in incidents
    ]
    return sections(f"Open incidents ({len(incidents)})", lines, "No open incidents. :tada:")


def timeline(incident: Incident) -> list[Block]:
    lines = [
        f"{t.date_token(e.at, '{date_short} {time_secs}')} · *{e.kind}* · "
        f"{t.user(e.actor) if e.actor else 'Firebell'}: {t.escape(e.text)}"
        + (f" (<{e.permalink}|message>)" if e.permalink else "")
        for e in incident.timeline
    ]
    return sections(f"{incident.ref} timeline", lines, f"{incident.ref} has no timeline yet.")


def sla_view(incident: Incident, now: datetime) -> list[Block]:
    lines = [clock_line(c, now) for c in incident.current_clocks] or ["No SLA clocks."]
    return [SectionBlock(text=t.truncate(f"*{incident.ref} SLA clocks*\n" + "\n".join(lines), 3000))]


def sla_notice(ref: str, clock: SlaClock, fraction: float, due: datetime, run: ClockRun | None,
               act: Sequence[str], now: datetime, *, late_after: timedelta) -> str:
    """An SLA reminder (``fraction`` of the clock has passed) or breach notice, naming who should act."""
    target = duration(run.target) if run else "?"
    who = " ".join(t.user(u) for u in act)
    if fraction >= BREACH:
        what = ("no status update was posted" if clock is SlaClock.UPDATE else f"the *{clock.label}* SLA is breached")
        message = f"🚨 *{ref}*: {what} ({target}, due {t.date_token(due)}). {who}"
    else:
        left = run.left(now) if run else timedelta(0)
        verb = {SlaClock.ACK: "acknowledge with `/incident ack`", SlaClock.RESOLVE: "resolve it or "
                "`/incident sla pause <why>`", SlaClock.UPDATE: "post an update with `/incident update`"}[clock]
        message = (f"⏳ *{ref}*: {fraction:.0%} of the *{clock.label}* ({target}) has passed; "
                   f"{duration(max(left, timedelta(0)))} left, due {t.date_token(due)}. "
                   f"{who}: {verb}.")
    late = now - due
    if late > late_after:
        message += f"\n_Sent {duration(late)} late: Firebell was not running when it was due._"
    return message


def page_dm(incident: Incident, page: PageView, note: str | None = None) -> tuple[str, list[Block]]:
    """The DM a paged person gets, with the Acknowledge button."""
    text = f"📟 You are paged ({page.tier}) for {incident.ref} ({incident.severity.label}): {t.escape(incident.title)}"
    lines = [f"*{text}*", f"Channel: {t.channel(incident.channel_id)}"]
    if page.reason:
        lines.append(f"> {t.escape(page.reason)}")
    if note:
        lines.append(note)
    return text, [
        SectionBlock(block_id="page", text=t.truncate("\n".join(lines), 3000)),
        ActionsBlock(block_id="page_actions", elements=[ButtonElement(
            text="Acknowledge", action_id=Action.PAGE_ACKNOWLEDGE, value=str(page.id), style="primary")]),
    ]


def page_dm_done(incident: Incident, page: PageView, person: str, acknowledger: str) -> tuple[str, list[Block]]:
    """The same DM once someone acknowledged: the button is gone."""
    done = ("✅ You acknowledged this page." if person == acknowledger
            else f"✅ Handled: {t.user(acknowledger)} acknowledged.")
    text = f"📟 {incident.ref} ({page.tier}): {done}"
    return text, [SectionBlock(block_id="page", text=t.truncate(
        f"*{incident.ref} ({incident.severity.label}): {t.escape(incident.title)}*\n"
        f"Channel: {t.channel(incident.channel_id)}\n{done}", 3000))]


def page_note(incident: Incident, page: PageView, people: Sequence[str], note: str | None,
              problems: Sequence[str]) -> str:
    by = t.user(page.paged_by) if page.paged_by else "Firebell"
    who = ", ".join(t.user(p) for p in people) or "nobody (the tier has no members Slack knows)"
    if page.oncall_source == "gap":
        who = "nobody is on call now (a gap in its schedule): " + (
            f"its members {', '.join(t.user(p) for p in people)}" if people else "nobody to reach")
    elif page.oncall_source and page.oncall_user:
        others = [t.user(p) for p in people if p != page.oncall_user]
        who = f"on call: {t.user(page.oncall_user)}, {page.oncall_source}" + (
            f"; members: {', '.join(others)}" if others else "")
    message = note + "\n" if note else ""
    message += f"📟 {by} paged *{page.tier}* ({who})"
    message += f": {t.escape(page.reason)}" if page.reason else "."
    if problems:
        message += "\n⚠️ " + "; ".join(problems)
    return message


def declared_message(incident: Incident) -> str:
    return f"{incident_summary(incident)} is declared: {t.channel(incident.channel_id)}"
