"""Who may be shown a private incident: the members of its channel, as Slack says now.

A private incident's channel is private; its members are the people who may see it (the reporter, whoever was
invited or paged, whoever its members added). Slack holds that list, so it is asked (``conversations.members``), not
copied: someone removed from the channel stops seeing the incident at once, within the second the answer is kept.
When Slack cannot be asked, the incident is hidden (never shown by mistake).

Public incidents are shown to everyone; nothing is asked of Slack for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from bot.deps import Deps
from bot.domain.errors import NotAllowed
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger(__name__)


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
    if not incident.private:
        return True
    return incident.channel_id is not None and viewer in members(deps, incident.channel_id)


def visible_to(deps: Deps, viewer: str, incidents: Iterable[V]) -> list[V]:
    """The incidents ``viewer`` may be shown, in their order: for `/incident list`, search, the add-to-timeline
    picker and App Home. One Slack call per private incident's channel (kept a second); none for public ones."""
    return [incident for incident in incidents if can_see(deps, viewer, incident)]


def any_private(incidents: Sequence[Visible]) -> bool:
    return any(incident.private for incident in incidents)


def check_can_see(deps: Deps, viewer: str, incident: Visible, ref: str) -> None:
    """Raise NotAllowed for a private incident named by someone not in its channel (without saying what it is)."""
    if not can_see(deps, viewer, incident):
        raise NotAllowed(f"{ref} is a private incident: only the members of its channel can see it or act on it. "
                         "Ask its commander to add you.")
