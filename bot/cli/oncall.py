"""`firebell oncall [--tier L1] [--at ISO-8601] [--json]`: who is on call in each tier, from the shell (the schedule in
firebell.yml and the overrides in the database)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.cli.common import CommandError, database
from bot.config import Settings, load_config
from bot.deps import utc_now
from bot.domain.oncall import Shift, TierOnCall
from bot.services import oncall


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("oncall", help="who is on call in each tier, until when, and who is next")
    parser.add_argument("--tier", default=None, help="only this tier (default: every tier)")
    parser.add_argument("--at", type=instant, default=None,
                        help="at this time instead of now, ISO-8601 (e.g. 2026-12-24T18:00+01:00; no offset: UTC)")
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.set_defaults(run=run_oncall)


def instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time, e.g. 2026-12-24T18:00+01:00") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_oncall(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    config = load_config(settings.config_path())
    tiers = list(config.tiers)
    if args.tier is not None:
        tier = config.tier(args.tier)
        if tier is None:
            raise CommandError(f"there is no tier {args.tier!r} (tiers: {', '.join(t.name for t in tiers) or 'none'})")
        tiers = [tier]
    at = args.at or utc_now()
    db = database(settings)
    try:
        with db.read() as session:
            states = [oncall.state_of(session, None, tier, at) for tier in tiers]
    finally:
        db.dispose()
    if args.json:
        json.dump({"at": at.isoformat(), "tiers": [state_json(s) for s in states]}, sys.stdout, indent=2)
        print()
    else:
        print("\n".join(state_text(s) for s in states) or "No tiers are configured in firebell.yml.")
    return 0


def shift_json(shift: Shift | None) -> dict[str, Any] | None:
    if shift is None:
        return None
    return {"user": shift.user, "source": shift.source.value, "layer": shift.layer, "override": shift.override,
            "from": shift.start.isoformat(), "until": shift.end.isoformat()}


def state_json(state: TierOnCall) -> dict[str, Any]:
    return {"tier": state.tier, "scheduled": state.scheduled, "on_call": shift_json(state.current),
            "next": shift_json(state.following), "members": list(state.members)}


def _who(shift: Shift) -> str:
    return f"{shift.user} ({shift.describe()})" if shift.user else "nobody (a gap in the schedule)"


def state_text(state: TierOnCall) -> str:
    members = ", ".join(state.members)
    if not state.scheduled:
        return f"{state.tier}: no schedule; members paged: {members}"
    line = f"{state.tier}: {_who(state.current)}"
    if state.following is not None:
        line += f" until {state.current.end:%Y-%m-%d %H:%M} UTC; next {_who(state.following)}"
    return line + (f"; members also paged: {members}" if members else "")
