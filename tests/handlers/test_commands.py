"""`/incident …` through the assembled app, without a server: what the person is answered, what is stored."""

from __future__ import annotations

from tests.e2e.conftest import ALICE, BOB, answer
from tests.handlers.conftest import Assembled


def incidents(app: Assembled):
    from storage import repositories as repo

    with app.db.read() as session:
        return repo.incidents_since(session, None)


def test_help_lists_the_commands(app: Assembled):
    text = answer(app.driver.slash_command(ALICE, "help", channel_id="C0GENERAL"))
    assert "Firebell: incident commands" in text and "declare [--private] [sev1…sev4] <title>" in text


def test_an_unknown_verb_says_how_to_write_commands_and_changes_nothing(app: Assembled):
    text = answer(app.driver.slash_command(ALICE, "explode now", channel_id="C0GENERAL"))
    assert "`explode` is not an incident command" in text and "`/incident help`" in text
    assert incidents(app) == [] and app.slack.calls_to("conversations.create") == []


def test_declare_answers_at_once_then_creates_the_incident(app: Assembled):
    text = answer(app.driver.slash_command(ALICE, "declare sev1 Checkout is down", channel_id="C0GENERAL"))
    assert text == "Declaring a SEV1 incident…"
    app.firebell.settle(30)
    [incident] = incidents(app)
    assert (incident.ref, incident.title, incident.severity.value, incident.declared_by) == (
        "INC-1", "Checkout is down", "sev1", ALICE)


def test_declare_without_a_title_opens_the_form(app: Assembled):
    assert answer(app.driver.slash_command(ALICE, "declare sev2", channel_id="C0GENERAL")) == ""
    [form] = app.slack.wait_for(lambda: app.slack.open_views(ALICE))  # opened right after the ack
    assert form.callback_id == "declare_incident_modal"
    assert incidents(app) == []


def test_list_with_nothing_open_says_so(app: Assembled):
    assert "No open incidents" in answer(app.driver.slash_command(BOB, "list", channel_id="C0GENERAL"))


def test_an_incident_command_outside_an_incidents_channel_says_how_to_name_one(app: Assembled):
    text = answer(app.driver.slash_command(ALICE, "ack", channel_id="C0GENERAL"))
    assert "This channel is not an incident's" in text and "`/incident INC-7 ack`" in text
    assert answer(app.driver.slash_command(ALICE, "INC-9 ack", channel_id="C0GENERAL")) == (
        "There is no incident INC-9.")


def test_a_move_the_lifecycle_forbids_lists_the_valid_ones(app: Assembled):
    app.driver.slash_command(ALICE, "declare Queue backlog", channel_id="C0GENERAL")
    app.firebell.settle(30)
    text = answer(app.driver.slash_command(ALICE, "INC-1 status declared", channel_id="C0GENERAL"))
    assert "The status must be one of: investigating, identified, monitoring." in text
    text = answer(app.driver.slash_command(ALICE, "INC-1 status resolved", channel_id="C0GENERAL"))
    assert "To resolve an incident, use `/incident resolve`" in text  # it asks for the root cause
    assert incidents(app)[0].status.value == "declared"


def test_only_the_commander_changes_the_severity(app: Assembled):
    app.driver.slash_command(ALICE, "declare sev3 Slow search", channel_id="C0GENERAL")
    app.firebell.settle(30)
    text = answer(app.driver.slash_command(BOB, "INC-1 sev 1", channel_id="C0GENERAL"))
    assert text.startswith("Only the commander (<@U0ALICE>)") and "can change the severity of INC-1" in text
    assert incidents(app)[0].severity.value == "sev3"
    assert answer(app.driver.slash_command(ALICE, "INC-1 sev 1", channel_id="C0GENERAL")) == ""
    assert incidents(app)[0].severity.value == "sev1"
