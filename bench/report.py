"""`firebell report --since 90d --json` at 1,000 and 100,000 stored incidents, on SQLite and PostgreSQL.

Targets: ≤ 1 s at 100,000, and ≤ 3x the same report at 1,000 (the floor, measured in the same run). Both sizes
spread their incidents over the same three years, as a team's history grows: 100,000 puts about 8,200 incidents in
the last 90 days, 1,000 about 80. Each incident has the clock runs Firebell records (ack, resolve, one to four
update cycles) and a page, one in five escalated. Two figures per size: the whole command as a person runs it (a new
process: imports, the schema check, the queries, the JSON), and the report's own work in process (queries and
arithmetic), median of several runs.

    python bench/report.py [--incidents 100000] [--postgres URL] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import DateTime, bindparam, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notice_lateness import scratch_database  # noqa: E402

from bot.domain import periods  # noqa: E402
from bot.domain.kpi import to_json  # noqa: E402
from bot.services import report_figures  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEAM = "T0BENCH"
NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = timedelta(days=3 * 365)


def seed(db: Database, count: int, team: str = TEAM) -> None:
    rng = random.Random(count)
    sqlite = db.dialect == "sqlite"

    def at(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=None) if sqlite and value is not None else value

    incidents, clocks, pages = [], [], []
    page_id = 0
    for number in range(1, count + 1):
        declared = NOW - SPAN + SPAN * (number / count) - timedelta(minutes=rng.randint(0, 60))
        severity = rng.choice(["sev1", "sev2", "sev2", "sev3", "sev3", "sev3", "sev4"])
        is_open = number > count - 5
        acked = declared + timedelta(seconds=rng.expovariate(1 / 600))
        resolved = None if is_open else declared + timedelta(seconds=rng.expovariate(1 / 9000) + 600)
        incidents.append({"id": number, "number": number, "severity": severity, "declared": at(declared),
                          "acked": at(acked), "resolved": at(resolved), "status": "investigating" if is_open
                          else "resolved", "reopened": at(declared + timedelta(hours=1)) if rng.random() < 0.03
                          else None, "category": None if is_open else rng.choice(
                              ["software-bug", "configuration", "capacity", "dependency"])})
        runs = [("ack", declared, 900, acked), ("resolve", declared, 4 * 3600, resolved)]
        start = declared
        for _ in range(rng.randint(1, 4)):
            end = start + timedelta(seconds=rng.uniform(600, 4000))
            runs.append(("update", start, 1800, end if resolved is None or end < resolved else resolved))
            start = end
        for clock, started, target, stopped in runs:
            due = started + timedelta(seconds=target)
            outcome = None if stopped is None else ("met" if stopped <= due else "breached")
            clocks.append({"incident": number, "clock": clock, "started": at(started), "target": target,
                           "due": at(due), "stopped": at(stopped), "outcome": outcome,
                           "by": None if stopped is None else int(abs((due - stopped).total_seconds()))})
        page_id += 1
        pages.append({"id": page_id, "incident": number, "at": at(declared), "from": None})
        if rng.random() < 0.2:
            page_id += 1
            pages.append({"id": page_id, "incident": number, "at": at(declared + timedelta(minutes=10)),
                          "from": page_id - 1})
    stamp = lambda *names: [bindparam(n, type_=DateTime()) for n in names]  # noqa: E731
    add_incident = text(
        "INSERT INTO incidents (id, team_id, number, title, description, severity, status, channel_id, declared_by, "
        "commander, declared_at, acknowledged_at, resolved_at, reopened_at, root_cause_category) VALUES (:id, "
        f"'{team}', :number, 'an incident', '', :severity, :status, 'C' || :number, 'U0A', 'U0A', :declared, :acked, "
        ":resolved, :reopened, :category)").bindparams(*stamp("declared", "acked", "resolved", "reopened"))
    add_clock = text("INSERT INTO sla_clocks (incident_id, clock, started_at, target_seconds, due_at, stopped_at, "
                     "outcome, by_seconds) VALUES (:incident, :clock, :started, :target, :due, :stopped, :outcome, "
                     ":by)").bindparams(*stamp("started", "due", "stopped"))
    add_page = text("INSERT INTO pages (id, incident_id, tier, reason, paged_at, status, escalated_from) VALUES "
                    "(:id, :incident, 'L1', '', :at, 'stopped', :from)").bindparams(*stamp("at"))
    with db.transaction() as session:
        for statement, rows in ((add_incident, incidents), (add_clock, clocks), (add_page, pages)):
            for begin in range(0, len(rows), 10000):
                session.execute(statement, rows[begin:begin + 10000])
    if not sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


@contextmanager
def database(url: str | None, tmp: Path, count: int) -> Iterator[tuple[Database, str]]:
    with scratch_database(url) as scratch:
        database_url = scratch or f"sqlite:///{tmp / f'report-{count}.db'}"
        db = Database.from_url(database_url)
        migrate.upgrade(db.engine)
        seed(db, count)
        try:
            yield db, database_url
        finally:
            db.dispose()


def in_process(db: Database, runs: int) -> tuple[float, int]:
    taken, counted = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        now = datetime.now(UTC)
        with db.read() as session:
            report = report_figures.build(session, periods.last("90d", now), now)
        json.dumps(to_json(report))
        taken.append(time.perf_counter() - began)
        counted = report.incidents
    return statistics.median(taken), counted


def command(database_url: str, runs: int) -> float:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    taken = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "report", "--since", "90d", "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        taken.append(time.perf_counter() - began)
    return statistics.median(taken)


def measure(large: int, postgres: str | None, runs: int) -> list[str]:
    lines = []
    for name, url in (("SQLite", None), ("PostgreSQL", postgres)):
        if name == "PostgreSQL" and not postgres:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            figures = {}
            for size in (1000, large):
                with database(url, Path(tmp), size) as (db, database_url):
                    in_process(db, 2)  # warm the caches, as a second run of the command would find them
                    work, counted = in_process(db, runs)
                    figures[size] = (command(database_url, runs), work, counted)
        (cmd_s, work_s, n_s), (cmd_l, work_l, n_l) = figures[1000], figures[large]
        lines.append(f"report --since 90d --json, {name} @{large // 1000}k ({n_l:,} in the period): command "
                     f"{cmd_l * 1000:.0f} ms (@1k, {n_s} in the period: {cmd_s * 1000:.0f} ms) = {cmd_l / cmd_s:.2f}x "
                     f"[target ≤ 1 s and ≤ 3x]; the report's own work {work_l * 1000:.0f} ms (@1k "
                     f"{work_s * 1000:.1f} ms)")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    measure(args.incidents, args.postgres or None, args.runs)


if __name__ == "__main__":
    main()
