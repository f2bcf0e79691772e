"""Fault runs: a whole incident played against a Slack that rate-limits, fails with 500s or answers too late on every
method Firebell calls, ends exactly as the same incident played against a Slack that never fails."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from bot.sandbox import SlackStandIn
from storage import migrate
from storage.db import make_engine
from tests.e2e.conftest import ALICE, BOB, BROADCAST, CAROL, T0, FakeClock, Timed, start_timed, stop
from tests.e2e.test_lifecycle import FILLED
from tests.e2e.test_paging import ONE, ONE_B, THREE, TWO, paging_config

PEOPLE = (ALICE, BOB, CAROL, ONE, ONE_B, TWO, THREE)
TS = re.compile(r"\d{10}\.\d{6}|p\d{16}")
SETTLE = 120  # seconds: backoff after a failed delivery is 1 s, 2 s, 4 s…


def workspace(slack: SlackStandIn) -> SlackStandIn:
    slack.reset()
    for user in PEOPLE:
        slack.add_user(user, user.lower())
    slack.add_channel("incidents", channel_id=BROADCAST, members=[ALICE, BOB, CAROL])
    slack.add_channel("general", channel_id="C0GENERAL", members=[ALICE, BOB, CAROL])
    return slack


def settle(timed: Timed) -> None:
    assert timed.firebell.settle(SETTLE), "the outbox did not drain"


def play(timed: Timed) -> None:
    """Declare (SEV1 pages L1), an SLA reminder, a DM acknowledgement, an update, a note, a status, a page by hand, an
    escalation on the clock, and the resolve form with its postmortem file. Each step settles before the next, so
    that the order of events is the same with or without faults."""
    slack, driver = timed.slack, timed.driver
    driver.slash_command(ALICE, "declare sev1 Checkout is down", channel_id="C0GENERAL")
    channel = timed.incident_channel(1).id
    slack.wait_for(lambda: timed.incidents() and timed.incidents()[0].card_ts, timeout=SETTLE)
    settle(timed)
    timed.tick(minutes=15)  # half of the 30-minute time to acknowledge: a reminder
    settle(timed)
    dm = slack.wait_for(lambda: [m for m in slack.dms(ONE) if "You are paged" in m.text], timeout=SETTLE)[0]
    driver.click(ONE, channel_id=dm.channel, message_ts=dm.ts, action_id="page_acknowledge")
    settle(timed)
    for text in ("update Payments are failing over", "note Restarted the pods", "status identified Bad deploy",
                 "page L2 Need database help"):
        driver.slash_command(ALICE, text, channel_id=channel)
        settle(timed)
    timed.tick(minutes=15)  # nobody in L2 acknowledged within 15 minutes: L3 is paged
    settle(timed)
    driver.slash_command(ALICE, "resolve", channel_id=channel)
    form = slack.wait_for(lambda: [v for v in slack.open_views(ALICE) if v.callback_id == "incident_resolve_modal"],
                          timeout=SETTLE)[-1]
    assert driver.submit_view(ALICE, form.id, FILLED).status == 200
    slack.wait_for(lambda: timed.incidents()[0].status.value == "resolved", timeout=SETTLE)
    settle(timed)


@dataclass
class Outcome:
    """What people see in Slack after the incident, and what the database holds of it."""

    seen: dict[str, Any]
    timeline: list[tuple[str, str | None, str]]
    pages: list[tuple[str, str, str | None]]

    @classmethod
    def of(cls, timed: Timed) -> Outcome:
        slack = timed.slack
        dms = {user: slack.dms(user) for user in PEOPLE if slack.dms(user)}
        names = {c.id: f"<#{c.name}>" for c in slack.channels} | {m[0].channel: f"<DM {u}>" for u, m in dms.items()}

        def same(text: Any) -> Any:
            text = json.dumps(text, sort_keys=True, ensure_ascii=False)
            for channel_id, name in names.items():
                text = text.replace(channel_id, name)
            return json.loads(TS.sub("<ts>", text))

        def shown(messages: list) -> list[Any]:
            return [same({"text": m.text, "blocks": m.blocks,
                          "files": [f.filename for f in slack.files if f.id in m.files]}) for m in messages]

        incident = timed.incidents()[0]
        channel = slack.channel(incident.channel_id)
        seen = {
            "channels": sorted(names[c.id] for c in slack.channels if c.kind == "channel" and not c.archived),
            "incident channel": shown(slack.messages(channel.id)), "broadcast": shown(slack.messages(BROADCAST)),
            "pins": [same(slack.message(channel.id, ts).blocks) for ts in channel.pins],
            "topic": channel.topic, "members": sorted(channel.members),
            "dms": {user: shown(messages) for user, messages in dms.items()},
            "files": sorted((f.filename, f.title, (f.content or b"").decode()) for f in slack.files if f.completed),
        }
        return cls(seen=seen, timeline=[(e.kind, e.actor, same(e.text)) for e in incident.timeline],
                   pages=[(p.tier, p.status, p.acknowledged_by) for p in incident.pages])


def run(slack: SlackStandIn, database_url: str, faults: dict[str, dict[str, Any]] | None = None) -> Outcome:
    timed = start_timed(slack, database_url, paging_config(), FakeClock(T0), **({"slack_timeout": 1} if faults else {}))
    if faults:  # the first calls of each method fail that way
        for method, fault in faults.items():
            slack.fail(method, **fault)
    try:
        play(timed)
        assert timed.firebell.delivery.failed_for_good == 0
        return Outcome.of(timed)
    finally:
        stop(timed)


@pytest.fixture(scope="module")
def fault_free(standin: SlackStandIn, tmp_path_factory) -> tuple[Outcome, set[str]]:
    """The incident against a Slack that never fails, and the Web API methods Firebell called."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fault-free') / 'firebell.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    slack = workspace(standin)
    outcome = run(slack, url)
    return outcome, {c.method for c in slack.calls} - {"auth.test"}  # auth.test runs once, at start-up


