"""The pinned incident card and the messages a change implies, sent after the change is committed.

Effects for one incident run in order (Background keys them by incident), and the card is always
rendered from the incident as it is in the database when the edit goes out, so it cannot go stale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.domain.model import Incident
from bot.slack import render
from storage import repositories as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    filename: str
    title: str
    content: str
    comment: str


def post_card(deps: Deps, incident: Incident) -> str:
    assert incident.channel_id is not None
    blocks = render.incident_card(incident, deps.clock())
    ts = deps.slack.post(incident.channel_id, render.incident_summary(incident), blocks)
    with deps.db.transaction() as session:
        repo.incident_row(session, incident.id).card_ts = ts
    return ts


def load(deps: Deps, incident_id: int) -> Incident:
    with deps.db.read() as session:
        return repo.to_domain(repo.incident_row(session, incident_id))


def refresh_card(deps: Deps, incident: Incident) -> None:
    """Make the card and the topic true again after a change."""
    if incident.channel_id is None or incident.card_ts is None:
        return
    deps.slack.update(incident.channel_id, incident.card_ts, render.incident_summary(incident),
                      render.incident_card(incident, deps.clock()))
    deps.slack.set_topic(incident.channel_id, render.channel_topic(incident))


def publish(
    deps: Deps, incident: Incident, *, say: str | None = None, say_blocks: list[Block] | None = None,
    announce: list[Block] | None = None, invite: list[str] | None = None, refresh: bool = True,
    upload: Upload | None = None,
) -> None:
    """After a committed change: refresh the card, then tell the channel (and the broadcast channel)."""

    def work() -> None:
        current = load(deps, incident.id)
        channel = current.channel_id
        if channel is None:
            return
        if invite:
            deps.slack.invite(channel, invite)
        if refresh:
            refresh_card(deps, current)
        if say:
            deps.slack.post(channel, say, say_blocks)
        if announce and deps.config.broadcast_channel:
            deps.slack.post(deps.config.broadcast_channel, render.incident_summary(current), announce)
        if upload:
            deps.slack.upload(channel, upload.filename, upload.content, title=upload.title, comment=upload.comment)

    deps.background.submit(work, key=("incident", incident.id))
