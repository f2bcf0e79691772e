"""The incident's everyday Slack work, queued in a change's transaction and carried out from the outbox: the card and
topic made true, posts, invites, file shares; and, when one fails for good, a word in the incident's channel.

Each executor is safe to run again: card edits and invites are idempotent, the card is posted only while the incident
has none, posts and file shares look for an earlier try first (`effects.Attempt`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.incident import Incident
from bot.messages import fix_for
from bot.services import home, incidents
from bot.services.effects import Attempt, Executors, Failure, incident_of_lane
from bot.slack import render
from bot.slack.gateway import SlackCallFailed
from storage import repositories as repo

log = logging.getLogger(__name__)

CARD = "card"
POST_CARD = "post_card"
POST = "post"
TOPIC = "topic"
INVITE = "invite"
UPLOAD = "upload"  # a text file in a channel (queued by earlier versions for the post-incident report)

TOKEN_ERRORS = ("invalid_auth", "not_authed", "token_revoked", "account_inactive")


def register(executors: Executors) -> None:
    executors.register(CARD, update_card, describe="update the incident card")
    executors.register(POST_CARD, post_card, describe="post and pin the incident card")
    executors.register(POST, post, describe="post a message")
    executors.register(TOPIC, set_topic, describe="set the channel topic")
    executors.register(INVITE, invite, describe="invite people to the channel")
    executors.register(UPLOAD, upload, describe="share a file")
    executors.on_gave_up(say_what_failed)


def serialised(blocks: Sequence[Block] | None) -> list[dict] | None:
    return [b.to_dict() for b in blocks] if blocks else None


def publish(
    deps: Deps, session: Session, incident: Incident, *, say: str | None = None,
    say_blocks: Sequence[Block] | None = None, announce: Sequence[Block] | None = None,
    invite: Sequence[str] | None = None, refresh: bool = True,
) -> None:
    """Within the change's transaction: refresh the card, tell the channel (and the broadcast channel, unless the
    incident is private: the broadcast channel never hears a private incident's title or updates)."""
    channel = incident.channel_id
    if channel is None:
        return
    if invite:
        deps.outbox.enqueue(session, incident.id, INVITE, channel=channel, users=list(invite))
    if refresh:
        deps.outbox.enqueue(session, incident.id, CARD, incident_id=incident.id)
    if say:
        deps.outbox.enqueue(session, incident.id, POST, channel=channel, text=say, blocks=serialised(say_blocks))
    if announce and deps.config.broadcast_channel and not incident.private:
        deps.outbox.broadcast(session, incident.id, POST, channel=deps.config.broadcast_channel,
                              text=render.incident_summary(incident), blocks=serialised(announce))


# executors


def update_card(deps: Deps, *, attempt: Attempt, incident_id: int) -> None:
    """Make the card and the topic true: rendered from the database as it is now, so it is never stale."""
    incident = incidents.load_card(deps, incident_id)
    if incident.channel_id is None or incident.card_ts is None:
        return
    deps.slack.update(incident.channel_id, incident.card_ts, render.incident_summary(incident),
                      render.incident_card(incident, deps.clock()))
    deps.slack.set_topic(incident.channel_id, render.channel_topic(incident))
    home.refresh_soon(deps)


def post_card(deps: Deps, *, attempt: Attempt, incident_id: int) -> None:
    incident = incidents.load_card(deps, incident_id)
    assert incident.channel_id is not None
    ts = incident.card_ts or attempt.post(deps.slack, incident.channel_id, render.incident_summary(incident),
                                          render.incident_card(incident, deps.clock()))
    if incident.card_ts is None:
        with deps.db.transaction() as session:
            repo.set_card_ts(session, incident_id, ts)
    deps.slack.pin(incident.channel_id, ts)
    home.refresh_soon(deps)


def post(deps: Deps, *, attempt: Attempt, channel: str, text: str, blocks: list[dict] | None = None) -> None:
    attempt.post(deps.slack, channel, text, blocks)


def set_topic(deps: Deps, *, attempt: Attempt, channel: str, topic: str) -> None:
    deps.slack.set_topic(channel, topic)


def invite(deps: Deps, *, attempt: Attempt, channel: str, users: list[str]) -> None:
    deps.slack.invite(channel, users)


def upload(deps: Deps, *, attempt: Attempt, channel: str, filename: str, title: str, content: str,
           comment: str) -> None:
    attempt.upload(deps.slack, channel, filename, title, content, comment)


def say_what_failed(deps: Deps, failure: Failure) -> None:
    """Tell the incident's channel what did not happen (and where, when it was another channel), unless the token is
    what failed, or the incident's channel itself."""
    incident_id, error = incident_of_lane(failure.lane), failure.error
    if error in TOKEN_ERRORS or incident_id is None:
        return
    elsewhere = failure.payload.get("channel")
    try:
        incident = incidents.load(deps, incident_id)
        here = elsewhere in (None, incident.channel_id)
        if incident.channel_id is None or (here and error in ("channel_not_found", "is_archived")):
            return
        where = "" if here else f"in <#{elsewhere}> "
        deps.slack.post(incident.channel_id, f"⚠️ Firebell could not {failure.what} "
                        f"{where}for {incident.ref}: Slack said `{error}`. {fix_for(error)}")
    except (SlackCallFailed, LookupError) as exc:
        log.error("could not report the failure in the channel: %s", exc)
