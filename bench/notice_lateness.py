"""How late SLA notices land, the real scheduler running, and what each one costs in CPU.

    python bench/notice_lateness.py [--incidents 1000] [--notices N] [--spread 20] [--database-url URL]

Seeds N open incidents (each with a channel in the Slack stand-in, which runs in a process of its own) and one SLA
deadline per incident: `--notices` of them (default: all) due over `--spread` seconds starting a few seconds from
now, the others an hour later (planned, but not due during the run). Starts Firebell's scheduler (the same one
`firebell serve` runs) and measures, at the stand-in, when each notice arrived against its due time, and the CPU
time this process spent meanwhile (less the benchmark's own thread) per notice delivered: the scheduler's claim,
the notice's post, the card edit and the database writes. The floor, measured in the same run: one
chat.postMessage round trip to the same stand-in (a notice cannot land faster than that after it is due).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from standin_process import StandIn  # noqa: E402

from bot.config import FirebellConfig, Settings, SlackLimits  # noqa: E402
from bot.runtime import build  # noqa: E402
from bot.slack.gateway import SlackGateway, make_client  # noqa: E402
from storage import repositories as repo  # noqa: E402
from storage.db import make_engine, normalise_url  # noqa: E402
from storage.models import DeadlineRow  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--notices", type=int, default=None, help="how many come due in the run (default: all)")
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which the notices fall due")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    notices = args.incidents if args.notices is None else min(args.notices, args.incidents)

    with tempfile.TemporaryDirectory() as tmp, StandIn() as slack, scratch_database(args.database_url) as given:
        url = given or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(slack_bot_token=slack.token, slack_signing_secret="bench", slack_api_url=slack.api_url,
                            database_url=url, slack_limits=SlackLimits(pacing=False), _env_file=None)
        firebell = build(settings, FirebellConfig())  # applies the migrations
        deps = firebell.deps
        floor = measure_floor(slack)
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        channels = slack.add_channels(prefix, args.incidents)

        with deps.db.transaction() as session:
            base = repo.take_incident_number(session, deps.team_id)
            ids = []
            for i, channel in enumerate(channels):
                number = base + i if i == 0 else repo.take_incident_number(session, deps.team_id)
                ids.append(repo.add_incident(session, team_id=deps.team_id, number=number, title=f"bench {i}",
                                             description="", severity="sev3", status="declared", channel_id=channel,
                                             declared_by="U0BENCH", commander="U0BENCH",
                                             declared_at=datetime.now(UTC)).id)
        start = datetime.now(UTC) + timedelta(seconds=5)  # once the incidents are in: their seeding is not measured
        due: dict[str, datetime] = {}
        rows = []
        for i, (channel, incident_id) in enumerate(zip(channels, ids, strict=True)):
            at = start + timedelta(seconds=args.spread * i / notices) if i < notices else start + timedelta(hours=1)
            rows.append({"incident_id": incident_id, "key": f"sla:ack:bench:{i}:0.5", "kind": "sla", "clock": "ack",
                         "fraction": 0.5, "due_at": at, "attempts": 0})
            if i < notices:
                due[channel] = at
        with deps.db.transaction() as session:
            session.execute(insert(DeadlineRow), rows)
        wall0 = time.time()
        cpu0, own0 = os.times(), time.thread_time()
        firebell.start_scheduler()
        deadline = time.monotonic() + args.spread + 60 + (start - datetime.now(UTC)).total_seconds()
        landed: dict[str, float] = {}
        while time.monotonic() < deadline and len(landed) < len(due):
            time.sleep(0.5)
            landed = {c: at for c, at in slack.arrivals(prefix).items() if c in due}
        cpu1, own1 = os.times(), time.thread_time()
        firebell.close()

    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system) - (own1 - own0)
    lateness = [at - due[channel].timestamp() for channel, at in landed.items()]
    kind = url.split(":")[0].split("+")[0]
    print(f"database: {kind}   open incidents: {args.incidents}   {notices} notices due over {args.spread:.0f}s "
          f"({notices / args.spread:.0f}/s)")
    print(f"{'':24}{'p50':>10}{'p99':>10}{'max':>10}")
    print(f"{'notice lateness (s)':24}{percentile(lateness, 50):>10.3f}{percentile(lateness, 99):>10.3f}"
          f"{max(lateness):>10.3f}")
    print(f"{'floor: one post (s)':24}{statistics.median(floor):>10.3f}{percentile(floor, 99):>10.3f}"
          f"{max(floor):>10.3f}")
    print(f"CPU per notice delivered: {cpu / max(len(landed), 1) * 1000:.2f} ms "
          f"({cpu:.1f} s over {time.time() - wall0:.0f} s, idle time included)")
    print(f"landed {len(landed)}/{len(due)}")


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


def measure_floor(slack: StandIn, samples: int = 50) -> list[float]:
    gateway = SlackGateway(make_client(slack.token, slack.api_url))
    [channel] = slack.add_channels(f"floor-{uuid.uuid4().hex[:6]}", 1)
    timings = []
    for i in range(samples):
        began = time.perf_counter()
        gateway.post(channel, f"floor {i}")
        timings.append(time.perf_counter() - began)
    return timings


if __name__ == "__main__":
    main()
