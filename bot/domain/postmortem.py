"""The post-incident report in Markdown: a pure function of the incident and its timeline."""

from __future__ import annotations

from datetime import datetime

from bot.domain.humanize import span
from bot.domain.incident import Incident, Role


def _at(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


def postmortem(incident: Incident) -> str:
    lines = [
        f"# {incident.ref}: {incident.title}",
        "",
        "## Summary",
        "",
        incident.description or "_No description was given._",
        "",
        f"- Status: {incident.status.value}",
        f"- Channel: #{incident.channel_name or '—'}",
        "",
        "## Impact",
        "",
        f"- Severity: {incident.severity.value}",
        f"- Declared: {_at(incident.declared_at)} by {incident.declared_by}",
        f"- Acknowledged: {_at(incident.acknowledged_at)}"
        + (f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""),
        f"- Resolved: {_at(incident.resolved_at)}",
        f"- Time to acknowledge: {span(incident.declared_at, incident.acknowledged_at)}",
        f"- Time to resolve: {span(incident.declared_at, incident.resolved_at)}",
        "",
        "## Roles",
        "",
        *[f"- {role.value.capitalize()}: {incident.holder(role) or '—'}" for role in Role],
        "",
        "## Root cause",
        "",
        f"- Category: {incident.root_cause_category or '—'}",
        "",
        incident.root_cause or "_Not recorded._",
        "",
        "## Resolution",
        "",
        incident.resolution or "_Not recorded._",
        "",
        "## Follow-ups",
        "",
        *([f"- [ ] {item}" for item in incident.follow_ups] or ["_None._"]),
        "",
        "## Timeline",
        "",
        "| time (UTC) | event | by | details |",
        "|---|---|---|---|",
        *[
            f"| {_at(e.at)} | {e.kind} | {e.actor or '—'} | {_cell(e.text)}"
            + (f" ([message]({e.permalink}))" if e.permalink else "") + " |"
            for e in incident.timeline
        ],
        "",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
