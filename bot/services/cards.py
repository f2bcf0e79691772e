"""The pinned incident card: posted once, then edited in place on every change."""

from __future__ import annotations

from bot.deps import Deps
from bot.domain.model import Incident
from bot.slack import render
from storage import repositories as repo


def post_card(deps: Deps, incident: Incident) -> str:
    assert incident.channel_id is not None
    ts = deps.slack.post(incident.channel_id, render.incident_summary(incident), render.incident_card(incident))
    with deps.db.transaction() as session:
        repo.incident_row(session, incident.id).card_ts = ts
    deps.slack.pin(incident.channel_id, ts)
    return ts


def refresh_card(deps: Deps, incident: Incident) -> None:
    """Make the card and the topic true again after a change."""
    if incident.channel_id is None or incident.card_ts is None:
        return
    deps.slack.update(incident.channel_id, incident.card_ts, render.incident_summary(incident),
                      render.incident_card(incident))
    deps.slack.set_topic(incident.channel_id, render.channel_topic(incident))
