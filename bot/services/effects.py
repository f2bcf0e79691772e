"""The Slack work a change implies, as data: enqueued in the change's transaction, delivered by bot/delivery.py.

Each kind has an executor that is safe to run again after a failure: card edits and invites are idempotent, the
card is posted only while the incident has none, a page DM goes only to people not yet reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.model import Incident
from bot.slack import render
from bot.slack.gateway import Blocks, SlackCallFailed, will_heal
from storage import outbox
from storage import repositories as repo

log = logging.getLogger(__name__)
T = TypeVar("T")


def lane(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _blocks(blocks: Sequence[Block] | None) -> list[dict] | None:
    return [b.to_dict() for b in blocks] if blocks else None


def enqueue(deps: Deps, session: Session, for_incident: int, kind: str, /, **payload: Any) -> None:
    """Queue ``kind`` in the lane of incident ``for_incident`` (its items are delivered in order)."""
    outbox.enqueue(session, lane(for_incident), kind, payload, outbox.now())


def publish(
    deps: Deps, session: Session, incident: Incident, *, say: str | None = None,
    say_blocks: Sequence[Block] | None = None, announce: Sequence[Block] | None = None,
    invite: Sequence[str] | None = None, refresh: bool = True, upload: dict[str, str] | None = None,
) -> None:
    """Within the change's transaction: refresh the card, tell the channel (and the broadcast channel)."""
    channel = incident.channel_id
    if channel is None:
        return
    if invite:
        enqueue(deps, session, incident.id, "invite", channel=channel, users=list(invite))
    if refresh:
        enqueue(deps, session, incident.id, "card", incident_id=incident.id)
    if say:
        enqueue(deps, session, incident.id, "post", channel=channel, text=say, blocks=_blocks(say_blocks))
    if announce and deps.config.broadcast_channel:
        enqueue(deps, session, incident.id, "post", channel=deps.config.broadcast_channel,
                text=render.incident_summary(incident), blocks=_blocks(announce))
    if upload:
        enqueue(deps, session, incident.id, "upload", channel=channel, **upload)


# executors


def load(deps: Deps, incident_id: int) -> Incident:
    with deps.db.read() as session:
        return repo.to_domain(repo.incident_row(session, incident_id))


def load_card(deps: Deps, incident_id: int) -> Incident:
    with deps.db.read() as session:
        return repo.card_view(session, incident_id)


def _card(deps: Deps, incident_id: int) -> None:
    """Make the card and the topic true: rendered from the database as it is now, so it is never stale."""
    incident = load_card(deps, incident_id)
    if incident.channel_id is None or incident.card_ts is None:
        return
    deps.slack.update(incident.channel_id, incident.card_ts, render.incident_summary(incident),
                      render.incident_card(incident, deps.clock()))
    deps.slack.set_topic(incident.channel_id, render.channel_topic(incident))


def _post_card(deps: Deps, incident_id: int, *, attempt: Attempt) -> None:
    incident = load_card(deps, incident_id)
    assert incident.channel_id is not None
    ts = incident.card_ts or attempt.post(deps, incident.channel_id, render.incident_summary(incident),
                                          render.incident_card(incident, deps.clock()))
    if incident.card_ts is None:
        with deps.db.transaction() as session:
            repo.set_card_ts(session, incident_id, ts)
    deps.slack.pin(incident.channel_id, ts)


SKEW = 60.0  # seconds: how far Slack's clock (message ts) and ours may disagree


