"""The `/incident report` answer: the headline figures of a period, and the comment on the chart sent by DM. Pure."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain import report_text as words
from bot.domain.kpi import Report
from bot.domain.periods import Period
from bot.slack import text as t


def _span(period: Period) -> str:
    return f"{t.date_token(period.since, '{date_short}')} – {t.date_token(period.until, '{date_short}')}"


def headline(report: Report, period: Period) -> tuple[str, list[Block]]:
    """(fallback text, blocks). An empty period says so plainly."""
    if report.empty:
        text = f"No incidents were declared in {period.label} ({_span(period)})."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    title = f"Incidents in {period.label}"
    counts = (f"*{report.incidents}* declared · *{report.resolved}* resolved · *{report.open}* open · "
              f"*{report.reopened}* reopened · *{report.escalations}* escalations")
    severity = " · ".join(f"{sev.upper()}: *{figures.incidents}*" for sev, figures in report.by_severity.items())
    clocks = "\n".join(f"• {words.CLOCK_NAMES[clock].capitalize()}: {words.compliance(result)}"
                       for clock, result in report.sla.items())
    categories = ", ".join(f"{t.escape(name)} {count}" for name, count in report.by_root_cause_category.items())
    blocks: list[Block] = [
        HeaderBlock(text=title),
        ContextBlock(elements=[MarkdownTextObject(text=f"{_span(period)} · incidents counted in the period they "
                                                       "were declared in")]),
        SectionBlock(text=MarkdownTextObject(text=counts + "\n" + severity)),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*MTTA* (time to acknowledge)\n{words.figure(report.mtta)}"),
            MarkdownTextObject(text=f"*MTTR* (time to resolve)\n{words.figure(report.mttr)}"),
        ]),
        SectionBlock(text=MarkdownTextObject(text=f"*SLA compliance*\n{clocks}")),
    ]
    if categories:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Root causes:* {categories}")))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="The weekly chart is on its way to you by DM. `firebell report` prints the same from the shell.")]))
    summary = (f"{title}: {report.incidents} declared, MTTA median {words.seconds(report.mtta.median)}, "
               f"MTTR median {words.seconds(report.mttr.median)}")
    return summary, blocks


def chart_comment(report: Report, period: Period) -> str:
    return (f"Incidents in {period.label}: {report.incidents} declared, MTTA median "
            f"{words.seconds(report.mtta.median)}, MTTR median {words.seconds(report.mttr.median)}, "
            f"resolve SLA {words.percent(report.sla['resolve'].compliance)} met.")
