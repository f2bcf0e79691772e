"""`/incident oncall …` through the assembled app: who is on call, overrides (in the person's Slack time zone, with
permissions), listing and cancelling them; bad input answered with how to write it, nothing stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.config import FirebellConfig
from bot.runtime import build
from storage import oncall as rows
from storage.models import OnCallOverrideRow
from tests.e2e.conftest import ALICE, BOB, CAROL, T0, FakeClock, answer, settings_for
from tests.handlers.conftest import Assembled

ONE, TWO = "U0ONE", "U0TWO"
CONFIG = {
    "tiers": [
        {"name": "L1", "schedule": [{"users": [ONE, TWO], "every": "1w", "handoff": "2026-11-23T09:00",
                                     "timezone": "Europe/Berlin"}]},
        {"name": "L2", "members": [CAROL]},
    ],
    "admins": [ALICE],
}


@pytest.fixture
def app(slack, database_url):
    slack.add_user(ONE, "one", tz="Europe/Berlin")
    slack.add_user(TWO, "two", tz="America/New_York")
    slack.add_user("U0BOT", "robot", is_bot=True)
    clock = FakeClock(T0)  # Tuesday 2026-11-24 10:00 UTC: ONE's week (since Monday 09:00 Berlin)
    firebell = build(settings_for(slack, database_url), FirebellConfig.model_validate(CONFIG), clock=clock)
    try:
        yield Assembled(firebell, slack)
    finally:
        firebell.close()


def run(app: Assembled, user: str, text: str) -> str:
    return answer(app.driver.slash_command(user, text, channel_id="C0GENERAL"))


def stored(app: Assembled) -> list[OnCallOverrideRow]:
    from sqlalchemy import select

    with app.db.read() as session:
        return list(session.execute(select(OnCallOverrideRow).order_by(OnCallOverrideRow.id)).scalars())


def stamps(text: str) -> list[datetime]:
    return [datetime.fromtimestamp(int(s), UTC) for s in re.findall(r"<!date\^(\d+)\^", text)]


def test_oncall_shows_each_tier_now_until_when_and_who_is_next(app: Assembled):
    text = run(app, BOB, "oncall")
    assert f"*L1*: <@{ONE}> (layer 1) until" in text and f"next <@{TWO}> (layer 1)" in text
    assert stamps(text)[0] == datetime(2026, 11, 30, 8, tzinfo=UTC)  # Monday 09:00 in Berlin
    assert "*L2*: no schedule; every member is paged: <@U0CAROL>" in text
    only = run(app, BOB, "oncall l2")
    assert "*L2*" in only and "*L1*" not in only
    assert run(app, BOB, "oncall L9") == "There is no tier `L9`. Tiers: L1, L2."


def test_anyone_may_override_themselves_in_until_a_time_in_their_own_zone(app: Assembled):
    text = run(app, TWO, f"oncall override L1 <@{TWO}|two> until 2026-11-24 18:00")
    assert "Override #1" in text and "America/New_York" in text
    [row] = stored(app)
    assert (row.tier, row.user_id, row.created_by) == ("L1", TWO, TWO)
    assert (row.starts_at, row.ends_at) == (T0, datetime(2026, 11, 24, 23, tzinfo=UTC))  # 18:00 in New York
    shown = run(app, BOB, "oncall L1")
    assert f"<@{TWO}> (🔁 override #1) until" in shown and f"next <@{ONE}> (layer 1)" in shown


def test_an_override_from_until_and_for_a_duration(app: Assembled):
    run(app, ONE, f"oncall override L1 <@{ONE}> from 2026-11-30 09:00 until 2026-11-30 21:00")
    run(app, ALICE, f"oncall override L2 <@{BOB}> 8h")  # an admin may put anyone on call
    first, second = stored(app)
    assert (first.starts_at, first.ends_at) == (datetime(2026, 11, 30, 8, tzinfo=UTC),
                                                datetime(2026, 11, 30, 20, tzinfo=UTC))
    assert (second.user_id, second.starts_at, second.ends_at) == (BOB, T0, datetime(2026, 11, 24, 18, tzinfo=UTC))
    listed = run(app, BOB, "oncall overrides")
    assert "*#1* L1: <@U0ONE>" in listed and "*#2* L2: <@U0BOB>" in listed and "(by <@U0ALICE>)" in listed


def test_only_admins_may_override_someone_else(app: Assembled):
    text = run(app, BOB, f"oncall override L1 <@{ONE}> 2h")
    assert "You can override only yourself in" in text
    assert stored(app) == []


@pytest.mark.parametrize(("command", "says"), [
    (f"oncall override L1 <@{BOB}> until 2026-11-24 09:00", "is in the past"),
    (f"oncall override L1 <@{BOB}> from 2026-11-25 10:00 until 2026-11-25 09:00", "end (2026-11-25 09:00) before"),
    (f"oncall override L1 <@{BOB}> from 2026-11-20 10:00 until 2026-11-25 09:00", "is in the past"),
    (f"oncall override L1 <@{BOB}> until tomorrow", "is not a time; write it as YYYY-MM-DD HH:MM"),
    (f"oncall override L1 <@{BOB}> until 2026-13-01 10:00", "is not a time"),
    (f"oncall override L1 <@{BOB}> soon", "`soon` is not a duration"),
    (f"oncall override L1 <@{BOB}> from 2026-11-25 10:00", "Say when it ends"),
    ("oncall override L1 bob 2h", "`bob` is not a mention of a person"),
    (f"oncall override L7 <@{BOB}> 2h", "There is no tier `L7`"),
    ("oncall override L1 <@U0NOBODY> 2h", "is not a person in this workspace"),
    ("oncall override L1 <@U0BOT> 2h", "is not a person in this workspace"),
    ("oncall override L1", "Name the tier, the person and how long"),
    ("oncall cancel x", "Say which override to cancel by its number"),
])
def test_bad_overrides_say_how_to_write_them_and_store_nothing(app: Assembled, command: str, says: str):
    assert says in run(app, ALICE, command)
    assert stored(app) == []


def test_cancel_is_for_the_person_whoever_made_it_or_an_admin(app: Assembled):
    run(app, ALICE, f"oncall override L1 <@{ONE}> 2h")
    assert "only they, whoever made it, or a Firebell admin" in run(app, BOB, "oncall cancel 1")
    assert run(app, ONE, "oncall cancel 1") == f"Cancelled override #1 (<@{ONE}> in *L1*)."
    assert stored(app)[0].cancelled_by == ONE
    assert "There is no override #1 still to come" in run(app, ONE, "oncall cancel 1")
    assert "No overrides to come" in run(app, BOB, "oncall overrides")


def test_an_override_plans_the_tier_s_handoffs_again(app: Assembled):
    with app.db.read() as session:
        assert [(h.due_at, h.cancelled_at) for h in rows.handoffs(session, "L1")] == [
            (datetime(2026, 11, 30, 8, tzinfo=UTC), None)]
    run(app, TWO, f"oncall override L1 <@{TWO}> 2h")
    with app.db.read() as session:
        pending = [h.due_at for h in rows.handoffs(session, "L1") if h.cancelled_at is None]
    assert pending == [T0]  # the override starts now: that is a shift change, announced at the next tick
