"""Change events over real HTTP (POST /changes from a pipeline) and by hand (`/incident change`), shown when an
incident starts and on demand, on each database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.sandbox import SlackStandIn
from bot.services import report_figures
from bot.services.incidents import export
from tests.e2e.conftest import ALICE, Timed, answer, stop
from tests.e2e.test_alerts import fixture, send, serve, url
from tests.e2e.test_lifecycle import FILLED


@pytest.fixture
def served(slack: SlackStandIn, database_url: str) -> Iterator[Timed]:
    running = serve(slack, database_url)  # its clock: 10:05 UTC
    try:
        yield running
    finally:
        stop(running)


DEPLOY = {"service": "checkout", "summary": "Deploy v2.14.0 (new payment client)", "author": "ci-bot",
          "url": "https://github.com/acme/checkout/pull/812", "at": "2026-11-24T09:45:00Z", "id": "deploy-812"}


def test_a_pipeline_records_a_change_once_per_id(served: Timed):
    status, body = send(url(served, "/changes"), DEPLOY)
    assert status == 201 and body["change"]["id"] == "deploy-812" and body["change"]["at"] == "2026-11-24T09:45:00+00:00"
    assert send(url(served, "/changes"), DEPLOY)[0] == 200  # a retried step stores nothing new
    status, body = send(url(served, "/changes"), {"service": "search", "summary": "Reindex"})
    assert status == 201 and body["change"]["at"] == "2026-11-24T10:05:00+00:00"  # default: now
    status, body = send(url(served, "/changes"), {"summary": "what?"})
    assert status == 400 and body["error"] == "service: is required"
    assert send(url(served, "/changes"), DEPLOY, token="wrong")[0] == 401
    text = answer(served.driver.slash_command(ALICE, "changes", channel_id="C0GENERAL"))
    assert text.index("search") < text.index("checkout")  # newest first
    assert text.count("Deploy v2.14.0") == 1 and "https://github.com/acme/checkout/pull/812" in text


def test_a_change_by_hand_and_the_window_asked_for(served: Timed):
    driver = served.driver
    said = answer(driver.slash_command(ALICE, "change payments Rotated the PSP API key", channel_id="C0GENERAL"))
    assert "Recorded the change to *payments*" in said
    send(url(served, "/changes"), {**DEPLOY, "at": "2026-11-24T01:00:00Z", "id": "old"})
    recent = answer(driver.slash_command(ALICE, "changes", channel_id="C0GENERAL"))
    assert "Rotated the PSP API key" in recent and f"<@{ALICE}>" in recent and "Deploy v2.14.0" not in recent
    assert "Deploy v2.14.0" in answer(driver.slash_command(ALICE, "changes 12h", channel_id="C0GENERAL"))
    assert "'soon' is not a duration; write it like 90s" in answer(driver.slash_command(ALICE, "changes soon", channel_id="C0GENERAL"))


def test_an_alert_incident_shows_the_changes_before_it(served: Timed):
    slack = served.slack
    send(url(served, "/changes"), DEPLOY)
    send(url(served, "/changes"), {**DEPLOY, "id": "ancient", "summary": "Old deploy", "at": "2026-11-23T09:00:00Z"})
    assert send(url(served), fixture("alertmanager_firing.json"))[0] == 200
    served.firebell.settle(30)
    channel = served.incident_channel(1)
    posts = slack.wait_for(lambda: [m for m in slack.messages(channel.id) if "Changes before this incident" in m.text])
    shown = json.dumps(posts[0].blocks, ensure_ascii=False)
    assert "Deploy v2.14.0" in shown and "Old deploy" not in shown and "ci-bot" in shown
    card = served.card(channel.id)
    assert float(posts[0].ts) > float(card.ts)  # behind the card


def test_a_declare_without_recent_changes_posts_none(served: Timed):
    served.driver.slash_command(ALICE, "declare sev2 Quiet", channel_id="C0GENERAL")
    channel = served.incident_channel(1)
    served.card(channel.id)
    served.firebell.settle(30)
    assert not [m for m in served.slack.messages(channel.id) if "Changes before" in m.text]


def test_the_resolve_form_offers_the_recent_changes_and_the_link_is_exported(served: Timed):
    slack, driver = served.slack, served.driver
    send(url(served, "/changes"), DEPLOY)
    send(url(served, "/changes"), {"service": "search", "summary": "Reindex", "id": "reindex-1"})
    send(url(served), fixture("alertmanager_firing.json"))
    served.firebell.settle(30)
    channel = served.incident_channel(1)
    served.card(channel.id)
    driver.slash_command(ALICE, "resolve", channel_id=channel.id)  # ALICE is an admin
    [view] = slack.wait_for(lambda: [v for v in slack.views_of(ALICE) if v.callback_id == "incident_resolve_modal"])
    picker = next(b for b in view.blocks if b["block_id"] == "caused_by_change")
    assert picker["optional"] is True and picker["label"]["text"] == "Caused by a change?"
    options = {o["text"]["text"]: o["value"] for o in picker["element"]["options"]}
    deploy = next(value for text, value in options.items() if "Deploy v2.14.0" in text)
    assert len(options) == 2
    driver.submit_view(ALICE, view.id, {**FILLED, "caused_by_change": {"value": deploy}})
    slack.wait_for(lambda: served.incidents()[0].status.value == "resolved")
    [exported] = export(served.firebell.deps, None)
    assert exported["caused_by_change"] == {
        "id": "deploy-812", "service": "checkout", "summary": "Deploy v2.14.0 (new payment client)",
        "url": "https://github.com/acme/checkout/pull/812", "author": "ci-bot", "at": "2026-11-24T09:45:00+00:00"}
    assert any(e["kind"] == "caused_by_change" for e in exported["timeline"])
    with served.db.read() as session:
        figures = report_figures.changes(session, None, None)
    assert figures == {"changes": 2, "changes_linked": 1, "change_failure_rate": 0.5}
