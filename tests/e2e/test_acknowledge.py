"""Acknowledging from the card's button or with `/incident ack`: once, and the card follows."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.e2e.conftest import ALICE, BOB, CAROL, Running, answer


def declared(running: Running):
    running.driver.slash_command(ALICE, "declare sev2 Orders stuck", channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    return channel, running.card(channel.id)


def test_the_card_button_acknowledges_and_updates_the_card_in_place(running: Running):
    slack = running.slack
    channel, card = declared(running)
    slack.add_user("U0DAVE", "dave")
    response = running.driver.click(BOB, channel_id=channel.id, message_ts=card.ts, action_id="incident_acknowledge")
    assert response.status == 200

    updated = slack.wait_for(lambda: (m := slack.message(channel.id, card.ts)).edits and m)
    blocks = json.dumps(updated.blocks)
    assert "Investigating" in blocks and "Acknowledged" in blocks and f"<@{BOB}>" in blocks
    assert "incident_acknowledge" not in blocks  # nothing left to acknowledge
    slack.wait_for(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Investigating"))
    slack.wait_for(lambda: any(f"<@{BOB}> acknowledged INC-1" in m.text for m in slack.messages(channel.id)))
    [incident] = running.incidents()
    assert incident.status.value == "investigating"
    assert incident.acknowledged_by == BOB and incident.acknowledged_at >= incident.declared_at
    assert [e.kind for e in incident.timeline] == ["declared", "acknowledged"]


def test_a_double_click_acknowledges_once(running: Running):
    slack, driver = running.slack, running.driver
    channel, card = declared(running)
    first = driver.click(BOB, channel_id=channel.id, message_ts=card.ts, action_id="incident_acknowledge")
    # Carol clicks the same button on her copy of the card before the edit reaches her: the same payload.
    stale = {**first.sent, "user": {**first.sent["user"], "id": CAROL, "username": "carol", "name": "carol"}}
    second = driver.raw(urlencode({"payload": json.dumps(stale)}).encode(), "application/x-www-form-urlencoded")
    assert first.status == second.status == 200
    slack.wait_for(lambda: any("already acknowledged by <@U0BOB>" in m.text
                               for m in [*slack.ephemerals, *slack.dms(CAROL)]))
    [incident] = running.incidents()
    assert incident.acknowledged_by == BOB
    assert [e.kind for e in incident.timeline].count("acknowledged") == 1
    running.firebell.settle()
    assert len([m for m in slack.messages(channel.id) if "acknowledged INC-1" in m.text]) == 1


def test_ack_command_in_the_channel_and_by_number_elsewhere(running: Running):
    slack, driver = running.slack, running.driver
    channel, _card = declared(running)
    driver.slash_command(BOB, "INC-1 ack", channel_id="C0GENERAL")
    slack.wait_for(lambda: running.incidents()[0].acknowledged_by == BOB)
    assert answer(driver.slash_command(CAROL, "ack", channel_id=channel.id)) == (
        f"INC-1 was already acknowledged by <@{BOB}>.")


def test_ack_outside_an_incident_channel_says_how(running: Running):
    reply = answer(running.driver.slash_command(BOB, "ack", channel_id="C0GENERAL"))
    assert "not an incident's" in reply and "/incident INC-7 ack" in reply
    assert answer(running.driver.slash_command(BOB, "INC-42 ack", channel_id="C0GENERAL")) == (
        "There is no incident INC-42.")


def test_a_click_is_recorded_before_slack_gets_its_answer(running: Running):
    """Nothing waits in memory after the answer: a process stopping right then loses no acknowledgement."""
    channel, card = declared(running)
    running.firebell.deps.background.shutdown()  # no work can run after the answer any more
    response = running.driver.click(BOB, channel_id=channel.id, message_ts=card.ts, action_id="incident_acknowledge")
    assert response.status == 200
    [incident] = running.incidents()
    assert incident.acknowledged_by == BOB and incident.status.value == "investigating"
