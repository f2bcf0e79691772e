"""Who may be shown a private incident: the members of its channel, as Slack says now.

A private incident's channel is private; its members are the people who may see it (the reporter, whoever was
invited or paged, whoever its members added). Slack holds that list, so it is asked (``conversations.members``), not
copied: someone removed from the channel stops seeing the incident at once, within the second the answer is kept.
When Slack cannot be asked, or does not answer within 1.5 s (the person's answer is due within Slack's 3 s), the
incident is hidden (never shown by mistake).

Public incidents are shown to everyone; nothing is asked of Slack for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from bot.deps import Deps
from bot.domain.errors import NotAllowed
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger(__name__)

ASK_WITHIN = 1.5  # seconds the members of private incidents' channels are waited for (Slack wants its answer in 3)
MAX_ASKING = 8  # Slack calls at once


class Visible(Protocol):
    """What deciding needs of an incident (an Incident, or a search hit's FoundIncident)."""

    @property
    def private(self) -> bool: ...

    @property
    def channel_id(self) -> str | None: ...


V = TypeVar("V", bound=Visible)


def members(deps: Deps, channel_id: str) -> frozenset[str]:
    """The channel's members, kept a second between changes (many ask at once); empty when Slack cannot say."""
    def ask() -> frozenset[str]:
        try:
            return deps.slack.channel_members(channel_id)
        except SlackCallFailed as exc:
            log.warning("could not read who is in %s (%s): its private incident is hidden", channel_id, exc.error)
            return frozenset()
    return deps.cache.get(("members", channel_id), ask)


def can_see(deps: Deps, viewer: str, incident: Visible) -> bool:
    """A public incident: yes. A private one: when ``viewer`` is a member of its channel."""
    return not incident.private or bool(visible_to(deps, viewer, [incident]))


def visible_to(deps: Deps, viewer: str, incidents: Iterable[V], *, within: float = ASK_WITHIN) -> list[V]:
    """The incidents ``viewer`` may be shown, in their order: for `/incident list`, search, the add-to-timeline
    picker, problems and App Home. One Slack call per private incident's channel, all at once (each answer kept a
    second); none for public ones. The answer to Slack cannot wait long: a channel Slack has not told about within
    ``within`` seconds (slow, rate limited) has its incident hidden this time."""
    incidents = list(incidents)
    channels = sorted({i.channel_id for i in incidents if i.private and i.channel_id is not None})
    known = _members_of(deps, channels, within) if channels else {}
    return [i for i in incidents if not i.private or (i.channel_id in known and viewer in known[i.channel_id])]


def _members_of(deps: Deps, channels: Sequence[str], within: float) -> dict[str, frozenset[str]]:
    pool = ThreadPoolExecutor(max_workers=min(len(channels), MAX_ASKING), thread_name_prefix="firebell-members")
    try:
        asked = {channel: pool.submit(members, deps, channel) for channel in channels}
        done, _ = wait(asked.values(), timeout=within)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a call under way ends by itself; it is not waited for
    return {channel: future.result() for channel, future in asked.items() if future in done}


def any_private(incidents: Sequence[Visible]) -> bool:
    return any(incident.private for incident in incidents)


def check_can_see(deps: Deps, viewer: str, incident: Visible, ref: str) -> None:
    """Raise NotAllowed for a private incident named by someone not in its channel (without saying what it is)."""
    if not can_see(deps, viewer, incident):
        raise NotAllowed(f"{ref} is a private incident: only the members of its channel can see it or act on it. "
                         "Ask its commander to add you.")