@dataclass(frozen=True)
class Attempt:
    """Which outbox item is being delivered, and whether an earlier try may have reached Slack unseen (its answer
    timed out, or its process died). Every post and DM carries the item's marker (and the step's, when an item
    posts several times) in its metadata; after such a try, each looks for its marker before posting again."""

    item_id: int
    created_at: datetime
    unsure: bool = False

    def marker(self, step: str = "") -> str:
        return f"outbox-{self.item_id}" + (f"-{step}" if step else "")

    @property
    def since(self) -> float:
        return self.created_at.timestamp() - SKEW

    def post(self, deps: Deps, channel: str, text: str, blocks: Blocks = None, *, step: str = "") -> str:
        """Post once; returns the message ts (of the earlier try's message, when it got through)."""
        marker = self.marker(step)
        if self.unsure and (ts := _look(marker, lambda: deps.slack.find_marked(channel, marker, since=self.since))):
            return ts
        return deps.slack.post(channel, text, blocks, marker=marker)

    def dm(self, deps: Deps, user_id: str, text: str, blocks: Blocks = None, *, step: str) -> tuple[str, str]:
        """DM a person once; returns the DM conversation and the message ts."""
        marker = self.marker(step)
        if self.unsure:
            def look() -> tuple[str, str] | None:
                channel = deps.slack.open_dm(user_id)
                ts = deps.slack.find_marked(channel, marker, since=self.since)
                return (channel, ts) if ts else None

            if found := _look(marker, look):
                return found
        return deps.slack.dm(user_id, text, blocks, marker=marker)

    def upload(self, deps: Deps, channel: str, filename: str, title: str, content: str, comment: str) -> None:
        """Share a file once (a file share carries no metadata: the earlier try is found by name and title)."""
        marker = self.marker()
        if self.unsure and _look(marker, lambda: deps.slack.find_shared_file(channel, filename, title,
                                                                              since=self.since)):
            return
        deps.slack.upload(channel, filename, content, title=title, comment=comment)


def _look(marker: str, look: Callable[[], T]) -> T | None:
    """Look for what an earlier try sent. A lookup that may work later is retried with the item; one that cannot
    work (no history scope on an old install, a channel Firebell cannot read) sends again rather than lose it."""
    try:
        return look()
    except SlackCallFailed as exc:
        if will_heal(exc.error):
            raise
        log.warning("cannot tell whether %s got through (%s): sending it (again?)", marker, exc.error)
        return None


def _paging(name: str) -> Callable[..., None]:
    def run(deps: Deps, *, attempt: Attempt, **payload: Any) -> None:
        from bot.services import paging  # paging enqueues effects too

        getattr(paging, name)(deps, attempt=attempt, **payload)

    return run


def _declare(deps: Deps, *, attempt: Attempt, request: dict[str, Any], response_url: str | None) -> None:
    from bot.services import declare  # a declare enqueues effects too

    declare.carry_out(deps, attempt, request, response_url)


EXECUTORS: dict[str, Callable[..., None]] = {
    "card": lambda deps, incident_id, attempt: _card(deps, incident_id),
    "post_card": lambda deps, incident_id, attempt: _post_card(deps, incident_id, attempt=attempt),
    "post": lambda deps, channel, text, attempt, blocks=None: attempt.post(deps, channel, text, blocks),
    "topic": lambda deps, channel, topic, attempt: deps.slack.set_topic(channel, topic),
    "invite": lambda deps, channel, users, attempt: deps.slack.invite(channel, users),
    "upload": lambda deps, attempt, **file: attempt.upload(deps, **file),
    "page_notify": _paging("notify_page"),
    "page_renotify": _paging("renotify_page"),
    "page_acknowledged": _paging("tell_acknowledged"),
    "external": _paging("tell_external"),
    "declare": _declare,
}

DESCRIBE = {
    "card": "update the incident card", "post_card": "post and pin the incident card", "post": "post a message",
    "topic": "set the channel topic", "invite": "invite people to the channel", "upload": "share a file",
    "declare": "declare the incident",
    "page_notify": "send a page", "page_renotify": "re-send a page", "page_acknowledged": "update the page DMs",
    "external": "reach the external pager",
}


def execute(deps: Deps, kind: str, payload: dict[str, Any], attempt: Attempt | None = None) -> None:
    EXECUTORS[kind](deps, attempt=attempt or Attempt(0, outbox.now()), **payload)
