"""Two real `firebell serve` processes on one PostgreSQL database, their schedulers running: each handoff of a fast
rotation is sent once. Real time passes (a 2-second rotation); only what the channel holds is asserted."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_processes import Bot

ONCALL = "C0ONCALL"


def config() -> str:
    start = (datetime.now(UTC) + timedelta(seconds=1)).replace(tzinfo=None, microsecond=0)
    return f"""\
oncall_channel: {ONCALL}
tiers:
  - name: L1
    schedule: [{{users: [U0ALICE, U0BOB], every: 2s, handoff: "{start.isoformat()}", timezone: UTC}}]
"""


def shift_changes(slack, messages=None) -> list[str]:
    """The instant each handoff notice is for (its "Shift change <!date^…>" token)."""
    found = []
    for message in slack.messages(ONCALL) if messages is None else messages:
        if "L1 handoff" in message.text:
            found += re.findall(r"Shift change <!date\^(\d+)\^", str(message.blocks))
    return found


def test_two_replicas_send_each_handoff_once(slack, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    slack.add_channel("oncall", channel_id=ONCALL, members=["U0ALICE"])
    policy = config()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    replicas = [Bot(slack, database_url, tmp_path / "a", policy), Bot(slack, database_url, tmp_path / "b", policy)]
    try:
        slack.wait_for(lambda: len(shift_changes(slack)) >= 3, timeout=30)
        time.sleep(1)
    finally:
        outputs = [bot.stop() for bot in replicas]
    changes = shift_changes(slack)
    assert [at for at, seen in Counter(changes).items() if seen > 1] == [], outputs
    dms = shift_changes(slack, slack.dms("U0ALICE") + slack.dms("U0BOB"))
    assert dms and [at for at, seen in Counter(dms).items() if seen > 1] == []
