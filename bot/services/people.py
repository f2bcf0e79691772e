"""People's names as Slack gives them: kept in the database once asked (users.info), so a report, a post-incident
report or a calendar feed polled every few minutes asks Slack only about people it has not named before."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.deps import Deps
from bot.slack.gateway import SlackCallFailed
from storage import people

log = logging.getLogger(__name__)


def names_for(deps: Deps, user_ids: Iterable[str]) -> dict[str, str]:
    """Names for these people: kept ones, and the rest asked of Slack once (and kept); ids Slack cannot name stay."""
    wanted = set(user_ids)
    with deps.db.read() as session:
        known = people.names(session, wanted)
    found: dict[str, str] = {}
    for user_id in sorted(wanted - set(known)):
        try:
            info = deps.slack.user_info(user_id)
        except SlackCallFailed as exc:
            log.info("no name for %s: %s", user_id, exc.error)
            continue
        if info is not None:
            found[user_id] = info.name
    if found:
        with deps.db.transaction() as session:
            people.remember(session, found, deps.clock())
    return {**known, **found}
