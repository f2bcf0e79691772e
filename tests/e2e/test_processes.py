"""Real `firebell serve` processes with their schedulers running: a restart loses no notice, two replicas double none.

These wait on real time (SLA windows of a few seconds), but assert only what the channel holds, not timings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.sandbox import SlackDriver, SlackStandIn
from tests.e2e.conftest import ALICE, SIGNING_SECRET

CONFIG = """\
broadcast_channel: C0INCIDENTS
reminders_at: [0.5]
severities:
  sev1: {ack: 3s, update_every: 1h, resolve: 1h}
"""


class Bot:
    def __init__(self, slack: SlackStandIn, database_url: str, workdir: Path, config: str = CONFIG,
                 env: dict[str, str] | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        (workdir / "firebell.yml").write_text(config)
        environ = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        environ.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
                       DATABASE_URL=database_url, **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=workdir, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.driver = SlackDriver(f"http://127.0.0.1:{self.port}/slack/events", SIGNING_SECRET, slack)
        slack.wait_for(self._healthy, timeout=60)

    def _healthy(self) -> bool:
        assert self.process.poll() is None, self.process.communicate()[0]
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output = self.process.communicate(timeout=60)[0]
        assert self.process.returncode == 0, output
        return output


def ack_notices(slack: SlackStandIn, channel: str) -> list[str]:
    return [m.text for m in slack.messages(channel) if "time to acknowledge" in m.text]


def declared_channel(slack: SlackStandIn) -> str:
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-1-")), None))
    slack.wait_for(lambda: slack.channel(channel.id).pins)
    return channel.id


def test_a_restart_sends_what_came_due_while_down_once_and_late(slack, database_url, tmp_path):
    first = Bot(slack, database_url, tmp_path)
    first.driver.slash_command(ALICE, "declare sev1 Restart me", channel_id="C0GENERAL")
    declared_at = time.monotonic()
    channel = declared_channel(slack)
    first.stop()
    assert ack_notices(slack, channel) == []  # stopped before the 50% reminder (1.5 s)
    time.sleep(max(0.0, declared_at + 9 - time.monotonic()))  # the whole window passes while nothing runs
    second = Bot(slack, database_url, tmp_path)
    try:
        [breach] = slack.wait_for(lambda: ack_notices(slack, channel), timeout=30)
        assert breach.startswith("🚨") and "late: Firebell was not running" in breach
        time.sleep(2)  # several more ticks: nothing is sent twice
        assert len(ack_notices(slack, channel)) == 1
    finally:
        second.stop()


def test_two_replicas_send_each_notice_once(slack, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    replicas = [Bot(slack, database_url, tmp_path / "a"), Bot(slack, database_url, tmp_path / "b")]
    try:
        replicas[1].driver.slash_command(ALICE, "declare sev1 Twice?", channel_id="C0GENERAL")
        channel = declared_channel(slack)
        slack.wait_for(lambda: len(ack_notices(slack, channel)) >= 2, timeout=30)
        time.sleep(2)
        notices = ack_notices(slack, channel)
        assert [n[:1] for n in notices] == ["⏳", "🚨"]
    finally:
        for bot in replicas:
            bot.stop()


def test_sigterm_finishes_what_was_accepted_and_loses_nothing(slack, database_url, tmp_path):
    bot = Bot(slack, database_url, tmp_path)
    for i in range(5):
        assert bot.driver.slash_command(ALICE, f"declare sev3 Before shutdown {i}", channel_id="C0GENERAL").status == 200
    output = bot.stop()  # SIGTERM right after the acks: accepted work is finished or left in the database
    assert "Traceback" not in output
    restarted = Bot(slack, database_url, tmp_path)  # delivers whatever the first process left queued
    try:
        for i in range(5):
            channel = slack.wait_for(lambda i=i: next((c for c in slack.channels
                                                       if c.name.endswith(f"before-shutdown-{i}")), None), timeout=30)
            slack.wait_for(lambda channel=channel: slack.channel(channel.id).pins, timeout=30)
        # the five announcements share the broadcast channel, which the process paces at Slack's one post a second
        # after a burst: wait for them, then a moment longer for any duplicate
        slack.wait_for(lambda: len([m for m in slack.messages("C0INCIDENTS") if "Before shutdown" in m.text]) >= 5,
                       timeout=30)
        time.sleep(1)
        announcements = [m for m in slack.messages("C0INCIDENTS") if "Before shutdown" in m.text]
        assert len(announcements) == 5 and len({m.text for m in announcements}) == 5
        assert all(len(slack.channel(c.id).pins) == 1 for c in slack.channels if "before-shutdown" in c.name)
    finally:
        restarted.stop()
