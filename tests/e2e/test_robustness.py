"""Faults and forgeries: the database goes away, another workspace knocks, Slack redelivers, secrets stay out."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import FirebellError
from bot.messages import DATABASE_DOWN
from bot.services.incidents import export
from bot.slack.command_parser import parse_command
from storage.db import Database
from tests.e2e.conftest import ALICE, SIGNING_SECRET, Running, answer


def test_with_the_database_gone_people_hear_so_at_once_and_it_recovers(running: Running):
    deps = running.firebell.deps
    healthy = deps.db
    deps.db = Database.from_url("postgresql://postgres@127.0.0.1:1/gone")
    try:
        assert answer(running.driver.slash_command(ALICE, "list", channel_id="C0GENERAL")) == DATABASE_DOWN
        declared = running.driver.slash_command(ALICE, "declare sev1 Database is gone", channel_id="C0GENERAL")
        assert answer(declared) == DATABASE_DOWN  # said at once: the declare could not even be written down
        assert running.slack.problems == []  # every answer came within Slack's 3 seconds
    finally:
        deps.db = healthy
    running.driver.slash_command(ALICE, "declare sev1 Back again", channel_id="C0GENERAL")
    running.card(running.incident_channel(1).id)
    assert [i.title for i in running.incidents()] == ["Back again"]


def test_a_request_from_another_workspace_is_refused(running: Running):
    body = urlencode({"command": "/incident", "text": "declare sev1 from elsewhere", "user_id": ALICE,
                      "channel_id": "C0GENERAL", "team_id": "T0SOMEONEELSE", "response_url": running.slack.new_response_url(),
                      "trigger_id": running.slack.mint_trigger_id(ALICE)}).encode()
    response = running.driver.raw(body, "application/x-www-form-urlencoded")
    assert response.status == 200 and "serves another Slack workspace" in response.text
    assert running.slack.calls_to("conversations.create") == [] and running.incidents() == []


def test_a_redelivered_event_has_one_effect(running: Running):
    event = {"type": "app_home_opened", "user": ALICE, "tab": "home", "channel": "D0ALICE"}
    assert running.driver.send_event(event, event_id="Ev0001").status == 200
    assert running.driver.send_event(event, event_id="Ev0001", retry_num=1).status == 200
    running.slack.wait_for(lambda: running.slack.calls_to("views.publish"))
    running.firebell.settle(10)
    assert len(running.slack.calls_to("views.publish")) == 1


def test_secrets_never_reach_logs_errors_or_exports(running: Running, caplog):
    caplog.set_level(logging.DEBUG)
    driver, slack = running.driver, running.slack
    driver.slash_command(ALICE, "declare sev1 Secrets", channel_id="C0GENERAL")
    channel = running.incident_channel(1).id
    running.card(channel)
    driver.slash_command(ALICE, "update all hands", channel_id=channel)
    slack.fail("chat.postMessage", error="invalid_auth")  # an error path too
    driver.slash_command(ALICE, "note the token must not leak", channel_id=channel)
    driver.slash_command(ALICE, "resolve", channel_id=channel)
    view = slack.wait_for(lambda: slack.open_views(ALICE))[-1]
    driver.submit_view(ALICE, view.id, {"root_cause_category": {"value": "security"}, "root_cause": {"value": "x"},
                                        "resolution": {"value": "y"}})
    slack.wait_for(lambda: running.incidents()[0].status.value == "resolved")
    running.firebell.settle(10)
    captured = caplog.text + json.dumps(export(running.firebell.deps, None))
    assert len(caplog.records) > 20
    assert slack.token not in captured and SIGNING_SECRET not in captured


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_command_text_parses_or_gets_a_usage_answer(text):
    try:
        parse_command(text)
    except FirebellError as exc:
        assert exc.message and "Traceback" not in exc.message


def test_arbitrary_command_text_and_payloads_always_get_an_answer(running: Running):
    driver = running.driver

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
    def command(text):
        response = driver.slash_command(ALICE, text, channel_id="C0GENERAL")
        assert response.status == 200

    command()
    driver.slash_command(ALICE, "declare sev2 Fuzzed", channel_id="C0GENERAL")
    channel = running.incident_channel(1).id
    card = running.card(channel)
    base = driver.click(ALICE, channel_id=channel, message_ts=card.ts, action_id="incident_post_update").sent

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["incident_acknowledge", "incident_resolve", "incident_page", "page_acknowledge",
                            "incident_post_update"]), st.text(max_size=30))
    def click(action_id, value):
        forged = {**base, "actions": [{**base["actions"][0], "action_id": action_id, "value": value}]}
        response = driver.raw(urlencode({"payload": json.dumps(forged)}).encode(), "application/x-www-form-urlencoded")
        assert response.status == 200

    click()
    running.firebell.settle(30)
    assert running.slack.problems == []
    assert running.incidents()[0].status.value in ("declared", "investigating")


def test_fifty_concurrent_declares(running: Running):
    responses = []
    barrier = threading.Barrier(50)

    def declare(i: int) -> None:
        barrier.wait()
        responses.append(running.driver.slash_command(ALICE, f"declare Load {i}", channel_id="C0GENERAL"))

    threads = [threading.Thread(target=declare, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in responses) == [200] * 50
    running.slack.wait_for(lambda: len(running.slack.response_posts()) == 50, timeout=60)
    incidents = running.incidents()
    assert sorted(i.number for i in incidents) == list(range(1, 51))
    assert len({i.channel_id for i in incidents}) == 50
    assert all("is declared" in p["text"] for p in running.slack.response_posts())


def test_arbitrary_modal_states_always_get_an_answer(running: Running):
    driver, slack = running.driver, running.slack
    driver.slash_command(ALICE, "declare sev2 Forms", channel_id="C0GENERAL")
    channel = running.incident_channel(1).id
    running.card(channel)
    driver.slash_command(ALICE, "resolve", channel_id=channel)
    resolve_view = slack.wait_for(lambda: slack.open_views(ALICE))[-1]
    base = driver.submit_view(ALICE, resolve_view.id, {"root_cause_category": {"value": "unknown"},
                                                       "root_cause": {"value": " "}, "resolution": {"value": "x"}}).sent
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3100)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text, text, text, st.sampled_from(["unknown", "nonsense", "", "software-bug"]),
           st.sampled_from(["incident_resolve_modal", "declare_incident_modal", "incident_update_modal"]))
    def submit(root_cause, resolution, follow_ups, category, callback_id):
        forged = json.loads(json.dumps(base))
        forged["view"]["callback_id"] = callback_id
        values = forged["view"]["state"]["values"]
        values["root_cause"]["value"]["value"] = root_cause
        values["resolution"]["value"]["value"] = resolution
        values.setdefault("follow_ups", {"value": {"type": "plain_text_input"}})["value"]["value"] = follow_ups
        values["root_cause_category"]["value"]["selected_option"] = {"value": category, "text": {
            "type": "plain_text", "text": category or "-"}}
        response = driver.raw(urlencode({"payload": json.dumps(forged)}).encode(), "application/x-www-form-urlencoded")
        assert response.status == 200
        body = response.json()
        assert body is None or set(body) <= {"response_action", "errors"}

    submit()
    running.firebell.settle(30)
    assert running.slack.problems == []
    assert len([e for e in running.incidents()[0].timeline if e.kind == "resolved"]) <= 1


def test_a_command_whose_text_says_payload_is_still_a_command(running: Running):
    # slack-bolt reads any form body containing "payload" as an interactivity payload; Firebell must not.
    driver = running.driver
    assert "`payload` is not an incident command" in answer(driver.slash_command(ALICE, "payload", channel_id="C0GENERAL"))
    driver.slash_command(ALICE, "declare sev2 Bad payload from the billing API", channel_id="C0GENERAL")
    channel = running.incident_channel(1).id
    running.card(channel)
    assert answer(driver.slash_command(ALICE, "note payload size is 0 bytes", channel_id=channel)) == (
        "Noted on INC-1's timeline.")
    assert running.incidents()[0].timeline[-1].text == "payload size is 0 bytes"
