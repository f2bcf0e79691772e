"""Paging reaches a tier's on-call person at that moment (and its members), over HTTP against the stand-in, on each
database: by hand, by severity, by escalation (the next tier's on-call at escalation time), overrides above the
schedule, and a gap that passes the page on to the next tier at once, saying why."""

from __future__ import annotations

import pytest

from bot.config import FirebellConfig
from bot.services.incidents import export
from tests.e2e.conftest import ALICE, BROADCAST, T0, FakeClock, Timed, answer, declare_and_settle, start_timed, stop

ONE, ONE_B, TWO, TWO_B, LEAD = "U0ONE", "U0ONEB", "U0TWO", "U0TWOB", "U0LEAD"

# T0 is Tuesday 2026-11-24 10:00 UTC. L1 rotates daily at 09:00 UTC: ONE until Wednesday 09:00, then ONE_B.
# L2 rotates daily at 10:05 UTC: TWO_B until 10:05 today, then TWO.
L1_DAILY = {"users": [ONE, ONE_B], "every": "1d", "handoff": "2026-11-24T09:00", "timezone": "UTC"}
L2_DAILY = {"users": [TWO, TWO_B], "every": "1d", "handoff": "2026-11-24T10:05", "timezone": "UTC"}


def config(l1: dict, l2: dict | None = None, **extra) -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "30m", "update_every": "1h", "resolve": "4h", "page": "L1"}},
        "tiers": [{"name": "L1", "ack_timeout": "10m", **l1},
                  {"name": "L2", "ack_timeout": "15m", **(l2 or {"schedule": [L2_DAILY]})},
                  {"name": "L3", "members": [LEAD]}],
        "admins": [ALICE],
        **extra,
    })


@pytest.fixture
def people(slack):
    for user, name in ((ONE, "one"), (ONE_B, "oneb"), (TWO, "two"), (TWO_B, "twob"), (LEAD, "lead")):
        slack.add_user(user, name)
    return slack


def served(people, database_url, cfg: FirebellConfig):
    running = start_timed(people, database_url, cfg, FakeClock(T0))
    return running


def paged_dms(timed: Timed, user: str):
    return [m for m in timed.slack.dms(user) if "You are paged" in m.text]


def page_note(timed: Timed, channel: str, tier: str):
    return timed.slack.wait_for(lambda: [m for m in timed.slack.messages(channel) if f"paged *{tier}*" in m.text])


def pages(timed: Timed):
    return timed.incidents()[0].pages


def test_a_page_reaches_the_on_call_person_only_and_records_why(people, database_url):
    timed = served(people, database_url, config({"schedule": [L1_DAILY]}))
    try:
        channel = declare_and_settle(timed, "declare sev2 Orders stuck")
        assert answer(timed.driver.slash_command(ALICE, "page L1 DB latency", channel_id=channel)) == ""
        timed.slack.wait_for(lambda: paged_dms(timed, ONE))
        [note] = page_note(timed, channel, "L1")
        assert f"on call: <@{ONE}>, layer 1" in note.text
        timed.firebell.settle(30)
        assert paged_dms(timed, ONE_B) == []
        [page] = pages(timed)
        assert (page.oncall_user, page.oncall_source, page.notified) == (ONE, "layer 1", (ONE,))
        [exported] = export(timed.firebell.deps, None)
        assert {k: exported["pages"][0][k] for k in ("oncall_user", "oncall_source", "notified")} == {
            "oncall_user": ONE, "oncall_source": "layer 1", "notified": [ONE]}
    finally:
        stop(timed)


def test_members_are_paged_with_the_on_call_person(people, database_url):
    timed = served(people, database_url, config({"schedule": [L1_DAILY], "members": [LEAD]}))
    try:
        declare_and_settle(timed, "declare sev1 Payments down")  # sev1 pages L1 by policy
        timed.slack.wait_for(lambda: paged_dms(timed, ONE) and paged_dms(timed, LEAD))
        [page] = pages(timed)
        assert set(page.notified) == {ONE, LEAD} and page.paged_by is None
    finally:
        stop(timed)


def test_escalation_pages_the_next_tier_s_on_call_at_escalation_time(people, database_url):
    timed = served(people, database_url, config({"schedule": [L1_DAILY]}))
    try:
        declare_and_settle(timed, "declare sev1 Payments down")  # at 10:00 L2's on-call is TWO_B
        timed.slack.wait_for(lambda: paged_dms(timed, ONE))
        assert timed.tick(minutes=10) == 2  # 10:10: nobody acknowledged (and L2's 10:05 handoff: TWO's since)
        timed.slack.wait_for(lambda: paged_dms(timed, TWO))
        assert paged_dms(timed, TWO_B) == []
        first, second = pages(timed)
        assert (first.status, second.tier, second.oncall_user, second.oncall_source) == (
            "escalated", "L2", TWO, "layer 1")
    finally:
        stop(timed)


def test_an_override_beats_the_schedule(people, database_url):
    timed = served(people, database_url, config({"schedule": [L1_DAILY]}))
    try:
        text = answer(timed.driver.slash_command(ONE_B, f"oncall override L1 <@{ONE_B}|oneb> 2h",
                                                 channel_id="C0GENERAL"))
        assert "Override #1" in text and f"<@{ONE_B}> is on call in *L1*" in text
        channel = declare_and_settle(timed, "declare sev1 Payments down")
        timed.slack.wait_for(lambda: paged_dms(timed, ONE_B))
        [note] = page_note(timed, channel, "L1")
        assert f"on call: <@{ONE_B}>, override #1" in note.text
        assert paged_dms(timed, ONE) == []
    finally:
        stop(timed)


def test_a_gap_without_members_pages_the_next_tier_at_once_and_says_why(people, database_url):
    afternoons = {**L1_DAILY, "hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00",
                                        "end": "17:00"}}
    timed = served(people, database_url, config({"schedule": [afternoons]}))
    try:
        channel = declare_and_settle(timed, "declare sev1 Payments down")  # 10:00: L1 covers only 12:00–17:00
        timed.slack.wait_for(lambda: paged_dms(timed, TWO_B))
        [note] = page_note(timed, channel, "L2")
        assert "nobody is on call in L1 now (a gap in its schedule) and it has no members: paging L2 at once" in (
            note.text)
        [page] = pages(timed)
        assert (page.tier, page.oncall_user) == ("L2", TWO_B)
        assert paged_dms(timed, ONE) == [] and paged_dms(timed, ONE_B) == []
        timeline = [e.text for e in timed.incidents()[0].timeline]
        assert any(line.startswith("Passed over L1 for L2") for line in timeline)
    finally:
        stop(timed)


def test_a_gap_with_members_pages_the_members(people, database_url):
    afternoons = {**L1_DAILY, "hours": {"start": "12:00", "end": "17:00"}}
    timed = served(people, database_url, config({"schedule": [afternoons], "members": [LEAD]}))
    try:
        channel = declare_and_settle(timed, "declare sev1 Payments down")
        timed.slack.wait_for(lambda: paged_dms(timed, LEAD))
        [note] = page_note(timed, channel, "L1")
        assert "nobody is on call now (a gap in its schedule): its members" in note.text
        [page] = pages(timed)
        assert (page.tier, page.oncall_source, page.notified) == ("L1", "gap", (LEAD,))
    finally:
        stop(timed)
