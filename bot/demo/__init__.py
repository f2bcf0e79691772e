"""`firebell demo`: a scripted incident against the local Slack stand-in, printed as a transcript.

The script is a list of scenes (bot/demo/script.py), each a function of the `Stage`: what a person types or clicks,
and what Slack shows afterwards. Firebell's clock is the demo's own: it starts eight days ago and moves
on by the minutes each scene says, as a real incident's would. What was played stays in a SQLite file the demo
names, with the commands that read it.
"""

from __future__ import annotations

import logging
import secrets
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import FirebellConfig, Settings, SlackLimits
from bot.demo import monitoring
from bot.demo.script import BROADCAST, SCENES, DemoClock, Stage, play
from bot.demo.transcript import PEOPLE, Transcript
from bot.runtime import build
from bot.sandbox import SlackDriver, SlackStandIn

AGO = timedelta(days=8, hours=2)  # the first incident starts this long ago; the script's last scene is an hour ago


def run_demo(path: Path) -> int:
    """Play the demo, keeping its database in ``path`` (a new file)."""
    logging.basicConfig(level=logging.WARNING)
    # a busy machine queues a request now and then; that is no news to someone watching the demo
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    url = f"sqlite:///{path}"
    clock = DemoClock((datetime.now(UTC) - AGO).replace(second=0, microsecond=0))
    with SlackStandIn() as slack:
        for user_id, name in PEOPLE.items():
            slack.add_user(user_id, name, real_name=name.capitalize())
        slack.add_channel("incidents", channel_id=BROADCAST, members=list(PEOPLE))
        slack.add_channel("general", channel_id="C0GENERAL", members=list(PEOPLE))
        secret = secrets.token_hex(16)
        alert_token = secrets.token_hex(16)
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret=secret, slack_api_url=slack.api_url,
                            database_url=url, _env_file=None, firebell_alert_token=alert_token,
                            slack_limits=SlackLimits(pacing=False))  # the stand-in limits nothing: no need to wait
        firebell = build(settings, FirebellConfig.model_validate({
            "broadcast_channel": BROADCAST,
            # carol and dan take L1 in turns, a week each; carol's week began an hour before the first incident
            "tiers": [{"name": "L1", "ack_timeout": "10m", "schedule": [{
                "users": ["U0CAROL", "U0DAN"], "every": "1w", "timezone": "UTC",
                "handoff": (clock.now - timedelta(hours=1)).replace(tzinfo=None)}]}],
            "severities": {"sev2": {"ack": "15m", "update_every": "1h", "resolve": "8h", "page": "L1"}}}),
            clock=clock)
        server = firebell.server("127.0.0.1", 0).start()
        driver = SlackDriver(f"{server.url}/slack/events", secret, slack)
        transcript = Transcript(slack)
        print(f"Firebell demo: a Slack stand-in at {slack.base_url}, Firebell at {server.url}, "
              f"its database in {path}")
        try:
            stage = Stage(driver, slack, transcript, firebell.settle, clock,
                          facts={"url": server.url, "alert_token": alert_token})
            play(stage, [*SCENES[:-1], monitoring.an_alert_fires, SCENES[-1]])  # alerts, then the month's report
        finally:
            server.stop()
            firebell.close()
    where = shlex.quote(f"DATABASE_URL={url}")
    print(f"\nEverything above is stored in {path}. Read it with:\n"
          f"  {where} firebell export --json\n"
          f"  {where} firebell export --problems --json\n"
          f"  {where} firebell search drained pool\n"
          f"  {where} firebell postmortem INC-1\n"
          "SLA reminders and escalations run on Firebell's scheduler while `firebell serve` runs.")
    return 0
