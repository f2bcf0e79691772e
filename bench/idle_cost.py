"""What an idle Firebell costs: database statements and CPU while nothing is due and nothing is queued.

    python bench/idle_cost.py [--seconds 60] [--database-url URL]

Builds Firebell as `firebell serve` does (the outbox's delivery, the scheduler and, on PostgreSQL, its LISTEN
connection), with 100 open incidents whose deadlines are an hour away, lets it settle, then counts for `--seconds`
every statement its engine sends (an SQLAlchemy cursor event; BEGIN and COMMIT included) and the CPU time of the
process. The floor is what the issue allows: one query per safety poll (FIREBELL_SAFETY_POLL, 10 s) and 1% of a
core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notice_lateness import scratch_database  # noqa: E402
from standin_process import StandIn  # noqa: E402

from bot.config import FirebellConfig, Settings, SlackLimits  # noqa: E402
from bot.runtime import build  # noqa: E402
from storage import repositories as repo  # noqa: E402
from storage.models import DeadlineRow  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, StandIn() as slack, scratch_database(args.database_url) as given:
        url = given or f"sqlite:///{Path(tmp) / 'idle.db'}"
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret="bench", slack_api_url=slack.api_url,
                            database_url=url, slack_limits=SlackLimits(pacing=False), _env_file=None)
        firebell = build(settings, FirebellConfig())
        deps = firebell.deps
        channels = slack.add_channels(f"idle-{uuid.uuid4().hex[:6]}", 100)
        later = datetime.now(UTC) + timedelta(hours=1)
        with deps.db.transaction() as session:
            rows = []
            for i, channel in enumerate(channels):
                number = repo.take_incident_number(session, deps.team_id)
                row = repo.add_incident(session, team_id=deps.team_id, number=number, title=f"idle {i}",
                                        description="", severity="sev3", status="declared", channel_id=channel,
                                        declared_by="U0BENCH", commander="U0BENCH", declared_at=datetime.now(UTC))
                rows.append({"incident_id": row.id, "key": f"sla:ack:idle:{i}:0.5", "kind": "sla", "clock": "ack",
                             "fraction": 0.5, "due_at": later, "attempts": 0})
            session.execute(insert(DeadlineRow), rows)
        firebell.start_scheduler()
        time.sleep(3)  # the first pass, the delivery's first look
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement.split()[0].upper())

        event.listen(deps.db.engine, "before_cursor_execute", count)
        cpu0, wall0 = os.times(), time.monotonic()
        time.sleep(args.seconds)
        cpu1, wall = os.times(), time.monotonic() - wall0
        event.remove(deps.db.engine, "before_cursor_execute", count)
        firebell.close()
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    queries = [s for s in statements if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    polls = wall / (settings.firebell_safety_poll)
    kind = url.split(":")[0].split("+")[0]
    print(f"database: {kind}   idle for {wall:.0f} s (safety poll {settings.firebell_safety_poll:.0f} s)")
    print(f"queries: {len(queries)} ({len(queries) / polls:.2f} per safety poll; {len(statements)} statements with "
          f"BEGIN/COMMIT)   floor: 1 per safety poll")
    print(f"CPU: {cpu:.3f} s = {cpu / wall * 100:.3f}% of a core   floor: < 1%")


if __name__ == "__main__":
    main()
