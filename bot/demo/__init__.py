"""`firebell demo`: a scripted incident against the local Slack stand-in, printed as a transcript.

The script is a list of scenes (bot/demo/script.py), each a function of the `Stage`: what a person types or clicks,
and what Slack shows afterwards.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path

from bot.config import FirebellConfig, Settings
from bot.demo import monitoring
from bot.demo.script import BROADCAST, SCENES, Stage, play
from bot.demo.transcript import PEOPLE, Transcript
from bot.runtime import build
from bot.sandbox import SlackDriver, SlackStandIn


def run_demo() -> int:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        for user_id, name in PEOPLE.items():
            slack.add_user(user_id, name)
        slack.add_channel("incidents", channel_id=BROADCAST, members=list(PEOPLE))
        slack.add_channel("general", channel_id="C0GENERAL", members=list(PEOPLE))
        secret = secrets.token_hex(16)
        alert_token = secrets.token_hex(16)
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret=secret, slack_api_url=slack.api_url,
                            database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", _env_file=None,
                            firebell_alert_token=alert_token)
        firebell = build(settings, FirebellConfig.model_validate({
            "broadcast_channel": BROADCAST,
            "tiers": [{"name": "L1", "members": ["U0CAROL"], "ack_timeout": "10m"}],
            "severities": {"sev2": {"ack": "15m", "update_every": "1h", "resolve": "8h", "page": "L1"}}}))
        server = firebell.server("127.0.0.1", 0).start()
        driver = SlackDriver(f"{server.url}/slack/events", secret, slack)
        transcript = Transcript(slack)
        print(f"Firebell demo: a Slack stand-in at {slack.base_url}, Firebell at {server.url}, SQLite in {tmp}")
        try:
            stage = Stage(driver, slack, transcript, firebell.settle,
                          facts={"url": server.url, "alert_token": alert_token})
            play(stage, [*SCENES, monitoring.an_alert_fires])
        finally:
            server.stop()
            firebell.close()
    return 0


