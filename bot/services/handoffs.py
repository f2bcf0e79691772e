"""Scheduled work of on-call: at each shift change of a tier, one notice in ``oncall_channel`` naming who goes off and
who comes on with the open incidents and their running SLA clocks, the same by DM to the person coming on, and the
tier's Slack user group set to its new on-call.

Each tier's next shift change is one deadline row (planned by bot/services/oncall.py at start, after every handoff
and after every override change), claimed by one replica when due; its messages are queued in the transaction that
marks it done, so each goes out once, across restarts and replicas.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.deps import Deps
from bot.scheduling import Claimed
from bot.services import oncall, slack_effects
from bot.services.effects import Attempt, Executors
from bot.slack import oncall as rota
from bot.slack.gateway import SlackCallFailed, will_heal
from storage import oncall as rows
from storage import repositories as repo

log = logging.getLogger(__name__)

USERGROUP = "oncall_usergroup"
DM = "handoff_dm"
LATE_AFTER = 5.0  # seconds: later than this, the notice says it is late
JUST_BEFORE = timedelta(microseconds=1)


def register(executors: Executors) -> None:
    executors.register(USERGROUP, set_usergroup, describe="update the on-call user group")
    executors.register(DM, send_dm, describe="DM the handoff")


def lane(tier: str) -> str:
    """A tier's handoff messages are delivered one at a time, in order."""
    return f"oncall:{tier}"


def send_due(deps: Deps, claimed: Claimed, now: datetime) -> None:
    """Deadline handler of a handoff: queue the notice, the DM and the user group change, then plan the next one."""
    with deps.db.read() as session:
        deadline = rows.handoff(session, claimed.id)
        assert deadline is not None
        tier = deps.config.tier(deadline.tier or "")
        at = deadline.due_at
        change = None
        if tier is not None and tier.schedule and deadline.cancelled_at is None:
            overrides = oncall.overrides_of(session, deps.team_id, tier, at)
            off = tier.rotation().at(at - JUST_BEFORE, overrides)
            on = tier.rotation().at(at, overrides)
            if off.user != on.user:  # an override may have made this change moot since it was planned
                change = off, on, repo.open_incidents(session, deps.team_id)
    with deps.db.transaction() as session:
        if not claimed.complete(session, now):
            return  # another replica took the claim over
        if tier is not None and change is not None:
            off, on, incidents = change
            text, blocks = rota.handoff_message(tier.name, off, on, at, incidents, now, late_after=LATE_AFTER)
            payload = {"text": text, "blocks": slack_effects.serialised(blocks)}
            if deps.config.oncall_channel:
                deps.outbox.enqueue_in(session, lane(tier.name), slack_effects.POST,
                                       {"channel": deps.config.oncall_channel, **payload})
            if on.user:
                deps.outbox.enqueue_in(session, lane(tier.name), DM, {"user_id": on.user, **payload})
                if tier.usergroup:
                    deps.outbox.enqueue_in(session, lane(tier.name), USERGROUP,
                                           {"usergroup": tier.usergroup, "users": [on.user]})
            log.info("handoff of %s at %s: %s → %s", tier.name, at.isoformat(), off.user or "nobody",
                     on.user or "nobody")
        if tier is not None:
            oncall.plan_handoff(session, deps, tier, now)
    deps.outbox.wake()


def send_dm(deps: Deps, *, attempt: Attempt, user_id: str, text: str, blocks: list[dict] | None = None) -> None:
    """The handoff, by DM to the person coming on (once: a retry looks for the earlier try in the DM first)."""
    attempt.dm(deps.slack, user_id, text, blocks, step="handoff")


def sync_usergroups(deps: Deps, now: datetime) -> None:
    """At start: each tier's user group set to its on-call now (a shift may have changed while Firebell was down).
    The update replaces the whole list, so several replicas starting together do no harm."""
    with deps.db.transaction() as session:
        for tier in deps.config.tiers:
            if tier.usergroup and tier.schedule:
                shift = oncall.shift_at(session, deps.team_id, tier, now)
                if shift.user:  # Slack cannot empty a user group: in a gap it keeps the last on-call
                    deps.outbox.enqueue_in(session, lane(tier.name), USERGROUP,
                                           {"usergroup": tier.usergroup, "users": [shift.user]})
    deps.outbox.wake()


def set_usergroup(deps: Deps, *, attempt: Attempt, usergroup: str, users: list[str]) -> None:
    """Make the user group's members the tier's on-call (idempotent: it replaces the whole list)."""
    try:
        deps.slack.set_usergroup_members(usergroup, users)
    except SlackCallFailed as exc:
        if will_heal(exc.error):
            raise
        log.error("user group %s: usergroups.users.update failed: %s", usergroup, exc.error)
