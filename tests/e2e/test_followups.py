"""Follow-ups that get done: owners and due dates from the resolve form and from `/incident followup add`, the
lists, done, and one reminder DM when a due date passes with the follow-up still open."""

from __future__ import annotations

import pytest

from bot.config import FirebellConfig
from bot.services.incidents import export
from tests.e2e.conftest import (
    ALICE,
    BOB,
    BROADCAST,
    CAROL,
    T0,
    FakeClock,
    Timed,
    answer,
    declare_and_settle,
    start_timed,
    stop,
)


@pytest.fixture
def timed(slack, database_url):
    running = start_timed(slack, database_url, FirebellConfig.model_validate({"broadcast_channel": BROADCAST}),
                          FakeClock(T0))
    yield running
    stop(running)


def resolve(timed: Timed, channel: str, follow_ups: str, lessons: str = "") -> None:
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    timed.driver.submit_view(ALICE, view.id, {
        "root_cause_category": {"value": "configuration"}, "root_cause": {"value": "A flag"},
        "resolution": {"value": "Flag reverted"}, "follow_ups": {"value": follow_ups},
        "lessons_learned": {"value": lessons}})
    timed.slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved")
    timed.firebell.settle(30)


def dms(timed: Timed, user: str, marker: str) -> list[str]:
    return [m.text for m in timed.slack.dms(user) if marker in m.text]


def test_the_resolve_form_takes_owners_and_due_dates_and_the_owner_is_told(timed: Timed):
    channel = declare_and_settle(timed, "declare sev2 Checkout slow")
    resolve(timed, channel, "Alert on pool drain @bob due 2026-11-30\nReview flag changes\n"
                            "Write the runbook @nobody-here")
    [incident] = export(timed.firebell.deps, None)
    assert [(f["text"], f["owner"], f["owner_name"], f["due"], f["status"]) for f in incident["follow_ups"]] == [
        ("Alert on pool drain", BOB, "bob", "2026-11-30", "open"),
        ("Review flag changes", None, None, None, "open"),
        ("Write the runbook", None, "nobody-here", None, "open"),
    ]
    [told] = dms(timed, BOB, "You own follow-up #1")
    assert "of INC-1, due 2026-11-30: Alert on pool drain" in told
    assert any("Nobody in this workspace is called @nobody-here" in m.text for m in timed.slack.messages(channel))


def test_a_bad_due_date_is_refused_on_the_field(timed: Timed):
    channel = declare_and_settle(timed, "declare sev2 Checkout slow")
    timed.driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))[-1]
    response = timed.driver.submit_view(ALICE, view.id, {
        "root_cause_category": {"value": "configuration"}, "root_cause": {"value": "A flag"},
        "resolution": {"value": "Flag reverted"}, "follow_ups": {"value": "Fix it due 2026-13-01"}})
    assert response.json()["errors"] == {"follow_ups": "`due 2026-13-01` is not a date; write it like `due 2026-12-20`."}
    assert timed.incidents()[0].status.value == "declared"


def test_add_list_done_and_one_reminder_when_the_due_date_passes(timed: Timed):
    channel = declare_and_settle(timed, "declare sev2 Checkout slow")
    assert answer(timed.driver.slash_command(ALICE, f"followup add Rotate the keys <@{CAROL}|carol> due 2026-11-25",
                                             channel_id=channel)) == "Added follow-up #1."
    assert answer(timed.driver.slash_command(ALICE, f"followup add Add a canary <@{BOB}|bob> due 2026-11-25",
                                             channel_id=channel)) == "Added follow-up #2."
    assert answer(timed.driver.slash_command(ALICE, "followup add Oops due 2026-11-32", channel_id=channel)) == \
        "`due 2026-11-32` is not a date; write it like `due 2026-12-20`."
    timed.slack.wait_for(lambda: any("added follow-up *#2*" in m.text for m in timed.slack.messages(channel)))
    listed = answer(timed.driver.slash_command(BOB, "followups", channel_id="C0GENERAL"))
    assert "Open follow-ups (2)" in listed and "*#1* Rotate the keys" in listed and "INC-1" in listed
    mine = answer(timed.driver.slash_command(BOB, "followups mine", channel_id="C0GENERAL"))
    assert "Your open follow-ups (1)" in mine and "*#2* Add a canary" in mine and "#1" not in mine
    assert answer(timed.driver.slash_command(BOB, "followup done 2", channel_id="C0GENERAL")) == \
        "Follow-up #2 is done."
    assert "already done by <@U0BOB>" in answer(timed.driver.slash_command(ALICE, "followup done 2",
                                                                           channel_id="C0GENERAL"))
    assert "no follow-up #9" in answer(timed.driver.slash_command(ALICE, "followup done 9", channel_id="C0GENERAL"))
    timed.tick(days=1, hours=13)  # 2026-11-25 23:00: not yet past
    assert dms(timed, CAROL, "⏰") == []
    timed.tick(hours=1)  # the end of the due day
    [reminder] = dms(timed, CAROL, "⏰")
    assert "Follow-up #1 of INC-1 was due 2026-11-25: Rotate the keys" in reminder and "followup done 1" in reminder
    timed.tick(days=2)
    assert len(dms(timed, CAROL, "⏰")) == 1 and dms(timed, BOB, "⏰") == []  # once; and #2 was done in time
    timeline = [e.kind for e in timed.incidents()[0].timeline]
    assert timeline.count("follow-up") == 2 and "follow-up done" in timeline
