"""The App Home dashboard: published when a person opens the tab, and again for everyone who opened it lately when
an incident changes (after each card update: whatever changes a card changes the dashboards too). Refreshes are
coalesced, a round a second at most (`Deps.home_refresh`): a burst of changes costs one round of `views.publish`,
and a failed publish is logged, never retried (the next change or the next opening publishes again)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from bot.deps import Deps
from bot.domain import kpi, periods
from bot.domain.incident import Incident
from bot.services import report_figures, visibility
from bot.slack import home as render
from bot.slack.gateway import SlackCallFailed
from storage import home as viewers
from storage import repositories as repo

log = logging.getLogger(__name__)

LATELY = timedelta(days=1)  # who opened the home within this is refreshed on a change
MAX_VIEWERS = 200  # refreshed per change, the most recent first (views.publish is Tier 4: 100+ a minute)
OPEN_LIMIT = 500  # open incidents read for the dashboard (it lists the most severe; it counts them all)


def opened(deps: Deps, user_id: str) -> None:
    """`app_home_opened`: remember who looks, and show them the dashboard as it is now."""
    with deps.db.transaction() as session:
        viewers.record_viewer(session, deps.team_id, user_id, deps.clock())
    publish(deps, [user_id])


def refresh_soon(deps: Deps) -> None:
    """An incident changed: refresh the dashboards of the people who opened theirs lately (coalesced, spaced)."""
    deps.home_refresh.request(deps.background, lambda: refresh_viewers(deps))


def refresh_viewers(deps: Deps) -> None:
    with deps.db.read() as session:
        recent = viewers.recent_viewers(session, deps.team_id, deps.clock() - LATELY, MAX_VIEWERS)
    if recent:
        publish(deps, recent)


def publish(deps: Deps, user_ids: Sequence[str]) -> None:
    incidents = _open_incidents(deps)
    figures = _last_30_days(deps)
    for user_id in user_ids:
        try:
            shown = visibility.visible_to(deps, user_id, incidents)  # private incidents only for their members
            deps.slack.publish_home(user_id, render.home_view(shown, user_id, figures))
        except SlackCallFailed as exc:
            log.warning("could not publish the App Home of %s: %s", user_id, exc.error)


def _open_incidents(deps: Deps) -> list[Incident]:
    def read() -> list[Incident]:
        with deps.db.read() as session:
            return repo.open_incidents(session, deps.team_id, limit=OPEN_LIMIT)

    return deps.cache.get(("home incidents", deps.team_id), read)


def _last_30_days(deps: Deps) -> kpi.Report:
    def read() -> kpi.Report:
        now = deps.clock()
        with deps.db.read() as session:
            return report_figures.build(session, periods.last("30d", now), now, teams=(deps.team_id,))

    return deps.cache.get(("home figures", deps.team_id), read)
