"""Running an incident from its channel to its close, over HTTP against the stand-in."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import pytest

from bot.config import FirebellConfig
from tests.e2e.conftest import ALICE, BOB, BROADCAST, CAROL, Running, answer, start, stop

ADMIN = "U0ADMIN"


@pytest.fixture
def running(slack, database_url):
    """Alice declares INC-1 (so she is its commander); the admin is named in firebell.yml."""
    slack.add_user(ADMIN, "admin")
    config = FirebellConfig(broadcast_channel=BROADCAST, admins=[ADMIN])
    served = start(slack, database_url, config)
    try:
        yield served
    finally:
        stop(served)


@pytest.fixture
def incident(running: Running):
    running.driver.slash_command(ALICE, "declare sev3 Search is slow", channel_id="C0GENERAL")
    channel = running.incident_channel(1)
    card = running.card(channel.id)
    return channel.id, card.ts


def say(running: Running, user: str, text: str, channel: str) -> str:
    return answer(running.driver.slash_command(user, text, channel_id=channel))


def card_text(running: Running, channel: str, ts: str, *, edits: int = 1) -> str:
    return json.dumps(running.slack.wait_for(lambda: (m := running.slack.message(channel, ts)).edits >= edits and m)
                      .blocks, ensure_ascii=False)


def kinds(running: Running) -> list[str]:
    return [e.kind for e in running.incidents()[0].timeline]


def test_status_moves_the_card_topic_and_tells_stakeholders(running: Running, incident):
    channel, card_ts = incident
    assert say(running, BOB, "status identified Bad index on orders", channel) == ""
    assert "Identified" in card_text(running, channel, card_ts)
    running.slack.wait_for(lambda: running.slack.channel(channel).topic.startswith("SEV3 · Identified"))
    update = running.slack.wait_for(lambda: [m for m in running.slack.messages(BROADCAST) if "Update on INC-1" in
                                             json.dumps(m.blocks)])
    assert "Bad index on orders" in json.dumps(update[0].blocks)
    [stored] = running.incidents()
    assert stored.status.value == "identified" and stored.acknowledged_by == BOB
    assert stored.timeline[-1].text == "Status Declared → Identified: Bad index on orders"


def test_invalid_status_lists_the_valid_ones_and_changes_nothing(running: Running, incident):
    channel, _ = incident
    say(running, BOB, "status monitoring", channel)
    reply = say(running, BOB, "status monitoring", channel)
    assert "INC-1 is already monitoring" in reply and "investigating, identified" in reply
    assert "must be one of: investigating, identified, monitoring" in say(running, BOB, "status fixed", channel)
    assert kinds(running) == ["declared", "status"]


def test_severity_belongs_to_the_commander_and_admins(running: Running, incident):
    channel, card_ts = incident
    refused = say(running, BOB, "sev 1", channel)
    assert refused == f"Only the commander (<@{ALICE}>) and Firebell admins (<@{ADMIN}>) can change the severity of INC-1."
    assert running.incidents()[0].severity.value == "sev3"
    assert say(running, ALICE, "sev1", channel) == ""
    assert "SEV1" in card_text(running, channel, card_ts)
    assert say(running, ADMIN, "INC-1 sev 2", "C0GENERAL") == ""
    running.slack.wait_for(lambda: running.incidents()[0].severity.value == "sev2")
    assert "is already SEV2" in say(running, ADMIN, "sev 2", channel)
    assert "not a severity" in say(running, ALICE, "sev 7", channel)
    assert [e.text for e in running.incidents()[0].timeline if e.kind == "severity"] == [
        "Severity SEV3 → SEV1", "Severity SEV1 → SEV2"]


def test_roles_are_assigned_and_the_person_invited(running: Running, incident):
    channel, card_ts = incident
    assert say(running, ALICE, f"role comms <@{BOB}|bob>", channel) == ""
    running.slack.wait_for(lambda: BOB in running.slack.channel(channel).members)
    assert f"*Comms*\\n<@{BOB}>" in card_text(running, channel, card_ts)
    assert say(running, ALICE, f"role commander <@{CAROL}|carol>", channel) == ""
    running.slack.wait_for(lambda: running.incidents()[0].commander == CAROL)
    # Alice handed command over: she may no longer assign roles; Carol may.
    assert "Only the commander (<@U0CAROL>)" in say(running, ALICE, f"role scribe <@{BOB}>", channel)
    assert "not a mention of a person" in say(running, CAROL, "role scribe bob", channel)
    assert "Name a role" in say(running, CAROL, f"role chef <@{BOB}>", channel)
    assert [(i.commander, i.comms, i.scribe) for i in running.incidents()] == [(CAROL, BOB, None)]


def test_update_with_text_goes_to_channel_broadcast_and_timeline(running: Running, incident):
    channel, _ = incident
    assert say(running, BOB, "update Rolled back <b>deploy</b> & watching", channel) == ""
    posted = running.slack.wait_for(lambda: [m for m in running.slack.messages(channel) if "Update on INC-1" in
                                             json.dumps(m.blocks)])
    assert "Rolled back &lt;b&gt;deploy&lt;/b&gt; &amp; watching" in json.dumps(posted[0].blocks)
    running.slack.wait_for(lambda: [m for m in running.slack.messages(BROADCAST) if "Update on INC-1" in
                                    json.dumps(m.blocks)])
    assert running.incidents()[0].timeline[-1].text == "Rolled back <b>deploy</b> & watching"


def test_update_form_from_the_card_button_can_change_status(running: Running, incident):
    channel, card_ts = incident
    running.driver.click(BOB, channel_id=channel, message_ts=card_ts, action_id="incident_post_update")
    view = running.slack.wait_for(lambda: running.slack.open_views(BOB))[-1]
    assert view.callback_id == "incident_update_modal"
    blank = running.driver.submit_view(BOB, view.id, {"text": {"value": "   "}})
    assert "cannot be empty" in blank.json()["errors"]["text"]
    running.driver.submit_view(BOB, view.id, {"text": {"value": "Fix deployed"}, "status": {"value": "monitoring"}})
    assert "Monitoring" in card_text(running, channel, card_ts)
    assert kinds(running)[-2:] == ["status", "update"]


def test_notes_and_messages_go_on_the_timeline(running: Running, incident):
    channel, _ = incident
    assert say(running, BOB, "note Paged the DBA", channel) == "Noted on INC-1's timeline."
    assert "Say what to record" in say(running, BOB, "note", channel)
    ts = running.slack.post_user_message(channel, ALICE, "p99 back under 200ms")
    running.driver.message_shortcut(BOB, "add_to_timeline", channel_id=channel, message_ts=ts)
    running.slack.wait_for(lambda: "message" in kinds(running))
    # from another channel, the person picks the incident
    other = running.slack.post_user_message("C0GENERAL", CAROL, "customers report errors")
    running.driver.message_shortcut(BOB, "add_to_timeline", channel_id="C0GENERAL", message_ts=other)
    view = running.slack.wait_for(lambda: running.slack.open_views(BOB))[-1]
    running.driver.submit_view(BOB, view.id, {"incident": {"value": "1"}})
    running.slack.wait_for(lambda: kinds(running).count("message") == 2)
    entries = running.incidents()[0].timeline
    note, first, second = entries[1], entries[2], entries[3]
    assert (note.kind, note.actor, note.text) == ("note", BOB, "Paged the DBA")
    assert first.actor == ALICE and first.text == f"p99 back under 200ms (added by {BOB})"
    assert first.permalink.endswith(ts.replace(".", "")) and int(first.at.timestamp()) == int(float(ts))
    assert second.permalink and "/archives/C0GENERAL/" in second.permalink


def test_timeline_shows_every_entry_in_order_with_date_tokens(running: Running, incident):
    channel, _ = incident
    say(running, BOB, "note first <!here>", channel)
    say(running, BOB, "note second", channel)
    shown = say(running, CAROL, "timeline", channel)
    assert shown.index("declared") < shown.index("first") < shown.index("second")
    assert shown.count("<!date^") == 3 and "&lt;!here&gt;" in shown and "<!here>" not in shown


def resolve_form(running: Running, user: str, channel: str):
    running.driver.slash_command(user, "resolve", channel_id=channel)
    return running.slack.wait_for(lambda: [v for v in running.slack.open_views(user)
                                           if v.callback_id == "incident_resolve_modal"])[-1]


FILLED = {"root_cause_category": {"value": "configuration"}, "root_cause": {"value": "A bad index hint"},
          "resolution": {"value": "Dropped the hint"},
          "follow_ups": {"value": "Add an index check to CI\n\nAlert on p99 > 1s"}}


def test_resolve_form_records_the_root_cause_and_closes_the_incident(running: Running, incident):
    channel, card_ts = incident
    view = resolve_form(running, ALICE, channel)
    options = [o["value"] for b in view.blocks if b["block_id"] == "root_cause_category"
               for o in b["element"]["options"]]
    assert options == FirebellConfig().root_cause_categories
    blank = running.driver.submit_view(ALICE, view.id, {**FILLED, "root_cause": {"value": "  "}})
    assert "cannot be empty" in blank.json()["errors"]["root_cause"]
    assert running.driver.submit_view(ALICE, view.id, FILLED).status == 200

    card = card_text(running, channel, card_ts)
    assert "Resolved" in card and "incident_resolve" not in card and "A bad index hint" in card
    summary = running.slack.wait_for(lambda: [m for m in running.slack.messages(BROADCAST) if "is resolved" in
                                              json.dumps(m.blocks)])
    assert "Dropped the hint" in json.dumps(summary[0].blocks)
    report = running.slack.wait_for(lambda: [f for f in running.slack.files if f.completed and channel in f.channels])
    assert report[0].filename == "INC-1-postmortem.md" and b"A bad index hint" in report[0].content
    [stored] = running.incidents()
    assert stored.status.value == "resolved" and stored.resolved_at is not None
    assert (stored.root_cause_category, stored.root_cause, stored.resolution) == (
        "configuration", "A bad index hint", "Dropped the hint")
    assert [f.text for f in stored.follow_ups] == ["Add an index check to CI", "Alert on p99 > 1s"]
    assert "not in the list" not in say(running, ALICE, "list", "C0GENERAL") and running.incidents()[0].ref == "INC-1"
    assert "No open incidents" in say(running, ALICE, "list", "C0GENERAL")


def test_two_people_resolving_at_once_make_one_resolution(running: Running, incident):
    channel, _ = incident
    first, second = resolve_form(running, ALICE, channel), resolve_form(running, ADMIN, channel)
    answers = {}
    threads = [threading.Thread(target=lambda u, v: answers.__setitem__(u, running.driver.submit_view(u, v, FILLED)),
                                args=(user, view.id)) for user, view in ((ALICE, first), (ADMIN, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [r.json()["errors"] for r in answers.values() if r.json()]
    assert len(refused) == 1 and "was already resolved by" in refused[0]["root_cause_category"]
    running.slack.wait_for(lambda: [f for f in running.slack.files if f.completed])
    assert kinds(running).count("resolved") == 1
    assert len([m for m in running.slack.messages(BROADCAST) if "is resolved" in json.dumps(m.blocks)]) == 1
    # a form opened before the close and submitted after it says so inline
    assert "was already resolved" in running.driver.submit_view(ALICE, first.id, FILLED).json()["errors"][
        "root_cause_category"]


def test_only_the_commander_admins_or_on_call_may_resolve_on_every_path(running: Running, incident):
    channel, card_ts = incident
    assert "can resolve INC-1" in say(running, BOB, "resolve", channel)
    running.driver.click(BOB, channel_id=channel, message_ts=card_ts, action_id="incident_resolve")
    running.slack.wait_for(lambda: any("can resolve INC-1" in m.text for m in [*running.slack.ephemerals,
                                                                               *running.slack.dms(BOB)]))
    # a forged submission of the commander's form, sent as Bob
    view = resolve_form(running, ALICE, channel)
    honest = running.driver.submit_view(ALICE, view.id, {**FILLED, "root_cause": {"value": "   "}})
    forged = {**honest.sent, "user": {**honest.sent["user"], "id": BOB, "username": "bob", "name": "bob"}}
    forged["view"]["state"]["values"]["root_cause"]["value"]["value"] = "forged"
    response = running.driver.raw(urlencode({"payload": json.dumps(forged)}).encode(),
                                  "application/x-www-form-urlencoded")
    assert "can resolve INC-1" in response.json()["errors"]["root_cause_category"]
    assert running.incidents()[0].status.value == "declared" and "resolved" not in kinds(running)


def test_reopen_needs_a_reason_and_returns_to_investigating(running: Running, incident):
    channel, card_ts = incident
    assert "nothing to reopen" in say(running, ALICE, "reopen flapping", channel)
    running.driver.submit_view(ALICE, resolve_form(running, ALICE, channel).id, FILLED)
    running.slack.wait_for(lambda: running.incidents()[0].status.value == "resolved")
    assert "Say what to record" in say(running, ALICE, "reopen", channel)
    assert "can reopen INC-1" in say(running, BOB, "reopen it is back", channel)
    assert say(running, ALICE, "reopen Errors are back", channel) == ""
    [stored] = running.incidents()
    assert stored.status.value == "investigating" and stored.resolved_at is None
    assert (stored.timeline[-1].kind, stored.timeline[-1].actor, stored.timeline[-1].text) == (
        "reopened", ALICE, "Errors are back")
    running.slack.wait_for(lambda: "incident_resolve" in json.dumps(running.slack.message(channel, card_ts).blocks))


def test_postmortem_command_prints_the_report_offered_in_slack(running: Running, incident, database_url, tmp_path):
    import os
    import subprocess
    import sys

    channel, _ = incident
    say(running, BOB, "note Paged the DBA", channel)
    running.driver.submit_view(ALICE, resolve_form(running, ALICE, channel).id, FILLED)
    [uploaded] = running.slack.wait_for(lambda: [f for f in running.slack.files if f.completed])
    env = {**os.environ, "DATABASE_URL": database_url}
    printed = subprocess.run([sys.executable, "-m", "bot", "postmortem", "INC-1"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == uploaded.content.decode()
    assert "| note | bob | Paged the DBA |" in printed.stdout and "- [ ] #2 Alert on p99 > 1s (no owner)" in printed.stdout
    missing = subprocess.run([sys.executable, "-m", "bot", "postmortem", "INC-9"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert (missing.returncode, missing.stderr.strip()) == (2, "firebell: there is no incident INC-9")
