"""The App Home tab as a dashboard: the pages waiting for the viewer, the open incidents with their nearest SLA
deadline, the last 30 days' figures, and a Declare button. Pure; at most 100 blocks however much is open."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain import report_text as words
from bot.domain.incident import Incident, PageView
from bot.domain.kpi import Report
from bot.domain.sla import nearest
from bot.slack import text as t
from bot.slack.ids import COMMAND, Action
from bot.slack.render import SEVERITY_EMOJI

MAX_PAGES = 10  # pages listed; more are counted
MAX_INCIDENTS = 40  # incidents listed, most severe first; more are counted (the whole view stays under 100 blocks)


def waiting_pages(incidents: Sequence[Incident], user_id: str) -> list[tuple[Incident, PageView]]:
    """The active pages that notified ``user_id``, oldest first."""
    found = [(i, p) for i in incidents for p in i.pages if p.status == "active" and user_id in p.notified]
    return sorted(found, key=lambda pair: pair[1].paged_at)


def _page(incident: Incident, page: PageView) -> Block:
    text = (f"{SEVERITY_EMOJI[incident.severity]} *{incident.ref}* · {t.escape(incident.title)}\n"
            f"*{t.escape(page.tier)}* paged {t.date_token(page.paged_at)} · {t.channel(incident.channel_id)}")
    return SectionBlock(text=t.truncate(text, 3000), accessory=ButtonElement(
        text="Acknowledge", action_id=Action.PAGE_ACKNOWLEDGE.value, value=str(page.id), style="primary"))


def _incident(incident: Incident) -> Block:
    soonest = nearest(incident.current_clocks)
    deadline = (f" · {soonest.clock.label} due {t.date_token(soonest.due_at)}"
                if soonest is not None and soonest.due_at is not None else "")
    text = (f"{SEVERITY_EMOJI[incident.severity]} *{incident.ref}* · {incident.severity.label} · "
            f"{incident.status.label} · {t.escape(incident.title)}\n"
            f"Commander {t.user(incident.commander)} · {t.channel(incident.channel_id)}{deadline}")
    return SectionBlock(text=t.truncate(text, 3000))


def _figures(report: Report) -> list[Block]:
    if report.empty:
        return [SectionBlock(text="No incidents were declared in the last 30 days.")]
    clocks = "\n".join(f"{words.CLOCK_NAMES[c].capitalize()}: {words.compliance(r)}" for c, r in report.sla.items())
    return [
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*MTTA* (median)\n{words.seconds(report.mtta.median)}"),
            MarkdownTextObject(text=f"*MTTR* (median)\n{words.seconds(report.mttr.median)}"),
            MarkdownTextObject(text=f"*Declared*\n{report.incidents} ({report.open} still open)"),
            MarkdownTextObject(text=f"*SLA compliance*\n{clocks}"),
        ]),
        ContextBlock(elements=[MarkdownTextObject(
            text=f"`{COMMAND} report 30d` for the details and the chart; MTTA and MTTR from the declare.")]),
    ]


def home_view(incidents: Sequence[Incident], user_id: str, report: Report) -> View:
    """``incidents``: the open ones the viewer may see; ``report``: the last 30 days."""
    pages = waiting_pages(incidents, user_id)
    blocks: list[Block] = [
        HeaderBlock(text="Firebell"),
        ActionsBlock(elements=[ButtonElement(text="Declare incident", action_id=Action.DECLARE.value,
                                             style="danger")]),
        HeaderBlock(text=f"Waiting for you ({len(pages)})"),
    ]
    if pages:
        blocks += [_page(incident, page) for incident, page in pages[:MAX_PAGES]]
        if len(pages) > MAX_PAGES:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"…and {len(pages) - MAX_PAGES} more pages: see your DMs.")]))
    else:
        blocks.append(SectionBlock(text="No page is waiting for you."))
    ordered = sorted(incidents, key=lambda i: (i.severity.rank, -i.number))
    blocks += [DividerBlock(), HeaderBlock(text=f"Open incidents ({len(incidents)})")]
    if ordered:
        blocks += [_incident(incident) for incident in ordered[:MAX_INCIDENTS]]
        if len(ordered) > MAX_INCIDENTS:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"…and {len(ordered) - MAX_INCIDENTS} more, less severe: `{COMMAND} list`.")]))
    else:
        blocks.append(SectionBlock(text="No open incidents. :tada:"))
    blocks += [DividerBlock(), HeaderBlock(text="The last 30 days"), *_figures(report),
               ContextBlock(elements=[MarkdownTextObject(text=f"`{COMMAND} help` lists every command.")])]
    return View(type="home", blocks=blocks)