LOOKUPS = {"conversations.history", "conversations.open", "conversations.list", "conversations.join"}  # after a lost answer
FAULTS = {
    "429 bursts": {"status": 429, "times": 2, "retry_after": 1},
    "500s": {"status": 500, "times": 3},  # more than slack_sdk's own retries: the outbox tries again later
    "timeouts": {"late_by": 1.5},  # the call takes effect, but its answer comes after Firebell gave up waiting
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_full_incident_under_faults_on_every_method_ends_as_without_them(standin, database_url, fault_free, fault):
    expected, methods = fault_free
    assert {"conversations.create", "chat.postMessage", "chat.update", "pins.add", "conversations.invite",
            "conversations.setTopic", "views.open", "files.getUploadURLExternal",
            "files.completeUploadExternal"} <= methods
    faults = {method: dict(FAULTS[fault]) for method in methods | LOOKUPS}
    if fault != "timeouts":  # a trigger id lives 3 seconds: one failure, which slack_sdk's retry gets past in time
        faults["views.open"]["times"] = 1
    slack = workspace(standin)
    outcome = run(slack, database_url, faults)
    assert outcome.seen == expected.seen
    assert outcome.timeline == expected.timeline
    assert outcome.pages == expected.pages
    assert set(slack.pending_faults()) <= LOOKUPS  # every method Firebell calls did fail
    assert slack.problems == []


def test_a_page_whose_second_dm_lost_its_answer_reaches_everyone_once(standin, database_url):
    """Partial progress inside one outbox item: the first DM went through and was recorded, the second reached
    Slack but its answer was lost; the retry finds that DM in the conversation's history and sends neither again."""
    slack = workspace(standin)
    timed = start_timed(slack, database_url, paging_config(), FakeClock(T0), slack_timeout=1)
    try:
        driver = timed.driver
        driver.slash_command(ALICE, "declare sev2 Slow network", channel_id="C0GENERAL")
        incident_channel = timed.incident_channel(1).id
        timed.card(incident_channel)
        settle(timed)
        slack.fail("chat.postMessage", late_by=1.5, skip=1)  # L1 has two people: the second DM's answer is lost
        driver.slash_command(ALICE, "page L1 Disk full", channel_id=incident_channel)
        settle(timed)
        assert [len([m for m in slack.dms(user) if "You are paged" in m.text]) for user in (ONE, ONE_B)] == [1, 1]
        notes = [m for m in slack.messages(incident_channel) if "paged *L1*" in m.text]
        assert len(notes) == 1 and f"<@{ONE}>" in notes[0].text and f"<@{ONE_B}>" in notes[0].text
        assert slack.calls_to("conversations.open")  # the retry looked in the DM before sending it again
        [page] = timed.incidents()[0].pages
        assert set(page.notified) == {ONE, ONE_B}
    finally:
        stop(timed)
