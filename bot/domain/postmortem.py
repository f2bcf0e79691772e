"""The post-incident report in Markdown, for stakeholders: a pure function of the incident (its timeline, pages,
clock runs, severity history, follow-ups), the people's names and the response's feedback.

People appear by the names Slack gave (ids where none is known). An open incident's report is a draft."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.domain.followups import FollowUp
from bot.domain.humanize import duration, span
from bot.domain.incident import Incident, PageView, Role, Status
from bot.domain.kpi import Satisfaction
from bot.domain.sla import SlaClock

_BY_LABEL = {status.label: status for status in Status}


def _at(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


def status_changes(incident: Incident) -> list[tuple[datetime, Status]]:
    """When the incident entered each status, read off its timeline (Firebell writes these lines)."""
    changes = [(incident.declared_at, Status.DECLARED)]
    for event in incident.timeline:
        new: Status | None = None
        if event.kind == "acknowledged" and "status " in event.text:
            new = _BY_LABEL.get(event.text.rsplit("status ", 1)[1].strip())
        elif event.kind == "status" and " → " in event.text:
            new = _BY_LABEL.get(event.text.split(" → ", 1)[1].split(":", 1)[0].strip())
        elif event.kind == "resolved":
            new = Status.RESOLVED
        elif event.kind == "reopened":
            new = Status.INVESTIGATING
        if new is not None and new is not changes[-1][1]:
            changes.append((event.at, new))
    return changes


def time_in_status(incident: Incident, now: datetime) -> dict[Status, timedelta]:
    changes = status_changes(incident)
    spent: dict[Status, timedelta] = {}
    for (start, status), (end, _) in zip(changes, [*changes[1:], (now, Status.RESOLVED)], strict=True):
        if status is not Status.RESOLVED:
            spent[status] = spent.get(status, timedelta(0)) + max(end - start, timedelta(0))
    return spent


def mitigated_at(incident: Incident) -> datetime | None:
    """The first time the incident was put in monitoring (the fix is in, being watched)."""
    return next((at for at, status in status_changes(incident) if status is Status.MONITORING), None)


def postmortem(incident: Incident, names: Mapping[str, str] | None = None, satisfaction: Satisfaction | None = None,
               now: datetime | None = None) -> str:
    known = names or {}

    def who(user_id: str | None) -> str:
        return "—" if not user_id else known.get(user_id, user_id)

    resolved = incident.status is Status.RESOLVED
    end = incident.resolved_at if resolved and incident.resolved_at else (now or incident.declared_at)
    mitigated = mitigated_at(incident)
    lines = [f"# {incident.ref}: {incident.title}", ""]
    if not resolved:
        lines += [f"> **Draft**: {incident.ref} is still open ({incident.status.label.lower()}); this report will "
                  "change.", ""]
    lines += [
        "## Summary", "",
        incident.description or "_No description was given._", "",
        f"- Status: {incident.status.value}",
        f"- Channel: #{incident.channel_name or '—'}", "",
        "## Impact", "",
        f"- Severity: {incident.severity.label}" + (" (changed: " + "; ".join(
            f"{c.from_severity.label} → {c.to_severity.label} by {who(c.by)} at {_at(c.at)}"
            for c in incident.severity_history) + ")" if incident.severity_history else ""),
        f"- Declared: {_at(incident.declared_at)} by {who(incident.declared_by)}",
        f"- Acknowledged: {_at(incident.acknowledged_at)}"
        + (f" by {who(incident.acknowledged_by)}" if incident.acknowledged_by else ""),
        f"- Mitigated (first in monitoring): {_at(mitigated)}",
        f"- Resolved: {_at(incident.resolved_at if resolved else None)}",
        f"- Time to acknowledge: {span(incident.declared_at, incident.acknowledged_at)}",
        f"- Time to mitigate: {span(incident.declared_at, mitigated)}",
        f"- Time to resolve: {span(incident.declared_at, incident.resolved_at if resolved else None)}", "",
        "## Time in each status", "",
        *[f"- {status.label}: {duration(spent)}" for status, spent in time_in_status(incident, end).items()], "",
        "## SLA", "",
        *(_sla_lines(incident) or ["_No SLA clocks were recorded._"]), "",
        "## Roles", "",
        *[f"- {role.value.capitalize()}: {who(incident.holder(role))}" for role in Role], "",
        "## Pages and escalations", "",
        *([_page_line(p, who) for p in incident.pages] or ["_Nobody was paged._"]), "",
        "## Root cause", "",
        f"- Category: {incident.root_cause_category or '—'}", "",
        incident.root_cause or "_Not recorded._", "",
        "## Resolution", "",
        incident.resolution or "_Not recorded._", "",
        "## Lessons learned", "",
        incident.lessons_learned or "_Not recorded._", "",
        "## Follow-ups", "",
        *([_follow_up_line(f, who) for f in incident.follow_ups] or ["_None._"]), "",
    ]
    if satisfaction is not None and satisfaction.count:
        lines += ["## How the response went", "",
                  f"Rated {satisfaction.mean:.1f} out of 5 by the {satisfaction.count} "
                  f"{'person' if satisfaction.count == 1 else 'people'} who answered.", ""]
    lines += [
        "## Timeline", "",
        "| time (UTC) | event | by | details |",
        "|---|---|---|---|",
        *[f"| {_at(e.at)} | {e.kind} | {who(e.actor)} | {_cell(e.text)}"
          + (f" ([message]({e.permalink}))" if e.permalink else "") + " |" for e in incident.timeline],
        "",
    ]
    return "\n".join(lines)


def _sla_lines(incident: Incident) -> list[str]:
    lines = []
    for run in incident.clocks:
        verdict = run.verdict()
        target = duration(run.target)
        name = run.clock.label.capitalize()
        if run.clock is SlaClock.UPDATE:
            name += f" (from {_at(run.started_at)})"
        if verdict is None:
            lines.append(f"- {name}: running (target {target})")
        else:
            lines.append(f"- {name}: {verdict[0]} by {duration(verdict[1])} (target {target})")
    return lines


def _page_line(page: PageView, who: Callable[[str | None], str]) -> str:
    by = "Firebell" if page.paged_by is None else who(page.paged_by)
    line = f"- {page.tier} paged {_at(page.paged_at)} by {by}: {page.status}"
    if page.acknowledged_at:
        line += f", acknowledged by {who(page.acknowledged_by)} after {span(page.paged_at, page.acknowledged_at)}"
    if page.escalated_at:
        line += f", escalated after {span(page.paged_at, page.escalated_at)}"
    return line


def _follow_up_line(item: FollowUp, who: Callable[[str | None], str]) -> str:
    owner = who(item.owner) if item.owner else (f"@{item.owner_name}" if item.owner_name else "no owner")
    due = f", due {item.due.isoformat()}" if item.due else ""
    state = "x" if item.done_at else " "
    return f"- [{state}] #{item.id} {item.text} ({owner}{due})"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
