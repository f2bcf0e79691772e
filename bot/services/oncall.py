"""On-call, the use cases: who is on call in each tier (now, or at an instant), overrides (add, list, cancel), and
the planning of each tier's next handoff as a deadline row (bot/services/handoffs.py sends it when it is due).

The rotation math is pure (bot/domain/oncall.py); this module gives it the overrides stored in the database.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.config import Tier
from bot.deps import Deps
from bot.domain import oncall
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.oncall import Override, Shift, TierOnCall
from bot.slack.gateway import UserInfo
from storage import oncall as rows

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=1)  # overrides that ended this long ago no longer matter to "now"


def tier_named(deps: Deps, name: str) -> Tier:
    tier = deps.config.tier(name)
    if tier is None:
        known = ", ".join(t.name for t in deps.config.tiers) or "none are configured in firebell.yml"
        raise InvalidInput("tier", f"There is no tier `{name}`. Tiers: {known}.")
    return tier


def overrides_of(session: Session, team_id: str | None, tier: Tier, at: datetime) -> list[Override]:
    return rows.overrides(session, team_id, ending_after=at - LOOKBACK, tier=tier.name)


def shift_at(session: Session, team_id: str, tier: Tier, at: datetime) -> Shift:
    """Who the tier has on call at ``at`` (an override, a layer, or nobody: a gap), within the caller's session."""
    return tier.rotation().at(at, overrides_of(session, team_id, tier, at))


def state_of(session: Session, team_id: str | None, tier: Tier, at: datetime) -> TierOnCall:
    """The tier at ``at``: who is on call until when, and who is next (``team_id`` None: every team's overrides)."""
    current, following = tier.rotation().now_and_next(at, overrides_of(session, team_id, tier, at))
    return TierOnCall(tier.name, current, following, tuple(tier.members), bool(tier.schedule))


def who_is_on_call(deps: Deps, tier_name: str | None = None, at: datetime | None = None) -> list[TierOnCall]:
    """Each tier (or the one named) at ``at`` (default now)."""
    tiers = [tier_named(deps, tier_name)] if tier_name else list(deps.config.tiers)
    moment = at or deps.clock()
    with deps.db.read() as session:
        return [state_of(session, deps.team_id, tier, moment) for tier in tiers]


def shifts(deps: Deps, tier_name: str, start: datetime, end: datetime) -> tuple[str, list[Shift]] | None:
    """The tier's name and its shifts across [start, end), overrides included (the calendar feed); None when there
    is no such tier."""
    tier = deps.config.tier(tier_name)
    if tier is None:
        return None
    with deps.db.read() as session:
        return tier.name, tier.rotation().shifts(start, end, rows.overrides(session, deps.team_id,
                                                                            ending_after=start, tier=tier.name))


def time_zone_of(deps: Deps, user_id: str) -> str:
    """The person's time zone as set in Slack (users.info), UTC when Slack has none (or one Python does not know)."""
    return _zone(deps.slack.user_info(user_id))


def _zone(person: UserInfo | None) -> str:
    zone = person.tz if person and person.tz else "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return zone


def add_override(deps: Deps, actor: str, tier_name: str, user_id: str, *, duration: timedelta | None = None,
                 start: datetime | None = None, end: datetime | None = None) -> tuple[Override, str]:
    """Put ``user_id`` on call in the tier; local times are read in the time zone ``actor`` set in Slack (returned
    with the override). Anyone may override themselves in; an admin may override anyone. The tier's next handoff is
    planned again."""
    tier = tier_named(deps, tier_name)
    oncall.check_may_override(actor, user_id, deps.config.admins)
    now = deps.clock()
    person = deps.slack.user_info(user_id)
    zone = "UTC"
    if start is not None or end is not None:  # overriding oneself (the usual case) asks Slack once
        zone = _zone(person) if actor == user_id else time_zone_of(deps, actor)
    begins, ends = oncall.override_window(now, zone, duration=duration, start=start, end=end)
    if person is None or person.deleted or person.is_bot:
        raise InvalidInput("user", f"<@{user_id}> is not a person in this workspace; type @ and pick someone.")
    with deps.db.transaction() as session:
        added = rows.add_override(session, team_id=deps.team_id, tier=tier.name, user_id=user_id, starts_at=begins,
                                  ends_at=ends, created_by=actor, created_at=now)
        plan_handoff(session, deps, tier, now, from_now=True)
    return added, zone


def list_overrides(deps: Deps) -> list[Override]:
    """The overrides still to come or running, of every tier."""
    now = deps.clock()
    with deps.db.read() as session:
        return rows.overrides(session, deps.team_id, ending_after=now)


def cancel_override(deps: Deps, actor: str, number: int) -> Override:
    now = deps.clock()
    with deps.db.transaction() as session:
        row = rows.override_row(session, deps.team_id, number, lock=True)
        if row is None or row.cancelled_at is not None or row.ends_at <= now:
            raise NotFound(f"There is no override #{number} still to come or running; `/incident oncall overrides` "
                           "lists them.")
        found = rows.to_domain(row)
        oncall.check_may_cancel(actor, found, deps.config.admins)
        row.cancelled_at, row.cancelled_by = now, actor
        session.flush()
        tier = deps.config.tier(row.tier)
        if tier is not None:
            plan_handoff(session, deps, tier, now, from_now=True)
    return found


def plan_handoff(session: Session, deps: Deps, tier: Tier, now: datetime, *, from_now: bool = False) -> None:
    """Make the tier's next shift change (after ``now``; ``from_now``: at ``now`` too, for an override that starts
    now) its one pending handoff deadline."""
    if not tier.schedule:
        rows.plan_handoff(session, tier.name, None, now)
        return
    after = now - timedelta(microseconds=1) if from_now else now
    upcoming = tier.rotation().next_handoff(after, overrides_of(session, deps.team_id, tier, now))
    rows.plan_handoff(session, tier.name, upcoming.at if upcoming else None, now)


def plan_handoffs(deps: Deps, now: datetime | None = None) -> None:
    """Plan every tier's next handoff (at start: the schedule may have changed while Firebell was down)."""
    moment = now or deps.clock()
    with deps.db.transaction() as session:
        for tier in deps.config.tiers:
            plan_handoff(session, deps, tier, moment)

