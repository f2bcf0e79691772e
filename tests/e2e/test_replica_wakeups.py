"""Two real `firebell serve` replicas on PostgreSQL hear of a deadline another process made: by NOTIFY (their safety
poll set to ten minutes, so nothing else can tell them in time), or with NOTIFY off by their safety poll. Either
way each notice is sent once.

The deadline is made by a Firebell in the test's process that runs no scheduler of its own: only the replicas can
send its notices. These wait on real time (an SLA window of 3 s) but assert only what the channel holds.
"""

from __future__ import annotations

import time

import pytest
import yaml

from bot.config import FirebellConfig
from tests.e2e.conftest import ALICE, start, stop
from tests.e2e.test_processes import CONFIG, Bot, ack_notices, declared_channel


@pytest.mark.parametrize("path", ["notify", "safety poll"])
def test_a_deadline_made_elsewhere_is_sent_once_by_the_replicas(slack, database_url, tmp_path, path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    notify = path == "notify"
    env = {"FIREBELL_DEADLINE_NOTIFY": "true" if notify else "false",
           "FIREBELL_SAFETY_POLL": "600" if notify else "1"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    replicas = [Bot(slack, database_url, tmp_path / "a", env=env), Bot(slack, database_url, tmp_path / "b", env=env)]
    maker = start(slack, database_url, FirebellConfig.model_validate(yaml.safe_load(CONFIG)),
                  firebell_deadline_notify=notify, firebell_safety_poll=600)
    try:
        maker.driver.slash_command(ALICE, f"declare sev1 Heard by {path}", channel_id="C0GENERAL")
        channel = declared_channel(slack)
        slack.wait_for(lambda: len(ack_notices(slack, channel)) >= 2, timeout=30)
        time.sleep(2)  # more passes of both replicas: nothing is sent twice
        assert [n[:1] for n in ack_notices(slack, channel)] == ["⏳", "🚨"]
    finally:
        stop(maker)
        for bot in replicas:
            bot.stop()
