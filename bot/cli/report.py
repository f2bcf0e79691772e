"""`firebell report`: MTTA, MTTR and SLA compliance over a period, as a table, JSON, CSV or a chart."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import charts
from bot.cli.common import CommandError, database
from bot.domain import kpi, periods
from bot.domain import report_text as words
from bot.domain.errors import InvalidInput
from bot.domain.incident import Severity
from bot.domain.periods import Period
from bot.services import report_figures as figures

CSV_COLUMNS = ("id", "team_id", "severity", "declared_at", "acknowledged_at", "resolved_at",
               "time_to_acknowledge_seconds", "time_to_resolve_seconds", "ack_sla", "resolve_sla", "update_sla",
               "update_sla_breaches", "reopened", "escalations", "root_cause_category")


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="MTTA, MTTR and SLA compliance of the incidents declared in a period",
        description="MTTA (first acknowledgement - declared), MTTR (final resolve - declared) and SLA compliance "
                    "(met / (met + breached) clock runs) of the incidents declared in a period. "
                    "Default: the last 30 days.")
    when = report.add_mutually_exclusive_group()
    when.add_argument("--since", metavar="7d|30d|90d", help="the last N days (or Nw weeks) up to now; default 30d")
    when.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="the first day (UTC) of a range")
    report.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="the last day (UTC) of the range, included")
    report.add_argument("--severity", metavar="sevN", help="only incidents of this severity (sev1…sev4)")
    report.add_argument("--team", nargs="+", default=[], metavar="T", help="only these Slack team ids")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON object (the figures a machine reads)")
    shape.add_argument("--csv", action="store_true", help="one CSV row per incident")
    report.add_argument("--chart", metavar="FILE.png", type=Path,
                        help="also write the weekly MTTA/MTTR and SLA compliance chart as a PNG")
    report.set_defaults(run=run_report)


def period_of(args: argparse.Namespace) -> Period:
    now = datetime.now(UTC)
    try:
        if args.start:
            return periods.between(args.start, args.end, now)
        if args.end:
            raise InvalidInput("--to", "--to needs --from (the first day of the range), e.g. "
                                       "--from 2026-11-01 --to 2026-11-30")
        return periods.last(args.since or "30d", now)
    except InvalidInput as exc:
        raise CommandError(exc.message) from None


def severity_of(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return Severity(text.strip().lower()).value
    except ValueError:
        raise CommandError(f"--severity {text!r} is not a severity; write sev1, sev2, sev3 or sev4") from None


def run_report(args: argparse.Namespace) -> int:
    period, severity = period_of(args), severity_of(args.severity)
    if args.chart is not None and args.chart.suffix.lower() != ".png":
        raise CommandError(f"--chart {args.chart} must name a .png file")
    db = database()
    try:
        with db.read() as session:
            rows = figures.records(session, period, period.until, teams=args.team, severity=severity) if args.csv \
                else None
            report = figures.build(session, period, period.until, teams=args.team, severity=severity) \
                if rows is None or args.chart is not None else None
            changes = figures.changes(session, period.since, period.until)
    finally:
        db.dispose()
    if rows is not None:
        write_csv(rows)
    elif report is not None:
        if args.json:
            json.dump({**kpi.to_json(report), **changes}, sys.stdout, indent=2)
            print()
        else:
            print(table(report, period, severity, args.team, changes))
    if args.chart is not None and report is not None:
        args.chart.write_bytes(charts.weekly_chart(report, title=f"Incidents, {period.label}"))
        print(f"chart written to {args.chart}", file=sys.stderr)
    sys.stdout.flush()
    return 0


def write_csv(records: list[kpi.IncidentRecord]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CSV_COLUMNS)
    for r in records:
        tta, ttr = r.time_to_acknowledge, r.time_to_resolve
        out.writerow([
            r.ref, r.team_id, r.severity, r.declared_at.isoformat(),
            r.acknowledged_at.isoformat() if r.acknowledged_at else "",
            r.resolved_at.isoformat() if r.resolved_at else "",
            "" if tta is None else round(tta), "" if ttr is None else round(ttr),
            r.outcome("ack") or "", r.outcome("resolve") or "", r.outcome("update") or "",
            sum(1 for c in r.clocks if c.clock == "update" and c.outcome == kpi.BREACHED),
            "yes" if r.reopened else "no", r.escalations, r.root_cause_category or ""])


def table(report: kpi.Report, period: Period, severity: str | None, teams: list[str],
          changes: dict[str, Any] | None = None) -> str:
    """The report as a person reads it in a terminal."""
    scope = "".join([f", {severity.upper()} only" if severity else "", f", teams {' '.join(teams)}" if teams else ""])
    lines = [f"Incidents declared {period.since:%Y-%m-%d %H:%M} – {period.until:%Y-%m-%d %H:%M} UTC "
             f"({period.label}{scope})", ""]
    if report.empty:
        lines.append("No incidents were declared in this period.")
        return "\n".join(lines)
    lines += [f"  {report.incidents} declared, {report.resolved} resolved, {report.open} open, "
              f"{report.reopened} reopened, {report.escalations} escalations", "",
              f"  MTTA  {words.figure(report.mtta)}", f"  MTTR  {words.figure(report.mttr)}", "", "  SLA compliance"]
    lines += [f"    {words.CLOCK_NAMES[clock]:<20} {words.compliance(result)}" for clock, result in report.sla.items()]
    lines += ["", f"  {'severity':<10}{'incidents':>10}  {'MTTA median':>12}  {'MTTR median':>12}"]
    lines += [f"  {sev.upper():<10}{figures.incidents:>10}  {words.seconds(figures.mtta.median):>12}  "
              f"{words.seconds(figures.mttr.median):>12}" for sev, figures in report.by_severity.items()]
    if changes and changes.get("changes"):
        rate = changes.get("change_failure_rate")
        lines += ["", f"  changes: {changes['changes']} recorded, {changes['changes_linked']} linked to an incident "
                      f"(change failure rate {words.percent(rate)})"]
    rated = report.satisfaction
    if rated.count:
        lines += ["", f"  satisfaction: {rated.mean:.2f} of 5 from {rated.count} answers ("
                      + ", ".join(f"{score}: {n}" for score, n in rated.distribution.items()) + ")"]
    if report.by_root_cause_category:
        lines += ["", "  root causes: " + ", ".join(f"{name} {count}"
                                                     for name, count in report.by_root_cause_category.items())]
    lines += ["", f"  {'week of':<12}{'declared':>9}{'resolved':>9}  {'MTTA median':>12}  {'MTTR median':>12}  "
                  f"{'SLA met':>8}"]
    lines += [f"  {w.start.isoformat():<12}{w.declared:>9}{w.resolved:>9}  {words.seconds(w.mtta_median):>12}  "
              f"{words.seconds(w.mttr_median):>12}  {words.percent(w.sla_compliance):>8}" for w in report.weekly]
    lines += ["", "  MTTA = first acknowledgement - declared; MTTR = final resolve - declared (wall clock);",
              "  p90 interpolates between the closest ranks; SLA outcomes are the recorded clock runs."]
    return "\n".join(lines)
