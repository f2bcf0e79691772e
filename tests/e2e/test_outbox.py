"""The outbox: what a change implies is delivered after a restart, once with two replicas, and in order."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import update

from bot.delivery import Delivery
from bot.runtime import build
from bot.services.effects import Executors
from storage import outbox
from storage.models import OutboxRow
from tests.e2e.conftest import ALICE, BROADCAST, Running, answer, e2e_config, settings_for


def test_a_declare_accepted_before_a_stop_is_carried_out_by_the_next_start_once(running: Running, slack,
                                                                               database_url):
    running.firebell.delivery.stop()  # the process is going down: nothing more leaves it
    said = running.driver.slash_command(ALICE, "declare sev2 Survives a restart", channel_id="C0GENERAL")
    assert answer(said) == "Declaring a SEV2 incident…"
    assert slack.calls_to("conversations.create") == [] and running.incidents() == []
    with running.db.read() as session:
        assert outbox.undelivered(session) == 1  # written down before the answer
    running.server.stop()
    running.firebell.close()

    restarted = build(settings_for(slack, database_url), e2e_config())
    try:
        assert restarted.settle()
        [reply] = slack.response_posts()
        assert "INC-1" in reply["text"] and "is declared" in reply["text"]
        channel = running.incident_channel(1)
        card = slack.message(channel.id, slack.channel(channel.id).pins[0])
        assert "Survives a restart" in json.dumps(card.blocks)
        assert len(slack.messages(BROADCAST)) == 1 and len(slack.messages(channel.id)) == 1
        assert slack.channel(channel.id).topic.startswith("SEV2 · Declared")
        assert len(slack.calls_to("conversations.create")) == 1
    finally:
        restarted.close()


def test_a_declare_that_stopped_after_making_its_channel_takes_that_channel(running: Running, slack, database_url):
    """The process stopped between Slack creating the channel and the incident's commit: the next try finds the
    channel the bot made moments ago (its name is taken) and uses it, rather than leaving it stray."""
    running.firebell.delivery.stop()
    running.driver.slash_command(ALICE, "declare sev2 Half way", channel_id="C0GENERAL")
    running.firebell.deps.slack.create_channel("inc-1-half-way")  # what the stopped try got done
    with running.db.transaction() as session:  # and it had started once
        session.execute(update(OutboxRow).values(attempts=1))
    running.server.stop()
    running.firebell.close()

    restarted = build(settings_for(slack, database_url), e2e_config())
    try:
        assert restarted.settle()
        [incident] = running.incidents()
        assert incident.channel_name == "inc-1-half-way"
        assert [c.name for c in slack.channels if c.name.startswith("inc-")] == ["inc-1-half-way"]
        assert len(slack.messages(incident.channel_id)) == 1  # the card
    finally:
        restarted.close()


def test_a_declare_tried_again_after_it_committed_declares_nothing_more(running: Running, slack, database_url):
    """The process stopped after the incident's commit but before the outbox item was marked done."""
    running.driver.slash_command(ALICE, "declare sev2 Only once", channel_id="C0GENERAL")
    running.card(running.incident_channel(1).id)
    assert running.firebell.settle()
    with running.db.transaction() as session:
        session.execute(update(OutboxRow).where(OutboxRow.kind == "declare").values(  # and its claim ran out
            delivered_at=None, claimed_at=None, claimed_by=None))
    assert running.firebell.settle()
    assert [i.title for i in running.incidents()] == ["Only once"]
    assert len(slack.calls_to("conversations.create")) == 1 and len(slack.messages(BROADCAST)) == 1
    assert [r["text"].count("is declared") for r in slack.response_posts()] == [1, 1]  # told again, that is all


