"""Block Kit renderers for what past incidents know: search hits, similar incidents, problem records. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.incident import Status, incident_ref
from bot.domain.problems import Problem, ProblemCount, ProblemSummary
from bot.domain.search import MARK_END, MARK_START, FoundIncident, SearchResults, SimilarIncident
from bot.slack import text as t
from bot.slack.render import sections

FIELD_NAMES = {"description": "in the description", "updates": "on the timeline", "root_cause": "in the root cause",
               "resolution": "in what fixed it"}
EXCERPT = 300  # characters of a root cause or a fix shown in a list


def marked(snippet: str) -> str:
    """A snippet as mrkdwn: the user's text escaped, each matched word in bold."""
    return t.escape(snippet).replace(MARK_START, "*").replace(MARK_END, "*")


def _quoted(typed: str) -> str:
    return "“" + t.escape(t.truncate(" ".join(typed.split()), 80)) + "”"


def _when(found: FoundIncident) -> str:
    if found.status is Status.RESOLVED and found.resolved_at is not None:
        return f"declared {t.date_token(found.declared_at)}, resolved {t.date_token(found.resolved_at)}"
    return f"declared {t.date_token(found.declared_at)}"


def _headline(found: FoundIncident) -> str:
    return (f"*{found.ref}* · {t.escape(found.title)} · {found.status.label} · {_when(found)} · "
            f"{t.channel(found.channel_id)}")


def _outcome(found: FoundIncident) -> list[str]:
    lines = []
    if found.root_cause:
        category = f" ({t.escape(found.root_cause_category)})" if found.root_cause_category else ""
        lines.append(f"*Root cause*{category}: {t.escape(t.truncate(found.root_cause, EXCERPT))}")
    if found.resolution:
        lines.append(f"*What fixed it*: {t.escape(t.truncate(found.resolution, EXCERPT))}")
    return lines


def search_results(typed: str, results: SearchResults) -> tuple[str, list[Block]]:
    """The ephemeral answer to `/incident search`."""
    if not results.terms:
        message = f"No words to search for in {_quoted(typed)}: type some, e.g. `/incident search checkout timeout`."
        return message, [SectionBlock(text=message)]
    if not results.hits:
        message = f"No match: no incident mentions {_quoted(typed)}."
        return message, [SectionBlock(text=message)]
    count = len(results.hits)
    if results.every_term:
        message = f"🔎 {count} incident{'s' if count > 1 else ''} match {_quoted(typed)}, the best first"
    else:
        message = f"🔎 No incident mentions all of {_quoted(typed)}; {count} mention some of it, the best first"
    blocks: list[Block] = [SectionBlock(text=message)]
    for hit in results.hits:
        lines = [_headline(hit.incident)]
        if hit.snippet and hit.snippet_field in ("description", "updates"):
            lines.append(f"> {marked(hit.snippet)} _({FIELD_NAMES[hit.snippet_field]})_")
        if hit.incident.status is Status.RESOLVED:
            lines += _outcome(hit.incident)
        blocks.append(SectionBlock(block_id=f"hit_{hit.incident.incident_id}",
                                   text=t.truncate("\n".join(lines), 3000)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Ranked by where the words are (title first, then root cause and fix, description, timeline); newest "
             "first among equals. `firebell search` prints the same.")]))
    return message, blocks


def _problem_line(problem: ProblemSummary) -> str:
    line = f"🧩 *{problem.ref}* ({problem.status.label}): {t.escape(problem.title)}"
    if problem.workaround:
        line += f"\n*Workaround*: {t.escape(t.truncate(problem.workaround, EXCERPT))}"
    return line


def similar_incidents(ref: str, similar: Sequence[SimilarIncident]) -> tuple[str, list[Block]]:
    """Posted in a new incident's channel after the card: the resolved incidents like it, what fixed them."""
    count = len(similar)
    text = f"🔎 {ref} looks like {count} past incident{'s' if count > 1 else ''}: " + ", ".join(
        item.incident.ref for item in similar)
    blocks: list[Block] = [SectionBlock(block_id="similar_intro", text=(
        f"🔎 *Similar past incidents*: {ref} looks like {'these' if count > 1 else 'this one'}. What fixed "
        f"{'them' if count > 1 else 'it'} may help."))]
    for item in similar:
        lines = [_headline(item.incident), *_outcome(item.incident)]
        if item.problem is not None:
            lines.append(_problem_line(item.problem))
        blocks.append(SectionBlock(block_id=f"similar_{item.incident.incident_id}",
                                   text=t.truncate("\n".join(lines), 3000)))
    shared = sorted({word for item in similar for word in item.shared})
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t.truncate(
        f"Similar: resolved incidents whose title, description, root cause or fix share the rarer words of this "
        f"one's ({t.escape(', '.join(shared))}). `/incident search <words>` finds more; "
        f"`/incident problem link PRB-N` links this incident to a problem.", 3000))]))
    return text, blocks


def problem_view(problem: Problem) -> tuple[str, list[Block]]:
    text = f"🧩 {problem.ref}: {problem.title}"
    lines = [
        f"🧩 *{problem.ref}*: {t.escape(problem.title)}",
        f"*Status*: {problem.status.label} · opened by {t.user(problem.created_by)} "
        f"{t.date_token(problem.created_at)}"
        + (f" · resolved {t.date_token(problem.resolved_at)}" if problem.resolved_at else ""),
        "*Workaround*: " + (t.escape(problem.workaround) if problem.workaround else
                            f"none yet (`/incident problem {problem.ref} workaround <text>`)"),
        "*Root cause*: " + (t.escape(problem.root_cause) if problem.root_cause else
                            f"not known yet (`/incident problem {problem.ref} cause <text>`)"),
    ]
    blocks: list[Block] = [SectionBlock(block_id="problem", text=t.truncate("\n".join(lines), 3000))]
    incidents = [f"• *{incident_ref(i.number)}* {t.escape(i.title)} · {Status(i.status).label} · declared "
                 f"{t.date_token(i.declared_at)} · {t.channel(i.channel_id)}" for i in problem.incidents]
    blocks.append(SectionBlock(block_id="problem_incidents", text=t.truncate(
        f"*Incidents ({len(incidents)})*\n" + "\n".join(incidents) if incidents else
        "*Incidents*: none linked (`/incident problem link " + problem.ref + "` in an incident's channel)", 3000)))
    return text, blocks


def problem_list(counts: Sequence[ProblemCount]) -> tuple[str, list[Block]]:
    """`/incident problems`: open and known-error problems, most incidents first."""
    lines = [f"• *{c.summary.ref}* ({c.summary.status.label}) {t.escape(c.summary.title)} · {c.incidents} "
             f"incident{'' if c.incidents == 1 else 's'}"
             + (f", the last declared {t.date_token(c.last_declared_at)}" if c.last_declared_at else "")
             for c in counts]
    empty = "No open problems. `/incident problem new <title>` in an incident's channel opens one."
    return (f"Open problems ({len(counts)})" if counts else empty,
            sections(f"Open problems ({len(counts)}), most incidents first", lines, empty))
