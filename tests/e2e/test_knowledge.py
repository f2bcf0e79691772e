"""Learning from past incidents, over HTTP against the Slack stand-in, on SQLite and PostgreSQL: `/incident search`,
the similar past incidents a new incident's channel is shown, and problem records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import FirebellConfig
from bot.services.declare import look_back
from bot.services.effects import Attempt
from tests.e2e.conftest import ALICE, BOB, BROADCAST, CAROL, Running, answer, start, stop

ADMIN = "U0ADMIN"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def running(slack, database_url):
    slack.add_user(ADMIN, "admin")
    served = start(slack, database_url, FirebellConfig(broadcast_channel=BROADCAST, admins=[ADMIN]))
    try:
        yield served
    finally:
        stop(served)


def say(running: Running, user: str, text: str, channel: str = "C0GENERAL") -> str:
    return answer(running.driver.slash_command(user, text, channel_id=channel))


def declare(running: Running, number: int, text: str, user: str = ALICE) -> str:
    running.driver.slash_command(user, f"declare {text}", channel_id="C0GENERAL")
    channel = running.incident_channel(number)
    running.card(channel.id)
    running.firebell.settle(30)
    return channel.id


def resolve(running: Running, channel: str, category: str, root_cause: str, resolution: str,
            user: str = ALICE) -> None:
    running.driver.slash_command(user, "resolve", channel_id=channel)
    form = running.slack.wait_for(lambda: [v for v in running.slack.open_views(user)
                                           if v.callback_id == "incident_resolve_modal"])[-1]
    response = running.driver.submit_view(user, form.id, {
        "root_cause_category": {"value": category}, "root_cause": {"value": root_cause},
        "resolution": {"value": resolution}, "follow_ups": {"value": ""}})
    assert response.status == 200 and not response.body.strip(), response.text
    running.firebell.settle(30)


def similar_posts(running: Running, channel: str) -> list:
    return [m for m in running.slack.messages(channel) if "Similar past incidents" in json.dumps(m.blocks)]


def test_a_new_incident_like_a_resolved_one_is_shown_what_fixed_it_after_its_card(running: Running):
    first = declare(running, 1, "sev2 Checkout returns 502 errors for EU customers")
    resolve(running, first, "configuration", "A config push pointed EU checkout at a drained pool",
            "Rolled the config back")
    say(running, ALICE, "problem new Config pushes can target drained pools", first)
    say(running, ALICE, "problem PRB-1 workaround Roll back, then check the pool has healthy hosts", first)
    assert similar_posts(running, first) == []  # nothing was similar to the first

    # the second is declared through the form: declares of every kind are shown their similar incidents
    running.driver.slash_command(BOB, "declare", channel_id="C0GENERAL")
    form = running.slack.wait_for(lambda: running.slack.open_views(BOB))[-1]
    running.driver.submit_view(BOB, form.id, {"title": {"value": "EU checkout 502 errors again"},
                                              "severity": {"value": "sev3"},
                                              "description": {"value": "Same as last week?"}})
    second = running.incident_channel(2).id
    [post] = running.slack.wait_for(lambda: similar_posts(running, second))
    running.firebell.settle(30)
    messages = running.slack.messages(second)
    card_ts = running.slack.channel(second).pins[0]
    assert [m.ts for m in messages].index(card_ts) < [m.ts for m in messages].index(post.ts)  # after the card
    shown = json.dumps(post.blocks, ensure_ascii=False)
    for expected in ("*INC-1*", "Checkout returns 502 errors for EU customers", "(configuration)",
                     "A config push pointed EU checkout at a drained pool", "Rolled the config back",
                     "*PRB-1*", "Config pushes can target drained pools", "Roll back, then check the pool",
                     f"<#{first}>", "<!date^"):
        assert expected in shown, expected
    assert "INC-1" in post.text
    # once, even when its outbox item runs again (a replica that took it over after a stop)
    look_back(running.firebell.deps, attempt=Attempt(0, datetime.now(UTC), unsure=True), incident_id=2)
    running.firebell.settle(30)
    assert len(similar_posts(running, second)) == 1


def test_nothing_is_posted_when_nothing_resolved_is_similar_enough(running: Running):
    first = declare(running, 1, "Checkout returns 502 errors")  # still open: not a past incident to learn from
    declare(running, 2, "Checkout returns 502 errors for everyone")
    third = declare(running, 3, "Search index rebuild is slow")
    resolve(running, first, "software-bug", "A bad release", "Rolled back")
    fourth = declare(running, 4, "Search latency")
    for channel in (running.incident_channel(2).id, third, fourth):
        assert similar_posts(running, channel) == []


def test_search_answers_only_the_asker_with_ranked_hits_and_says_no_match_plainly(running: Running):
    first = declare(running, 1, "Payments gateway timeouts")
    say(running, ALICE, "note acquirer reports connection resets", first)
    resolve(running, first, "dependency", "The acquirer rotated a TLS certificate", "Pinned the new chain")
    second = declare(running, 2, "Login page slow")
    say(running, BOB, "update timeout errors from the session store", second)

    shown = say(running, CAROL, "search timeout", "C0GENERAL")
    assert shown.index("*INC-1*") < shown.index("*INC-2*")  # in the title beats on the timeline
    for expected in ("Payments gateway timeouts", "Resolved", "Declared", "<!date^", f"<#{first}>", f"<#{second}>",
                     "*timeout* errors from the session store", "The acquirer rotated a TLS certificate",
                     "Pinned the new chain"):
        assert expected in shown, expected
    assert running.slack.messages("C0GENERAL") == []  # only the asker saw it (the command's answer)
    assert "No match: no incident mentions “kubernetes”" in say(running, CAROL, "search kubernetes")
    assert "mention some of it" in say(running, CAROL, "search acquirer kubernetes")
    for typed in ('search "unbalanced OR NEAR( * -x :y', "search '; DROP TABLE incidents; --", "search 🔥🔥",
                  "search " + "timeouts " * 250):
        assert "Traceback" not in say(running, CAROL, typed)
    assert "Say what to look for" in say(running, CAROL, "search")


def cli(running: Running, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBELL_"))
           and not k.lower().endswith("_proxy")}
    env.update(DATABASE_URL=running.db.engine.url.render_as_string(hide_password=False), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_firebell_search_and_export_print_what_slack_shows(running: Running):
    first = declare(running, 1, "Payments gateway timeouts")
    resolve(running, first, "dependency", "The acquirer rotated a TLS certificate", "Pinned the new chain")
    say(running, ALICE, "problem new Acquirer certificate rotations", first)
    declare(running, 2, "Payments declined in the EU")
    in_slack = say(running, CAROL, "search payments")

    found = cli(running, "search", "payments", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert [h["id"] for h in hits] == ["INC-2", "INC-1"] and in_slack.index("*INC-2*") < in_slack.index("*INC-1*")
    assert (hits[1]["status"], hits[1]["root_cause"], hits[1]["resolution"], hits[1]["channel_id"]) == (
        "resolved", "The acquirer rotated a TLS certificate", "Pinned the new chain", first)
    text = cli(running, "search", "acquirer", "certificate")
    assert text.returncode == 0 and "INC-1  resolved" in text.stdout and "fixed by: Pinned the new chain" in text.stdout
    nothing = cli(running, "search", "kubernetes")
    assert nothing.returncode == 1 and "no match" in nothing.stdout

    exported = json.loads(cli(running, "export", "--json").stdout)
    assert [(i["id"], i["problem"]) for i in exported] == [("INC-1", "PRB-1"), ("INC-2", None)]
    [problem] = json.loads(cli(running, "export", "--problems", "--json").stdout)
    assert {k: problem[k] for k in ("id", "title", "status", "workaround", "root_cause", "incidents")} == {
        "id": "PRB-1", "title": "Acquirer certificate rotations", "status": "open", "workaround": None,
        "root_cause": None, "incidents": ["INC-1"]}
    assert problem["created_at"] and problem["updated_at"] and problem["resolved_at"] is None


def test_problem_records_from_open_to_resolved(running: Running):
    first = declare(running, 1, "Queue backlog on orders")
    second = declare(running, 2, "Orders queue backlog again", user=BOB)
    third = declare(running, 3, "Orders backlog, third time", user=BOB)

    assert say(running, ALICE, "problem new Orders consumers too few for peak", first) == ""
    assert running.slack.wait_for(lambda: [m for m in running.slack.messages(first) if "opened *PRB-1*" in m.text])
    assert say(running, CAROL, "INC-2 problem link PRB-1") == ""  # anyone may link
    assert any("linked INC-2 to *PRB-1*" in m.text for m in running.slack.wait_for(
        lambda: [m for m in running.slack.messages(second) if "PRB-1" in m.text]))
    say(running, BOB, "problem new Something else", third)
    assert "already linked to PRB-2" in say(running, BOB, "problem link PRB-2", third)

    refused = say(running, CAROL, "problem PRB-1 status known-error")
    assert "Only the commanders of its incidents (<@U0ALICE>, <@U0BOB>) and Firebell admins (<@U0ADMIN>) can change " \
           "PRB-1" in refused
    say(running, BOB, "problem PRB-1 cause Two consumers for twenty partitions")  # BOB commands INC-2
    say(running, ADMIN, "problem PRB-1 workaround Scale the consumers to 20 by hand")
    shown = say(running, ALICE, "problem PRB-1 status known-error")
    for expected in ("*PRB-1*", "Orders consumers too few for peak", "Known error", "Scale the consumers to 20",
                     "Two consumers for twenty partitions", "*INC-1*", "*INC-2*", "<!date^"):
        assert expected in shown, expected
    running.firebell.settle(30)
    assert any("*PRB-1* (Orders consumers too few for peak) has a workaround" in m.text
               for m in running.slack.messages(second))  # its incidents' channels are told
    assert "PRB-1 is already known-error" in say(running, ALICE, "problem PRB-1 status known-error")

    listed = say(running, BOB, "problems")
    assert listed.index("PRB-1") < listed.index("PRB-2") and "2 incidents" in listed and "1 incident" in listed
    assert say(running, ALICE, "problem unlink", first) == ""
    assert "not linked to a problem" in say(running, ALICE, "problem unlink", first)
    assert "can change PRB-1" in say(running, ALICE, "problem PRB-1 status resolved")  # no incident of hers now
    say(running, ADMIN, "problem PRB-1 status resolved")
    assert "PRB-1" not in say(running, BOB, "problems")
    assert "There is no problem PRB-9" in say(running, BOB, "problem PRB-9")
    assert "is not a problem" in say(running, BOB, "problem link INC-3", third)
    timeline = say(running, ALICE, "timeline", first)
    assert "Opened PRB-1" in timeline and "Unlinked from PRB-1" in timeline
