"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no display): what a support lead pastes into a review."""

from __future__ import annotations

import io

from bot.domain.kpi import Report


def weekly_chart(report: Report, *, title: str) -> bytes:
    """Two panels over the report's weeks: median time to acknowledge and to resolve (minutes), and SLA compliance
    (percent of clock runs met). Weeks with nothing to measure are gaps, not zeros.

    matplotlib is imported here, on the first chart: it takes most of a second, which `firebell report --json` and
    the served app's start should not pay. ``Figure`` draws without pyplot's global state, on the Agg canvas."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter
    weeks = [w.start for w in report.weekly]
    labels = [f"{d:%d %b}" for d in weeks]
    positions = list(range(len(weeks)))
    figure = Figure(figsize=(9, 6.5), dpi=110, layout="constrained")
    figure.suptitle(title, fontsize=14, fontweight="bold")
    times, sla = figure.subplots(2, 1, sharex=True)

    measured = [v for w in report.weekly for v in (w.mtta_median, w.mttr_median) if v is not None]
    unit, per = ("hours", 3600.0) if measured and max(measured) >= 3 * 3600 else ("minutes", 60.0)

    def scaled(value: float | None) -> float:
        return float("nan") if value is None else value / per

    times.plot(positions, [scaled(w.mtta_median) for w in report.weekly], marker="o", color="#1f77b4",
               label="MTTA (median time to acknowledge)")
    times.plot(positions, [scaled(w.mttr_median) for w in report.weekly], marker="s", color="#d62728",
               label="MTTR (median time to resolve)")
    times.set_ylabel(unit)
    times.set_ylim(0, (max(measured) / per) * 1.25 if measured else 1)
    times.set_xlim(-0.5, len(weeks) - 0.5)
    times.set_title("Weekly median MTTA and MTTR", fontsize=11, loc="left")
    times.grid(True, alpha=0.3)
    times.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncols=2, fontsize=9, frameon=False)

    compliance = [float("nan") if w.sla_compliance is None else w.sla_compliance * 100 for w in report.weekly]
    bars = sla.bar(positions, [0 if c != c else c for c in compliance], color="#2ca02c", width=0.6)
    for bar, value, week in zip(bars, compliance, report.weekly, strict=True):
        middle = bar.get_x() + bar.get_width() / 2
        if value != value:  # nothing judged that week
            sla.annotate(f"no data\n{week.declared} declared", (middle, 0), ha="center", va="bottom", fontsize=7,
                         color="#555", xytext=(0, 3), textcoords="offset points")
            continue
        sla.annotate(f"{value:.0f}%", (middle, bar.get_height()), ha="center", va="bottom", fontsize=8,
                     xytext=(0, 2), textcoords="offset points")
        sla.annotate(str(week.declared) if len(weeks) > 6 else f"{week.declared} declared", (middle, 0),
                     ha="center", va="bottom", fontsize=7, color="white" if value > 20 else "#555",
                     xytext=(0, 3), textcoords="offset points")
    sla.set_ylim(0, 110)
    sla.yaxis.set_major_formatter(PercentFormatter())
    sla.set_ylabel("SLA clock runs met")
    foot = "; at the foot of each bar: incidents declared" if len(weeks) > 6 else ""
    sla.set_title("Weekly SLA compliance (ack, resolve and update clocks)" + foot, fontsize=11, loc="left")
    sla.grid(True, axis="y", alpha=0.3)
    sla.set_xticks(positions, labels, rotation=45 if len(weeks) > 8 else 0, ha="right" if len(weeks) > 8 else "center")
    sla.set_xlabel("week starting (UTC)")

    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
