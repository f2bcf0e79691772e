"""How late SLA notices land, the real scheduler running, and what each one costs in CPU.

    python bench/notice_lateness.py [--incidents 1000] [--notices N] [--spread 20] [--database-url URL]

Seeds N open incidents (each with a channel in the Slack stand-in, which runs in a process of its own) and one SLA
deadline per incident: `--notices` of them (default: all) due over `--spread` seconds starting a few seconds from
now, the others an hour later (planned, but not due during the run). Starts Firebell's scheduler (the same one
`firebell serve` runs) and measures, at the stand-in, when each notice arrived against its due time, and the CPU
time this process spent meanwhile (less the benchmark's own thread) per notice delivered: the scheduler's claim,
the notice's post, the card edit and the database writes. The floor, measured in the same run: one
chat.postMessage round trip to the same stand-in (a notice cannot land faster than that after it is due).

With ``--replicas N`` (PostgreSQL only) the deadlines are delivered by N real `firebell serve` processes on the one
database, and made elsewhere: this process writes each notice's deadline a little before it is due (``--lead``
seconds), in its own transaction whose commit NOTIFYs the replicas, as a replica that changed an incident would.
Neither server knows of a deadline until told (or until it reads the next due time after a claim); both wake for it
and race for the claim, and the one that gets it posts the notice. The CPU figure is then the servers' (both
processes, read from /proc), and how many notices each delivered is shown.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
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
from storage import wakeups  # noqa: E402
from storage.db import make_engine, normalise_url  # noqa: E402
from storage.models import DeadlineRow  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--notices", type=int, default=None, help="how many come due in the run (default: all)")
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which the notices fall due")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--replicas", type=int, default=0,
                        help="deliver with this many `firebell serve` processes (PostgreSQL; default: none, the "
                             "scheduler runs in this process)")
    parser.add_argument("--lead", type=float, default=2.0,
                        help="with --replicas: how long before its due time each deadline is written")
    args = parser.parse_args()
    notices = args.incidents if args.notices is None else min(args.notices, args.incidents)
    if args.replicas and not args.database_url:
        parser.error("--replicas needs --database-url (a PostgreSQL server)")

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
        servers = [Server(slack, url, Path(tmp) / f"replica{n}") for n in range(args.replicas)]
        for server in servers:
            server.wait_ready()
        start = datetime.now(UTC) + timedelta(seconds=5)  # once the incidents are in: their seeding is not measured
        due: dict[str, datetime] = {}
        rows = []
        for i, (channel, incident_id) in enumerate(zip(channels, ids, strict=True)):
            at = start + timedelta(seconds=args.spread * i / notices) if i < notices else start + timedelta(hours=1)
            rows.append({"incident_id": incident_id, "key": f"sla:ack:bench:{i}:0.5", "kind": "sla", "clock": "ack",
                         "fraction": 0.5, "due_at": at, "attempts": 0})
            if i < notices:
                due[channel] = at
        if args.replicas:
            later = [r for r in rows if r["due_at"] > start + timedelta(minutes=30)]
            soon = sorted((r for r in rows if r["due_at"] <= start + timedelta(minutes=30)), key=lambda r: r["due_at"])
            with deps.db.transaction() as session:  # the ones not due in the run: planned from the start
                if later:
                    session.execute(insert(DeadlineRow), later)
            start_replicas = [server.cpu() for server in servers]
            wall0 = time.time()
            write_just_in_time(deps, soon, args.lead)
            deadline = time.monotonic() + 60
        else:
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
        if args.replicas:
            cpu = sum(server.cpu() - began for server, began in zip(servers, start_replicas, strict=True))
            with deps.db.read() as session:
                by = dict(session.execute(text(
                    "SELECT split_part(claimed_by, ':', 2), count(*) FROM deadlines WHERE sent_at IS NOT NULL "
                    "GROUP BY 1")).all())
            for server in servers:
                server.stop()
        else:
            cpu1, own1 = os.times(), time.thread_time()
            cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system) - (own1 - own0)
        firebell.close()

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
    if args.replicas:
        print(f"{args.replicas} replicas (firebell serve), deadlines written {args.lead:.1f}s before due by this "
              f"process; sent by each: " + ", ".join(f"pid {pid}: {n}" for pid, n in sorted(by.items())))


def write_just_in_time(deps: object, rows: list[dict], lead: float, step: float = 0.05) -> None:
    """Write each deadline ``lead`` seconds before it is due, a transaction per ``step``, each committed with the
    NOTIFY a replica's change sends (storage/wakeups.py)."""
    db = deps.db  # type: ignore[attr-defined]
    i = 0
    while i < len(rows):
        horizon = datetime.now(UTC) + timedelta(seconds=lead)
        batch = []
        while i < len(rows) and rows[i]["due_at"] <= horizon:
            batch.append(rows[i])
            i += 1
        if batch:
            with db.transaction() as session:
                session.execute(insert(DeadlineRow), batch)
                wakeups.deadline_written(session, batch[0]["due_at"])
        if i < len(rows):
            time.sleep(max(0.0, min(step, (rows[i]["due_at"] - horizon).total_seconds())))


class Server:
    """A `firebell serve` process against the stand-in and the benchmark's database."""

    def __init__(self, slack: StandIn, database_url: str, workdir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "firebell.yml").write_text("")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET="bench", SLACK_API_URL=slack.api_url,
                   DATABASE_URL=database_url, PYTHONPATH=str(ROOT), SLACK_LIMITS='{"pacing": false}')
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port",
                                         str(self.port)], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(workdir / "stderr.log", "w"))  # noqa: SIM115

    def wait_ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    time.sleep(1.0)  # its scheduler and LISTEN connection start with the server
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"firebell serve exited ({self.process.returncode})") from None
                time.sleep(0.2)
        raise RuntimeError("firebell serve did not start")

    def cpu(self) -> float:
        """User and system CPU seconds of the process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


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
