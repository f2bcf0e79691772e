"""A `firebell serve` killed with SIGKILL while it holds a claim: a restart on the same host takes the work over at
once (the dead process's claims are given back at start), and on PostgreSQL a surviving replica takes it over when
the short lease runs out. Either way the declare is carried out once, reusing the channel the killed try made.

The stand-in makes `conversations.create` take effect but answer late, so the killed process is inside that call
(holding the outbox item's claim) when it dies. These wait on real time but assert only what Slack and the logs hold;
the wait_for timeouts are the issue's bounds (5 s for a restart, 30 s for a survivor).
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import ALICE
from tests.e2e.test_processes import Bot

BROADCAST = "C0INCIDENTS"


def kill(bot: Bot) -> None:
    bot.process.send_signal(signal.SIGKILL)
    bot.process.communicate(timeout=30)


def carried_out_once(slack, title: str) -> None:
    channels = [c for c in slack.channels if c.name.endswith(title)]
    assert len(channels) == 1
    assert len(slack.channel(channels[0].id).pins) == 1
    assert len([m for m in slack.messages(BROADCAST) if f"<#{channels[0].id}>" in json.dumps(m.blocks)]) == 1


def declare_and_kill_midway(slack, bot: Bot, title: str) -> None:
    slack.fail("conversations.create", late_by=60)  # made at once, answered a minute later
    bot.driver.slash_command(ALICE, f"declare sev1 {title}", channel_id="C0GENERAL")
    slack.wait_for(lambda: any(c.name.endswith(title.lower().replace(" ", "-")) for c in slack.channels), timeout=30)
    kill(bot)


def pinned(slack, suffix: str):
    return next((c for c in slack.channels if c.name.endswith(suffix) and slack.channel(c.id).pins), None)


def test_a_restart_takes_over_a_killed_process_claims_at_once(slack, database_url, tmp_path):
    first = Bot(slack, database_url, tmp_path)
    declare_and_kill_midway(slack, first, "Killed midway")
    second = Bot(slack, database_url, tmp_path)
    try:
        slack.wait_for(lambda: pinned(slack, "killed-midway"), timeout=5)
        slack.wait_for(lambda: any("Killed midway" in json.dumps(m.blocks) for m in slack.messages(BROADCAST)),
                       timeout=5)
    finally:
        output = second.stop()
    assert "took over the claims of" in output
    carried_out_once(slack, "killed-midway")


def test_a_surviving_replica_takes_over_a_killed_replica_claims(slack, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    doomed, survivor = Bot(slack, database_url, tmp_path / "a"), Bot(slack, database_url, tmp_path / "b")
    try:
        declare_and_kill_midway(slack, doomed, "Replica killed")
        slack.wait_for(lambda: pinned(slack, "replica-killed"), timeout=30)
        slack.wait_for(lambda: any("Replica killed" in json.dumps(m.blocks) for m in slack.messages(BROADCAST)),
                       timeout=10)
    finally:
        survivor.stop()
    carried_out_once(slack, "replica-killed")
