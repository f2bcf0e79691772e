"""manifest.yml is valid against Slack's schema and names exactly what the code registers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from bot.slack.ids import COMMAND, Shortcut
from tests.e2e.conftest import ALICE, Running

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())


def schema_path() -> Path:
    given = os.environ.get("FIREBELL_MANIFEST_SCHEMA")
    return Path(given) if given else ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"


def test_manifest_matches_slacks_published_schema():
    path = schema_path()
    if not path.exists():
        pytest.skip(f"Slack's manifest schema is not at {path} (set FIREBELL_MANIFEST_SCHEMA)")
    import jsonschema

    jsonschema.Draft7Validator(json.loads(path.read_text())).validate(MANIFEST)


def socket_mode_variant(manifest: dict) -> dict:
    """The switch manifest.yml documents for `firebell serve --socket-mode`: Socket Mode on, no request URLs."""
    variant = json.loads(json.dumps(manifest))
    variant["settings"]["socket_mode_enabled"] = True
    for command in variant["features"]["slash_commands"]:
        del command["url"]
    del variant["settings"]["event_subscriptions"]["request_url"]
    del variant["settings"]["interactivity"]["request_url"]
    return variant


def test_the_socket_mode_variant_matches_slacks_schema_too():
    path = schema_path()
    if not path.exists():
        pytest.skip(f"Slack's manifest schema is not at {path} (set FIREBELL_MANIFEST_SCHEMA)")
    import jsonschema

    variant = socket_mode_variant(MANIFEST)
    jsonschema.Draft7Validator(json.loads(path.read_text())).validate(variant)
    assert "firebell.example.com" not in json.dumps(variant)  # no public URL is needed
    assert "socket_mode_enabled: true" in (ROOT / "manifest.yml").read_text()  # the switch is documented there


def test_every_request_url_is_the_one_events_endpoint_on_one_host():
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls += [MANIFEST["settings"]["event_subscriptions"]["request_url"],
             MANIFEST["settings"]["interactivity"]["request_url"]]
    assert set(urls) == {"https://firebell.example.com/slack/events"}


def test_manifest_names_exactly_the_code_ids():
    assert [c["command"] for c in MANIFEST["features"]["slash_commands"]] == [COMMAND]
    assert {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]} == {s.value for s in Shortcut}
    kinds = {s["callback_id"]: s["type"] for s in MANIFEST["features"]["shortcuts"]}
    assert kinds == {Shortcut.DECLARE.value: "global", Shortcut.DECLARE_FROM_MESSAGE.value: "message",
                     Shortcut.ADD_TO_TIMELINE.value: "message"}


def test_the_served_app_answers_what_the_manifest_declares_and_nothing_else(running: Running):
    driver, slack = running.driver, running.slack
    ts = slack.post_user_message("C0GENERAL", ALICE, "hello")
    for shortcut in MANIFEST["features"]["shortcuts"]:
        if shortcut["type"] == "global":
            response = driver.global_shortcut(ALICE, shortcut["callback_id"])
        else:
            response = driver.message_shortcut(ALICE, shortcut["callback_id"], channel_id="C0GENERAL", message_ts=ts)
        assert response.status == 200, shortcut
    assert driver.global_shortcut(ALICE, "not_in_the_manifest").status == 404
    for command in MANIFEST["features"]["slash_commands"]:
        assert driver.slash_command(ALICE, "help", channel_id="C0GENERAL", command=command["command"]).status == 200
    assert driver.slash_command(ALICE, "help", channel_id="C0GENERAL", command="/other").status == 404
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        assert driver.send_event({"type": event, "user": ALICE, "tab": "home"}).status == 200
