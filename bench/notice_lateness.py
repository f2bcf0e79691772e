"""How late SLA notices land with 1,000 open incidents, the real scheduler ticking.

    python bench/notice_lateness.py [--incidents 1000] [--spread 20] [--database-url URL]

Seeds N open incidents (each with a channel in the local Slack stand-in) and one SLA notice per incident,
due over `--spread` seconds starting a few seconds from now; starts Firebell's scheduler (APScheduler, the
same tick `firebell serve` runs) and measures, at the stand-in, when each notice arrived against its due time.
The floor, measured in the same run: one chat.postMessage round trip to the same stand-in (a notice cannot
land faster than that after the tick that finds it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import FirebellConfig, Settings
from bot.runtime import build
from bot.sandbox import SlackStandIn
from bot.slack.gateway import SlackGateway, make_client
from storage import repositories as repo
from storage.db import make_engine, normalise_url
from storage.models import DeadlineRow


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which the notices fall due")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack, scratch_database(args.database_url) as given:
        url = given or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret="bench", slack_api_url=slack.api_url,
                            database_url=url, _env_file=None)
        firebell = build(settings, FirebellConfig())  # applies the migrations
        deps = firebell.deps
        floor = measure_floor(slack)

        start = datetime.now(UTC) + timedelta(seconds=5)
        due: dict[str, datetime] = {}
        with deps.db.transaction() as session:
            base = repo.take_incident_number(session, deps.team_id)
            for i in range(args.incidents):
                channel = slack.add_channel(f"bench-{base + i}")
                number = base + i if i == 0 else repo.take_incident_number(session, deps.team_id)
                row = repo.add_incident(session, team_id=deps.team_id, number=number, title=f"bench {i}",
                                        description="", severity="sev3", status="declared", channel_id=channel,
                                        declared_by="U0BENCH", commander="U0BENCH",
                                        declared_at=datetime.now(UTC))
                at = start + timedelta(seconds=args.spread * i / args.incidents)
                session.add(DeadlineRow(incident_id=row.id, key=f"sla:ack:bench:{i}:0.5", kind="sla", clock="ack",
                                        fraction=0.5, due_at=at, attempts=0))
                due[channel] = at
        wall0, mono0 = time.time(), time.monotonic()
        firebell.start_scheduler()
        deadline = time.monotonic() + args.spread + 60
        while time.monotonic() < deadline and len(arrivals(slack, due)) < len(due):
            time.sleep(0.2)
        landed = arrivals(slack, due)
        firebell.close()

    lateness = [(wall0 + (at - mono0)) - due[channel].timestamp() for channel, at in landed.items()]
    kind = url.split(":")[0].split("+")[0]
    print(f"database: {kind}   open incidents: {args.incidents}   notices due over {args.spread:.0f}s")
    print(f"{'':24}{'p50':>10}{'p99':>10}{'max':>10}")
    print(f"{'notice lateness (s)':24}{percentile(lateness, 50):>10.3f}{percentile(lateness, 99):>10.3f}"
          f"{max(lateness):>10.3f}")
    print(f"{'floor: one post (s)':24}{statistics.median(floor):>10.3f}{percentile(floor, 99):>10.3f}"
          f"{max(floor):>10.3f}")
    print(f"landed {len(landed)}/{len(due)}; target: p99 lateness under 2 s")


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str | None]:
    """On a PostgreSQL server, a fresh database for this run, dropped afterwards."""
    if not server_url:
        yield None
        return
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"firebell_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def arrivals(slack: SlackStandIn, due: dict[str, datetime]) -> dict[str, float]:
    return {c.args.get("channel"): c.at for c in slack.calls_to("chat.postMessage")
            if c.ok and c.args.get("channel") in due}


def measure_floor(slack: SlackStandIn, samples: int = 50) -> list[float]:
    gateway = SlackGateway(make_client(slack.token, slack.api_url))
    channel = slack.add_channel("floor")
    timings = []
    for i in range(samples):
        began = time.perf_counter()
        gateway.post(channel, f"floor {i}")
        timings.append(time.perf_counter() - began)
    return timings


if __name__ == "__main__":
    main()
