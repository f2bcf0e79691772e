"""A triage message's buttons through the assembled app, without a server: the group comes in through the intake
use case, its triage post is delivered to the stand-in, and a click declares or dismisses it once."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.config import FirebellConfig
from bot.domain.alerts import Source
from bot.runtime import build
from bot.services import alert_intake
from bot.slack.command_parser import RecordChange, ShowChanges, parse_command
from tests.e2e.conftest import ALICE, BOB, BROADCAST, settings_for
from tests.e2e.test_alerts import TRIAGE, group
from tests.handlers.conftest import Assembled
from tests.handlers.test_commands import incidents


def assembled(slack, database_url) -> Assembled:
    slack.add_channel("alerts", channel_id=TRIAGE, members=[ALICE, BOB])
    config = FirebellConfig.model_validate({"broadcast_channel": BROADCAST, "alerts": {"triage_channel": TRIAGE}})
    return Assembled(build(settings_for(slack, database_url), config), slack)


def triaged(app: Assembled, n: int):
    alert_intake.accept(app.firebell.deps, Source.ALERTMANAGER, json.dumps(group(n, severity="info")).encode())
    app.firebell.settle(30)
    return next(m for m in app.slack.messages(TRIAGE) if f"host-{n}" in m.text)


def test_declare_on_a_triage_message_declares_it_once_with_the_alert_details(slack, database_url):
    app = assembled(slack, database_url)
    try:
        post = triaged(app, 1)
        assert [e["action_id"] for b in post.blocks if b["type"] == "actions" for e in b["elements"]] == [
            "alert_declare", "alert_dismiss"]
        first = app.driver.click(BOB, channel_id=TRIAGE, message_ts=post.ts, action_id="alert_declare")
        again = app.driver.interaction(first.sent)  # a double click
        assert first.status == again.status == 200
        app.firebell.settle(30)
        [incident] = incidents(app)
        assert (incident.title, incident.declared_by, incident.severity.value) == ("host-1 is down", BOB, "sev4")
        assert "host-1" in incident.description
        assert any("already declared" in e.text and e.user == BOB for e in slack.ephemerals)
        assert "Declared by" in json.dumps(slack.message(TRIAGE, post.ts).blocks)
    finally:
        app.firebell.close()


def test_dismiss_then_declare_is_refused(slack, database_url):
    app = assembled(slack, database_url)
    try:
        post = triaged(app, 2)
        dismissed = app.driver.click(ALICE, channel_id=TRIAGE, message_ts=post.ts, action_id="alert_dismiss")
        app.firebell.settle(30)
        edited = slack.message(TRIAGE, post.ts)
        assert "Dismissed by" in json.dumps(edited.blocks) and "alert_declare" not in json.dumps(edited.blocks)
        # someone still had the message as it was before the edit, and clicks its Declare
        stale = json.loads(json.dumps(dismissed.sent))
        stale["user"] = {**stale["user"], "id": BOB}
        stale["actions"][0]["action_id"] = "alert_declare"
        assert app.driver.interaction(stale).status == 200
        app.firebell.settle(30)
        assert incidents(app) == []
        assert any("already dismissed by <@U0ALICE>" in e.text and e.user == BOB for e in slack.ephemerals)
    finally:
        app.firebell.close()


def test_the_change_commands_parse():
    assert parse_command("change checkout Deploy v2 &amp; migrate") == RecordChange("checkout", "Deploy v2 & migrate")
    assert parse_command("changes") == ShowChanges(None)
    assert parse_command("changes 6h") == ShowChanges(timedelta(hours=6))