def test_two_replicas_deliver_each_item_once_and_in_order(running: Running, slack, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    other = build(settings_for(slack, database_url), e2e_config())
    try:
        running.driver.slash_command(ALICE, "declare sev2 Two replicas", channel_id="C0GENERAL")
        channel = running.incident_channel(1).id
        running.card(channel)
        for i in range(20):
            running.driver.slash_command(ALICE, f"update step {i}", channel_id=channel)
        assert running.firebell.settle() and other.settle()
        updates = [m for m in slack.messages(channel) if "Update on INC-1" in json.dumps(m.blocks)]
        assert [json.dumps(m.blocks).count(f"step {i}") for i, m in enumerate(updates)] == [1] * 20
        assert len([m for m in slack.messages(BROADCAST) if "Update on INC-1" in json.dumps(m.blocks)]) == 20
    finally:
        other.close()


def test_rate_limits_and_server_errors_on_every_method_still_give_the_same_incident(running: Running, slack):
    for method in ("conversations.create", "conversations.invite", "conversations.setTopic", "chat.postMessage",
                   "chat.update", "pins.add", "views.open"):
        slack.fail(method, status=429, times=1, retry_after=1)
        slack.fail(method, status=500, times=1)
    driver = running.driver
    driver.slash_command(ALICE, "declare sev2 Under fire", channel_id="C0GENERAL")
    slack.wait_for(lambda: slack.response_posts(), timeout=60)
    assert running.firebell.settle(90)  # every 429 costs its Retry-After
    channel = running.incident_channel(1).id
    card = running.card(channel)
    driver.slash_command(ALICE, "update holding up", channel_id=channel)
    driver.click(ALICE, channel_id=channel, message_ts=card.ts, action_id="incident_acknowledge")
    assert running.firebell.settle(60)
    [incident] = running.incidents()
    assert incident.status.value == "investigating" and incident.acknowledged_by == ALICE
    channel_texts = [m.text for m in slack.messages(channel)]
    assert len([t for t in channel_texts if "INC-1" in t and "acknowledged" in t]) == 1
    assert len([m for m in slack.messages(channel) if "Update on INC-1" in json.dumps(m.blocks)]) == 1
    assert len(slack.messages(BROADCAST)) == 2  # the announcement and the update, once each
    assert slack.channel(channel).pins == [card.ts]
    assert "Investigating" in json.dumps(slack.message(channel, card.ts).blocks)
    assert running.firebell.delivery.failed_for_good == 0


def test_a_post_whose_answer_was_lost_to_a_timeout_is_not_posted_twice(slack, database_url):
    from tests.e2e.conftest import start, stop

    running = start(slack, database_url, slack_timeout=1)
    firebell = running.firebell
    try:
        running.driver.slash_command(ALICE, "declare sev2 Lossy network", channel_id="C0GENERAL")
        channel = running.incident_channel(1).id
        running.card(channel)
        assert firebell.settle()
        slack.fail("chat.postMessage", late_by=2.5)  # Slack posts it, but the answer comes after Firebell gave up
        running.driver.slash_command(ALICE, "update still here", channel_id=channel)
        assert firebell.settle(60)
        updates = [m for m in slack.messages(channel) if "still here" in json.dumps(m.blocks)]
        assert len(updates) == 1
        assert len([c for c in slack.calls_to("conversations.history")]) >= 1  # the retry looked before posting
        with firebell.deps.db.read() as session:
            assert outbox.undelivered(session) == 0 and outbox.failures(session) == []
    finally:
        stop(running)


def test_work_that_failed_for_good_is_counted_listed_and_sent_again_once_fixed(running: Running, slack, database_url,
                                                                              tmp_path):
    import subprocess
    import sys

    from tests.e2e.conftest import declare_and_settle
    from tests.e2e.test_serving import _env, get

    channel = declare_and_settle(running, "declare sev2 Lost in transit")
    slack.fail("chat.postMessage", error="not_in_channel")  # will not heal by itself: not retried for ever
    running.driver.slash_command(ALICE, "update Rolling back", channel_id=channel)
    warning = slack.wait_for(lambda: [m for m in slack.messages(channel) if "could not post a message" in m.text])[0]
    assert "not_in_channel" in warning.text and "invite Firebell to the channel" in warning.text
    assert running.firebell.settle()
    health = get(f"{running.server.url}/healthz")
    assert health[0] == 200 and health[1]["status"] == "degraded"
    assert health[1]["outbox"] | {"oldest_pending_seconds": 0} == {"pending": 0, "failed": 1, "oldest_pending_seconds": 0}
    assert health[1]["reasons"][0].startswith("1 Slack delivery(ies) failed for good")

    env = _env(slack, database_url)

    def firebell(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "outbox", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    listed = firebell()
    assert listed.returncode == 1, listed.stderr
    assert "1 failed for good" in listed.stdout and "post: not_in_channel" in listed.stdout
    assert "To fix: invite Firebell to the channel" in listed.stdout
    assert firebell("retry", "999").returncode == 2
    assert firebell("retry").returncode == 0  # the operator fixed the cause
    assert running.firebell.settle()
    assert len([m for m in slack.messages(channel) if "Rolling back" in json.dumps(m.blocks)]) == 1
    assert get(f"{running.server.url}/healthz")[1] == {"status": "ok", "outbox": {"pending": 0, "failed": 0,
                                                                                  "oldest_pending_seconds": 0.0}}
    assert firebell().returncode == 0


def test_an_item_still_being_worked_on_is_not_taken_over_by_another_replica(slack, database_url, monkeypatch):
    """A post sleeping through Slack's Retry-After outlives the claim's lease; its claim is renewed meanwhile, so the
    other replica does not take it over and post it a second time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    from datetime import timedelta

    from bot import delivery
    from tests.e2e.conftest import declare_and_settle, start, stop

    monkeypatch.setattr(delivery, "LEASE", timedelta(seconds=2))
    running = start(slack, database_url)
    first, second = running.firebell, build(settings_for(slack, database_url), e2e_config())
    try:
        channel = declare_and_settle(running, "declare sev2 Slow Slack")
        slack.fail("chat.postMessage", status=429, retry_after=5)  # the next post waits 5 s, past the 2 s lease
        running.driver.slash_command(ALICE, "update Still slow", channel_id=channel)
        assert first.settle(60) and second.settle(60)
    finally:  # closing waits for the work each replica still has in hand
        stop(running)
        second.close()
    assert len([m for m in slack.messages(channel) if "Still slow" in json.dumps(m.blocks)]) == 1
    assert len([m for m in slack.messages(BROADCAST) if "Still slow" in json.dumps(m.blocks)]) == 1


def test_a_lane_held_up_does_not_hold_back_the_next_items_of_another(running: Running, database_url):
    """Each lane's run goes to a worker of its own, and the delivery claims again as soon as one is done: the items
    of a quick lane beyond its first claim (its head and two behind it) go while a slow lane's item is still in
    hand, instead of waiting for it."""
    running.firebell.delivery.stop()
    delivered: list[str] = []
    release = threading.Event()
    executors = Executors()
    executors.register("slow", lambda deps, *, attempt, name: (release.wait(30), delivered.append(name)),
                       describe="take its time")
    executors.register("quick", lambda deps, *, attempt, name: delivered.append(name), describe="go at once")
    with running.db.transaction() as session:
        outbox.enqueue(session, "lane:slow", "slow", {"name": "slow"}, outbox.now())
        for n in range(6):
            outbox.enqueue(session, "lane:quick", "quick", {"name": f"quick {n}"}, outbox.now())
    delivery = Delivery(running.firebell.deps, executors, workers=4).start()
    try:
        assert wait_until(lambda: len(delivered) == 6)
        assert delivered == [f"quick {n}" for n in range(6)]  # in order, the slow one still in hand
        release.set()
        assert wait_until(lambda: delivered[-1:] == ["slow"])
        assert delivery.wait_idle()
    finally:
        release.set()
        delivery.stop()
    with running.db.read() as session:
        assert outbox.undelivered(session) == 0


def wait_until(condition, timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False
