"""Declaring an incident, the three ways a person can, over HTTP against the stand-in."""

from __future__ import annotations

import json
import threading

from tests.e2e.conftest import ALICE, BOB, BROADCAST, Running, answer


def texts_of(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_declare_by_command_makes_channel_card_topic_and_announcement(running: Running):
    slack, driver = running.slack, running.driver
    response = driver.slash_command(ALICE, "declare sev2 Checkout returns 500s", channel_id="C0GENERAL")

    assert response.status == 200
    assert "Declaring a SEV2 incident" in answer(response)
    channel = running.incident_channel(1)
    assert channel.name == "inc-1-checkout-returns-500s"
    card = running.card(channel.id)
    assert ALICE in slack.channel(channel.id).members
    blocks = texts_of(card.blocks)
    assert "INC-1: Checkout returns 500s" in blocks
    assert "SEV2" in blocks and "Declared" in blocks and f"<@{ALICE}>" in blocks
    assert "<!date^" in blocks  # each reader sees their own time zone
    assert any(e["action_id"] == "incident_acknowledge" for b in card.blocks if b["type"] == "actions"
               for e in b["elements"])
    slack.wait_for(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Declared · Checkout"))
    announcement = slack.wait_for(lambda: slack.messages(BROADCAST))[0]
    assert f"<#{channel.id}>" in texts_of(announcement.blocks) and "INC-1" in announcement.text
    reply = slack.wait_for(lambda: slack.response_posts())[0]
    assert f"INC-1* (SEV2, Declared): Checkout returns 500s* is declared: <#{channel.id}>" in reply["text"] \
        or f"is declared: <#{channel.id}>" in reply["text"]
    assert reply.get("response_type") == "ephemeral"

    [incident] = running.incidents()
    assert (incident.ref, incident.title, incident.severity.value, incident.status.value) == (
        "INC-1", "Checkout returns 500s", "sev2", "declared")
    assert incident.channel_id == channel.id and incident.card_ts == card.ts
    assert incident.declared_by == ALICE and incident.commander == ALICE
    assert incident.declared_at.tzinfo is not None
    assert [(e.kind, e.actor) for e in incident.timeline] == [("declared", ALICE)]


def test_default_severity_is_sev3(running: Running):
    running.driver.slash_command(BOB, "declare Search is slow", channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    assert "SEV3" in texts_of(running.card(channel.id).blocks)


def test_declare_without_title_opens_the_form_and_submitting_it_declares(running: Running):
    slack, driver = running.slack, running.driver
    response = driver.slash_command(ALICE, "declare sev1", channel_id="C0GENERAL")
    assert response.status == 200
    [view] = slack.wait_for(lambda: slack.views_of(ALICE))
    assert view.callback_id == "declare_incident_modal"
    severity_block = next(b for b in view.blocks if b["block_id"] == "severity")
    assert severity_block["element"]["initial_option"]["value"] == "sev1"

    submitted = driver.submit_view(ALICE, view.id, {"title": {"value": "Login fails"},
                                                   "severity": {"value": "sev1"},
                                                   "description": {"value": "Since 10:00, all regions"}})
    assert submitted.status == 200 and not submitted.body.strip(b"{} \n")
    channel = running.incident_channel(1)
    assert "Since 10:00, all regions" in texts_of(running.card(channel.id).blocks)
    [incident] = running.incidents()
    assert incident.severity.value == "sev1" and incident.description == "Since 10:00, all regions"


def test_the_same_form_submitted_twice_declares_once(running: Running):
    slack, driver = running.slack, running.driver
    driver.global_shortcut(BOB, "declare_incident")
    [view] = slack.wait_for(lambda: slack.views_of(BOB))
    values = {"title": {"value": "Queue backlog"}, "severity": {"value": "sev2"}}
    first = driver.submit_view(BOB, view.id, values)
    second = driver.submit_view(BOB, view.id, values)
    assert first.status == second.status == 200
    assert second.json()["response_action"] == "errors"
    assert "already submitted" in second.json()["errors"]["title"]
    running.card(running.incident_channel(1).id)
    assert [i.ref for i in running.incidents()] == ["INC-1"]
    assert len(slack.calls_to("conversations.create")) == 1


def test_form_errors_are_shown_inline_and_nothing_is_made(running: Running):
    slack, driver = running.slack, running.driver
    driver.global_shortcut(ALICE, "declare_incident")
    [view] = slack.wait_for(lambda: slack.views_of(ALICE))
    empty = driver.submit_view(ALICE, view.id, {"title": {"value": "   "}, "severity": {"value": "sev3"}})
    assert empty.json()["response_action"] == "errors"
    assert "needs a title" in empty.json()["errors"]["title"]
    # the person fixes the title and submits the same view again: that one counts
    fixed = driver.submit_view(ALICE, view.id, {"title": {"value": "Cache down"}, "severity": {"value": "sev3"}})
    assert fixed.status == 200 and not fixed.body.strip(b"{} \n")
    running.card(running.incident_channel(1).id)
    assert [i.title for i in running.incidents()] == ["Cache down"]


def test_message_shortcut_prefills_the_form_and_keeps_the_permalink(running: Running):
    slack, driver = running.slack, running.driver
    ts = slack.post_user_message("C0GENERAL", BOB, "Payments API p99 is 9s\nsee dashboard")
    driver.message_shortcut(ALICE, "declare_from_message", channel_id="C0GENERAL", message_ts=ts)
    [view] = slack.wait_for(lambda: slack.views_of(ALICE))
    title_block = next(b for b in view.blocks if b["block_id"] == "title")
    assert title_block["element"]["initial_value"] == "Payments API p99 is 9s"
    driver.submit_view(ALICE, view.id, {"title": {"value": "Payments API p99 is 9s"}, "severity": {"value": "sev2"}})
    running.card(running.incident_channel(1).id)
    [incident] = running.incidents()
    permalink = incident.timeline[0].permalink
    assert permalink and "/archives/C0GENERAL/p" in permalink and ts.replace(".", "") in permalink


def test_help_and_list(running: Running):
    driver = running.driver
    for text in ("", "help"):
        assert "/incident declare" in answer(driver.slash_command(ALICE, text, channel_id="C0GENERAL"))
    assert "No open incidents" in answer(driver.slash_command(ALICE, "list", channel_id="C0GENERAL"))

    driver.slash_command(ALICE, "declare sev3 First thing", channel_id="C0GENERAL")
    running.card(running.incident_channel(1).id)
    driver.slash_command(ALICE, "declare sev1 Second thing", channel_id="C0GENERAL")
    running.card(running.incident_channel(2).id)
    listing = answer(driver.slash_command(BOB, "list", channel_id="C0GENERAL"))
    assert listing.index("INC-2") < listing.index("INC-1")
    assert "Second thing" in listing and "<!date^" in listing


def test_bad_commands_get_an_ephemeral_answer_and_change_nothing(running: Running):
    slack, driver = running.slack, running.driver
    cases = {
        "frobnicate": "not an incident command",
        "declare sev9 DB down": "not a severity",
        "declare " + "x" * 5000: "keep it to 150",
    }
    for text, expected in cases.items():
        assert expected in answer(driver.slash_command(ALICE, text, channel_id="C0GENERAL"))
    assert slack.calls_to("conversations.create") == []
    assert running.incidents() == []


def test_user_text_is_stored_as_given_and_escaped_where_quoted(running: Running):
    slack, driver = running.slack, running.driver
    title = "<!channel> <@U0BOB> & 🔥 '; DROP TABLE incidents; --"
    driver.slash_command(ALICE, f"declare sev2 {title}", channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    running.card(channel.id)
    [incident] = running.incidents()
    assert incident.title == title
    announcement = slack.wait_for(lambda: slack.messages(BROADCAST))[0]
    quoted = texts_of(announcement.blocks) + announcement.text
    assert "<!channel>" not in quoted and "<@U0BOB>" not in quoted
    assert "&lt;!channel&gt; &lt;@U0BOB&gt; &amp; 🔥" in quoted
    assert channel.name == "inc-1-channel-u0bob-drop-table-incidents"


def test_a_taken_channel_name_gets_a_suffix(running: Running):
    running.slack.add_channel("inc-1-db-down")
    running.driver.slash_command(ALICE, "declare DB down", channel_id="C0GENERAL")
    channel = running.slack.wait_for(lambda: running.slack.channel_by_name("inc-1-db-down-2"))
    running.card(channel.id)
    assert running.incidents()[0].channel_name == "inc-1-db-down-2"


def test_when_slack_cannot_create_the_channel_nothing_is_declared(running: Running):
    slack, driver = running.slack, running.driver
    slack.fail("conversations.create", error="restricted_action")
    driver.slash_command(ALICE, "declare sev1 Everything is down", channel_id="C0GENERAL")
    reply = slack.wait_for(lambda: slack.response_posts())[0]
    assert "could not create the incident channel (restricted_action)" in reply["text"]
    assert "no incident was declared" in reply["text"]
    assert running.incidents() == []
    # the number was not used up: the next declare is INC-1
    driver.slash_command(ALICE, "declare sev1 Everything is down", channel_id="C0GENERAL")
    running.card(running.incident_channel(1).id)
    assert [i.ref for i in running.incidents()] == ["INC-1"]


def test_slack_5xx_and_rate_limits_are_retried(running: Running):
    slack = running.slack
    slack.fail("conversations.create", status=500, times=1)
    slack.fail("chat.postMessage", status=429, times=1, retry_after=1)
    running.driver.slash_command(ALICE, "declare Flaky", channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    running.card(channel.id)
    slack.wait_for(lambda: slack.messages(BROADCAST))
    assert len([c for c in slack.calls_to("conversations.create") if c.ok]) == 1
    assert len(slack.channels) == 3  # general, incidents, and the one incident channel


def test_concurrent_declares_get_distinct_numbers_and_channels(running: Running):
    driver = running.driver
    responses = []
    barrier = threading.Barrier(10)

    def declare(i: int) -> None:
        barrier.wait()
        responses.append(driver.slash_command(ALICE, f"declare Burst {i}", channel_id="C0GENERAL"))

    threads = [threading.Thread(target=declare, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in responses] == [200] * 10
    running.slack.wait_for(lambda: len(running.slack.response_posts()) == 10)
    incidents = running.incidents()
    assert sorted(i.number for i in incidents) == list(range(1, 11))
    assert len({i.channel_id for i in incidents}) == 10


def test_when_a_later_step_fails_for_good_the_incident_stands_and_the_channel_says_what_failed(running: Running):
    slack = running.slack
    slack.fail("pins.add", error="restricted_action")
    running.driver.slash_command(ALICE, "declare sev2 Half made", channel_id="C0GENERAL")
    reply = slack.wait_for(lambda: slack.response_posts())[0]
    assert "INC-1" in reply["text"] and "is declared" in reply["text"]
    channel = running.incident_channel(1)
    said = slack.wait_for(lambda: [m.text for m in slack.messages(channel.id) if m.text.startswith("⚠️")])
    assert said == ["⚠️ Firebell could not post and pin the incident card for INC-1: Slack said `restricted_action`. "
                    "To fix: a workspace setting forbids it; ask a Slack admin, then run `firebell outbox retry`."]
    assert running.incidents()[0].card_ts == slack.messages(channel.id)[0].ts
    slack.wait_for(lambda: slack.messages(BROADCAST))  # the announcement after it still went out
    assert running.firebell.delivery.failed_for_good == 1


def test_an_announcement_the_broadcast_channel_refuses_is_said_in_the_incident_channel(slack, database_url):
    from tests.e2e.conftest import e2e_config, start, stop

    slack.add_channel("leads-only", channel_id="C0LEADS", is_private=True, members=[ALICE])  # Firebell is not in it
    running = start(slack, database_url, e2e_config(broadcast_channel="C0LEADS"))
    try:
        running.driver.slash_command(ALICE, "declare sev2 Quietly", channel_id="C0GENERAL")
        channel = running.incident_channel(1).id
        said = slack.wait_for(lambda: [m.text for m in slack.messages(channel) if m.text.startswith("⚠️")])
        assert said == ["⚠️ Firebell could not post a message in <#C0LEADS> for INC-1: Slack said `not_in_channel`. "
                        "To fix: invite Firebell to the channel (`/invite @Firebell`), then run `firebell outbox "
                        "retry`."]
    finally:
        stop(running)
