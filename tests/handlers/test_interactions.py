"""Forms, events and forged requests through the assembled app, without a server."""

from __future__ import annotations

import json

from bot.sandbox.transport import Response
from tests.e2e.conftest import ALICE
from tests.handlers.conftest import Assembled
from tests.handlers.test_commands import incidents


def declare_form(app: Assembled):
    app.driver.slash_command(ALICE, "declare", channel_id="C0GENERAL")
    return app.slack.wait_for(lambda: app.slack.open_views(ALICE))[-1]  # opened right after the ack


def test_a_declare_form_without_a_title_is_refused_on_the_title(app: Assembled):
    form = declare_form(app)
    response = app.driver.submit_view(ALICE, form.id, {"title": {"value": "   "}})
    assert response.json()["response_action"] == "errors"
    assert "An incident needs a title" in response.json()["errors"]["title"]
    assert incidents(app) == []


def test_a_form_submitted_twice_declares_once(app: Assembled):
    form = declare_form(app)
    payload_values = {"title": {"value": "Login fails"}, "severity": {"value": "sev2"}}
    first = app.driver.submit_view(ALICE, form.id, payload_values)
    assert first.status == 200 and not first.body.strip()
    again = app.driver.interaction(first.sent)  # Slack resends the very same submission
    assert again.json() == {"response_action": "errors", "errors": {"title": "This form was already submitted."}}
    app.firebell.settle(30)
    assert [(i.title, i.severity.value) for i in incidents(app)] == [("Login fails", "sev2")]


def test_app_home_is_published_once_per_event(app: Assembled):
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"}
    app.driver.send_event(event, event_id="Ev0HOME1")
    app.slack.wait_for(lambda: app.slack.calls_to("views.publish"))  # events are handled after Bolt's ack
    app.driver.send_event(event, event_id="Ev0HOME1", retry_num=1)  # Slack's redelivery of the same event
    app.driver.send_event(event, event_id="Ev0HOME2")  # a new opening of the tab: published again
    app.slack.wait_for(lambda: len(app.slack.calls_to("views.publish")) >= 2)
    app.firebell.settle(30)
    assert len(app.slack.calls_to("views.publish")) == 2
    [home] = [v for v in app.slack.views_of(ALICE) if v.type == "home"]
    assert "No open incidents" in json.dumps(home.blocks)


def test_a_request_with_a_wrong_signature_is_refused_and_does_nothing(app: Assembled):
    body = "command=%2Fincident&text=declare+sev1+Forged&user_id=U0ALICE&team_id=T0FIREBELL&channel_id=C0GENERAL"
    response: Response = app.driver.raw(body.encode(), "application/x-www-form-urlencoded", signature="v0=bad")
    assert response.status == 401
    app.firebell.settle(30)
    assert incidents(app) == []
