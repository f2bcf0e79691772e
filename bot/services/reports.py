"""Reports for the people who answer for the service: MTTA, MTTR and SLA compliance over a period, from the shell
(`firebell report`) and from Slack (`/incident report`: the headline figures at once, the chart by DM after).

The arithmetic is ``bot.domain.kpi``; the rows come from ``storage.reports`` as plain columns, so a report over a
database of years reads only its period's incidents and never builds ORM objects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import charts
from bot.deps import Deps
from bot.domain import kpi, periods
from bot.domain.errors import InvalidInput
from bot.domain.periods import Period
from bot.services.effects import Attempt, Executors
from bot.services.report_figures import build
from bot.slack import report_blocks
from storage import outbox as outbox_rows

CHART_DM = "report chart"  # outbox kind: make the report's chart and send it to the person who asked, by DM
SLACK_PERIODS = ("7d", "30d", "90d")
DEFAULT_SLACK_PERIOD = "30d"
CHART_EVERY = timedelta(minutes=1)  # at most one chart DM per person in this time


def register(executors: Executors) -> None:
    executors.register(CHART_DM, send_chart, describe="send the report's chart")


def slack_period(text: str, now: datetime) -> Period:
    """`/incident report [7d|30d|90d]`."""
    text = text.strip() or DEFAULT_SLACK_PERIOD
    if text.lower() not in SLACK_PERIODS:
        raise InvalidInput("period", f"`{text}` is not a report period; write `/incident report 7d`, "
                                             "`/incident report 30d` (the default) or `/incident report 90d`.")
    return periods.last(text, now, option="period")


def headline(deps: Deps, user_id: str, text: str) -> tuple[str, list[dict[str, Any]]]:
    """`/incident report`: the team's figures for the period as the answer (fallback text, blocks), at once; its
    chart is queued for the asker's DM (drawn after the answer, in the outbox: a slow chart never delays Slack's 3
    seconds). The answer is kept rendered a second between changes, like the open list (many may ask at once); a
    person who asks again within a minute gets the figures, not one more chart in their DM."""
    slack_period(text, deps.clock())  # a wrong period is answered before anything is read
    key = text.strip().lower() or DEFAULT_SLACK_PERIOD

    def read() -> tuple[Period, bool, str, list[dict[str, Any]]]:
        now = deps.clock()
        period = slack_period(text, now)
        with deps.db.read() as session:
            report = build(session, period, now, teams=(deps.team_id,))
        answer, blocks = report_blocks.headline(report, period)
        return period, report.empty, answer, [block.to_dict() for block in blocks]

    period, empty, answer, blocks = deps.cache.get(("report", deps.team_id, key), read)
    if not empty and deps.recent_asks.first(("report chart", user_id, key), CHART_EVERY):
        queue_chart(deps, user_id, period)
    return answer, blocks


def queue_chart(deps: Deps, user_id: str, period: Period) -> None:
    """Once a minute per person across replicas too: an item queued for them lately (by any replica) is enough."""
    lane = f"report:{user_id}"
    with deps.db.read() as session:
        if outbox_rows.queued_since(session, lane, CHART_DM, outbox_rows.now() - CHART_EVERY):
            return
    with deps.db.transaction() as session:
        deps.outbox.enqueue_in(session, lane, CHART_DM, {
            "user_id": user_id, "since": period.since.isoformat(), "until": period.until.isoformat(),
            "label": period.label})
    deps.outbox.wake()


def send_chart(deps: Deps, *, attempt: Attempt, user_id: str, since: str, until: str, label: str) -> None:
    """Outbox executor: the chart of the period the person asked for, as a PNG in their DM, once. A chart of the
    same period drawn less than a minute ago is sent again rather than drawn again (drawing takes a few hundred
    milliseconds of CPU, which a burst of requests would take from everyone else)."""
    period = Period(datetime.fromisoformat(since), datetime.fromisoformat(until), label)

    def draw() -> tuple[kpi.Report, bytes]:
        with deps.db.read() as session:
            report = build(session, period, period.until, teams=(deps.team_id,))
        return report, charts.weekly_chart(report, title=f"Incidents, {label}")

    report, picture = deps.charts.get(("report chart", deps.team_id, label), draw)
    channel = deps.slack.open_dm(user_id)
    attempt.upload(deps.slack, channel, f"firebell-report-{period.until:%Y%m%d-%H%M%S}.png",
                   f"Incident report: {label}", picture, report_blocks.chart_comment(report, period))
