"""The HTTP surface: signatures, health, the App Home, and `firebell serve` / `export` as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

from bot.http_server import HttpServer
from bot.web import build_wsgi, health, route
from storage.db import Database
from tests.e2e.conftest import ALICE, SIGNING_SECRET, Running


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def command_body(text: str) -> bytes:
    return urlencode({"command": "/incident", "text": text, "user_id": ALICE, "channel_id": "C0GENERAL",
                      "team_id": "T0FIREBELL", "response_url": "http://127.0.0.1:9/", "trigger_id": "x"}).encode()


def test_unsigned_forged_and_stale_requests_get_401_and_change_nothing(running: Running):
    body = command_body("declare sev1 forged")
    content = "application/x-www-form-urlencoded"
    now = int(time.time())
    assert running.driver.raw(body, content, signature="v0=" + "0" * 64).status == 401
    assert running.driver.raw(body, content, timestamp=now - 600).status == 401
    unsigned = urllib.request.Request(f"{running.server.url}/slack/events", data=body, method="POST")
    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(unsigned, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 401
    assert running.slack.calls_to("conversations.create") == [] and running.incidents() == []


def test_healthz_reports_the_database(running: Running):
    assert get(f"{running.server.url}/healthz") == (200, {"status": "ok", "outbox": {
        "pending": 0, "failed": 0, "oldest_pending_seconds": 0.0}})
    assert get(f"{running.server.url}/nope")[0] == 404
    unreachable = Database.from_url("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    server = HttpServer(build_wsgi([route(["GET"], health.PATH, health.health_check(unreachable))]), "127.0.0.1",
                        0).start()
    try:
        assert get(f"{server.url}/healthz") == (503, {"status": "database unavailable"})
    finally:
        server.stop()


def test_app_home_lists_open_incidents(running: Running):
    running.driver.slash_command(ALICE, "declare sev1 Home test", channel_id="C0GENERAL")
    running.card(running.incident_channel(1).id)
    running.driver.send_event({"type": "app_home_opened", "user": ALICE, "tab": "home", "channel": "D0ALICE"})
    home = running.slack.wait_for(lambda: [v for v in running.slack.views_of(ALICE) if v.type == "home"])[0]
    assert "Home test" in json.dumps(home.blocks)


def _env(slack, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
               DATABASE_URL=database_url, **extra)
    return env


def test_serve_refuses_to_start_without_secrets(slack, tmp_path):
    env = _env(slack, f"sqlite:///{tmp_path}/x.db")
    del env["SLACK_SIGNING_SECRET"]
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("firebell: SLACK_SIGNING_SECRET must be set (in the environment or .env) "
                                     "to serve Slack")


def test_serve_with_a_bad_config_names_the_key(slack, tmp_path):
    (tmp_path / "firebell.yml").write_text("tiers:\n  - {name: L1, members: []}\n")
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], cwd=tmp_path,
                            env=_env(slack, f"sqlite:///{tmp_path}/x.db"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "tiers.0.members: a tier needs at least one member" in result.stderr


def test_a_config_value_that_is_not_an_id_says_what_was_expected(slack, tmp_path):
    """What a new user writes first: a channel's name where its id belongs, and people by name."""
    (tmp_path / "firebell.yml").write_text("broadcast_channel: '#incidents'\n")
    for command in ("serve", "check"):
        result = subprocess.run([sys.executable, "-m", "bot", command, *(["--port", "0"] if command == "serve" else [])],
                                cwd=tmp_path, env=_env(slack, f"sqlite:///{tmp_path}/x.db"), capture_output=True,
                                text=True, timeout=60)
        shown = result.stderr + result.stdout
        assert result.returncode in (1, 2) and "Traceback" not in shown, (command, shown)
        assert ("broadcast_channel: '#incidents' is not a channel id; write the channel's id, e.g. C0123ABCD, found "
                "in the channel's details") in shown, (command, shown)
    (tmp_path / "firebell.yml").write_text("tiers:\n  - {name: L1, members: [alice]}\nadmins: ['@bob']\n")
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], cwd=tmp_path,
                            env=_env(slack, f"sqlite:///{tmp_path}/x.db"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'alice' is not a user or user group id; write a person's member id, e.g. U0123ABCD" in result.stderr
    assert "'@bob' is not a user id; write the person's member id, e.g. U0123ABCD" in result.stderr


def test_firebell_serve_process_declares_and_export_prints_it(slack, database_url, tmp_path):
    import socket

    from bot.sandbox import SlackDriver

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "firebell.yml").write_text("broadcast_channel: C0INCIDENTS\nchannel_prefix: ops\n")
    env = _env(slack, database_url)
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        slack.wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), timeout=60)
        driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, slack)
        assert driver.slash_command(ALICE, "declare sev2 From a real process", channel_id="C0GENERAL").status == 200
        channel = slack.wait_for(lambda: slack.channel_by_name("ops-1-from-a-real-process"))
        slack.wait_for(lambda: slack.channel(channel.id).pins)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert slack.token not in output and SIGNING_SECRET not in output

    exported = subprocess.run([sys.executable, "-m", "bot", "export", "--json", "--since", "30d"], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    [incident] = json.loads(exported.stdout)
    assert incident["id"] == "INC-1" and incident["severity"] == "sev2" and incident["status"] == "declared"
    assert incident["channel_id"] == channel.id and incident["declared_by"] == ALICE
    assert incident["declared_at"].endswith("+00:00") and incident["resolved_at"] is None
    assert [e["kind"] for e in incident["timeline"]] == ["declared"]
    for key in ("title", "commander", "acknowledged_at", "root_cause_category", "root_cause", "resolution"):
        assert key in incident


def _healthy(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False
