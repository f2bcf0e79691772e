"""The outbox as a mechanism: the Slack work a change implies, written as data in the change's own transaction and
carried out later by the executor registered for its kind (bot/delivery.py delivers; bot/runtime.py registers).

It knows nothing of the use cases. Each kind's executor is registered at assembly (``Executors.register``), so every
executor is reached by an ordinary reference. An executor must be safe to run again after a failure: `Attempt` helps
with what is not idempotent by itself (a post, a DM, a file share).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.slack.gateway import Blocks, SlackCallFailed, SlackGateway, will_heal
from storage import outbox as outbox_rows

log = logging.getLogger(__name__)
T = TypeVar("T")

SKEW = 60.0  # seconds: how far Slack's clock (message ts) and ours may disagree

Executor = Callable[..., None]  # executor(deps, *, attempt: Attempt, **payload)


@dataclass(frozen=True)
class Failure:
    """An outbox item that failed for good."""

    lane: str
    kind: str
    payload: dict[str, Any]
    error: str  # Slack's error code (or what else went wrong)
    what: str  # what the item was to do: "post a message"


GaveUp = Callable[[Any, Failure], None]  # gave_up(deps, failure): a kind's last word when its item fails for good


@dataclass(frozen=True)
class Queued:
    """An item for `Outbox.enqueue_items`: ``kind`` with ``payload``, in ``lane``."""
    lane: str
    kind: str
    payload: dict[str, Any]


def incident_lane(incident_id: int) -> str:
    """An incident's items are delivered one at a time, in order."""
    return f"incident:{incident_id}"


def broadcast_lane(incident_id: int) -> str:
    """An incident's posts to the broadcast channel, one at a time, in order, beside its own lane: when Slack's
    limit on the broadcast channel (shared by every incident) holds them, the incident's channel and card go on."""
    return f"incident:{incident_id}:broadcast"


def incident_of_lane(lane: str) -> int | None:
    head, _, rest = lane.partition(":")
    number = rest.removesuffix(":broadcast")
    return int(number) if head == "incident" and number.isdigit() else None


class Outbox:
    """What use cases write Slack work into: inside their transaction, never calling Slack themselves."""

    def __init__(self) -> None:
        self._wake: Callable[[], None] = lambda: None

    def enqueue(self, session: Session, incident_id: int, kind: str, /, **payload: Any) -> None:
        """Queue ``kind`` in incident ``incident_id``'s lane (its items are delivered in order)."""
        self.enqueue_in(session, incident_lane(incident_id), kind, payload)

    def broadcast(self, session: Session, incident_id: int, kind: str, /, **payload: Any) -> None:
        """Queue ``kind`` in incident ``incident_id``'s broadcast lane (`broadcast_lane`)."""
        self.enqueue_in(session, broadcast_lane(incident_id), kind, payload)

    def enqueue_in(self, session: Session, lane: str, kind: str, payload: dict[str, Any], *,
                   wake: bool = True) -> None:
        outbox_rows.enqueue(session, lane, kind, payload, outbox_rows.now(), wake=wake)

    def enqueue_items(self, session: Session, items: list[Queued]) -> None:
        """Each item in its lane, in that order, written in one statement."""
        outbox_rows.enqueue_items(session, [(item.lane, item.kind, item.payload) for item in items],
                                  outbox_rows.now())

    def enqueue_all_in(self, session: Session, lane: str, kind: str, payloads: list[dict[str, Any]], *,
                       wake: bool = True) -> None:
        """One item of ``kind`` per payload, in that order, in ``lane``."""
        outbox_rows.enqueue_all(session, lane, kind, payloads, outbox_rows.now(), wake=wake)

    def wake(self) -> None:
        """Tell the delivery there is new work (after the transaction that queued it committed)."""
        self._wake()

    def deliver_with(self, wake: Callable[[], None]) -> None:
        self._wake = wake


@dataclass(frozen=True)
class Kind:
    executor: Executor
    describe: str  # what it does, for "Firebell could not <describe>": "post a message"
    gave_up: GaveUp | None = None  # None: the default, registered with `Executors.on_gave_up`


class Executors:
    """Which executor carries out each kind of outbox item."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._default_gave_up: GaveUp | None = None

    def register(self, kind: str, executor: Executor, *, describe: str, gave_up: GaveUp | None = None) -> None:
        if kind in self._kinds:
            raise ValueError(f"outbox kind {kind!r} is registered twice")
        self._kinds[kind] = Kind(executor, describe, gave_up)

    def on_gave_up(self, gave_up: GaveUp) -> None:
        """What to do for kinds without their own ``gave_up`` (say it in the incident's channel)."""
        self._default_gave_up = gave_up

    def run(self, deps: object, kind: str, payload: dict[str, Any], attempt: Attempt) -> None:
        self._kinds[kind].executor(deps, attempt=attempt, **payload)

    def describe(self, kind: str) -> str:
        found = self._kinds.get(kind)
        return found.describe if found else kind

    def gave_up(self, deps: object, lane: str, kind: str, payload: dict[str, Any], error: str) -> None:
        found = self._kinds.get(kind)
        handler = found.gave_up if found and found.gave_up else self._default_gave_up
        if handler is not None:
            handler(deps, Failure(lane, kind, payload, error, self.describe(kind)))


class NotYet(Exception):
    """An executor's item should wait (nothing was done): come back in ``wait`` seconds. The outbox puts it back
    untried, as for a turn by Slack's limits, and delivers other lanes meanwhile."""

    def __init__(self, why: str, wait: float) -> None:
        super().__init__(f"{why}: again in {wait:.2f} s")
        self.why = why
        self.wait = wait


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

    def post(self, slack: SlackGateway, channel: str, text: str, blocks: Blocks = None, *, step: str = "") -> str:
        """Post once; returns the message ts (of the earlier try's message, when it got through)."""
        marker = self.marker(step)
        if self.unsure and (ts := _find_earlier_try(
                marker, lambda: slack.find_marked(channel, marker, since=self.since))):
            return ts
        return slack.post(channel, text, blocks, marker=marker)

    def dm(self, slack: SlackGateway, user_id: str, text: str, blocks: Blocks = None, *,
           step: str) -> tuple[str, str]:
        """DM a person once; returns the DM conversation and the message ts."""
        marker = self.marker(step)
        if self.unsure:
            def look() -> tuple[str, str] | None:
                channel = slack.open_dm(user_id)
                ts = slack.find_marked(channel, marker, since=self.since)
                return (channel, ts) if ts else None

            if found := _find_earlier_try(marker, look):
                return found
        return slack.dm(user_id, text, blocks, marker=marker)

    def upload(self, slack: SlackGateway, channel: str, filename: str, title: str, content: str | bytes,
               comment: str) -> None:
        """Share a file once (a file share carries no metadata: the earlier try is found by name and title)."""
        marker = self.marker()
        if self.unsure and _find_earlier_try(marker, lambda: slack.find_shared_file(channel, filename, title,
                                                                                     since=self.since)):
            return
        slack.upload(channel, filename, content, title=title, comment=comment)


def _find_earlier_try(marker: str, look: Callable[[], T]) -> T | None:
    """Look for what an earlier try sent. A lookup that may work later is retried with the item; one that cannot
    work (no history scope on an old install, a channel Firebell cannot read) sends again rather than lose it."""
    try:
        return look()
    except SlackCallFailed as exc:
        if will_heal(exc.error):
            raise
        log.warning("cannot tell whether %s got through (%s): sending it (again?)", marker, exc.error)
        return None
