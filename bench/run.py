"""Firebell's benchmark suite: `python bench/run.py` prints one table (about four minutes on two cores).

Every figure is measured in this run beside its floor, so machine noise shows in both:
- answer latency of signed `/incident help` and `/incident list` at concurrency 1 and 10, against a bare Bolt app
  with a no-op listener served by the same HTTP server (bench/bare_app.py); and of `/incident report 30d` at 10;
- declare end to end (request → channel, pinned card and announcement at the Slack stand-in), SQLite and PostgreSQL;
- declares per second sustained for 30 s, and the peak RSS of `firebell serve` after it;
- notice lateness and CPU per notice with 1,000 open incidents (50 notices a second) and with 10,000 (10 a second),
  SQLite and PostgreSQL (bench/notice_lateness.py);
- what an idle Firebell costs: queries per safety poll and CPU (bench/idle_cost.py);
- history scale: `/incident list`, `export --since 30d` and the post-incident report at 1,000 and 100,000 incidents;
- bursts against Slack's rate limits (bench/burst.py): the stand-in in its limits mode, Firebell pacing its calls.
The other sections run with pacing off (SLACK_LIMITS={"pacing": false}): the stand-in limits nothing there, and they
measure Firebell's own costs at rates Slack's tiers would not allow (50 declares a second).
Options: --quick (shorter runs), --postgres URL (default postgresql://postgres@127.0.0.1:5432/test; "" to skip),
--only latency,report,declare,history-declare,throughput,lateness,idle,history,burst (some sections only).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent))

from history import measure_history  # noqa: E402
from notice_lateness import scratch_database  # noqa: E402
from standin_process import StandIn  # noqa: E402

SECRET = "bench-signing-secret"
# The stand-in limits nothing unless a section switches its limits mode on (burst): the other sections measure
# Firebell's own costs, at rates (50 declares a second) Slack's tiers would never allow, so Firebell does not pace them.
UNPACED = '{"pacing": false}'
ROOT = Path(__file__).resolve().parents[1]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Served:
    """A server process: `firebell serve` or the bare app, against the stand-in."""

    def __init__(self, args: list[str], slack: StandIn, database_url: str, workdir: Path, config: str = "",
                 slack_limits: str = UNPACED, wrapper: Sequence[str] = (), start_timeout: float = 60):
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "firebell.yml").write_text(config)
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                   DATABASE_URL=database_url, PYTHONPATH=str(ROOT), SLACK_LIMITS=slack_limits)
        argv = [*wrapper, sys.executable, *[str(self.port) if a == "PORT" else a for a in args]]
        self.process = subprocess.Popen(argv, cwd=ROOT if args[0].startswith("bench/") else workdir, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            try:
                command(self.url, "help", slack.team_id)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{args} did not start")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            print(f"warning: {self.process.args[1:3]} did not stop within 90 s of SIGTERM", flush=True)


def command(url: str, text: str, team_id: str, user: str = "U0BENCH", channel: str = "C0GENERAL",
            response_url: str = "http://127.0.0.1:9/none") -> float:
    """One signed slash command; returns the seconds until its answer (raises on a non-200)."""
    body = urlencode({"command": "/incident", "text": text, "user_id": user, "user_name": "bench",
                      "channel_id": channel, "team_id": team_id, "response_url": response_url,
                      "trigger_id": "bench"}).encode()
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature})
    began = time.perf_counter()
    with OPENER.open(request, timeout=30) as answer:
        answer.read()
        if answer.status != 200:
            raise OSError(f"HTTP {answer.status}")
    return time.perf_counter() - began


def load(call: Callable[[], float], concurrency: int, requests: int) -> list[float]:
    timings: list[float] = []
    lock = threading.Lock()
    left = [requests]

    def worker() -> None:
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            took = call()
            with lock:
                timings.append(took)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


CONFIG = "broadcast_channel: C0INCIDENTS\n"
SECTIONS = ("latency", "report", "declare", "history-declare", "throughput", "lateness", "idle", "history", "burst")


def answer_latency(rows: list[str], slack: StandIn, tmp: Path, requests: int) -> None:
    bare = Served(["bench/bare_app.py", "PORT"], slack, f"sqlite:///{tmp}/bare.db", tmp / "bare")
    firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack,
                      f"sqlite:///{tmp}/answers.db", tmp / "answers", CONFIG)
    try:
        for i in range(20):  # some open incidents, so `list` has something to list
            command(firebell.url, f"declare sev3 Listed incident {i}", slack.team_id,
                    response_url=slack.new_response_url())
        time.sleep(2)
        for concurrency in (1, 10):
            floor = load(lambda: command(bare.url, "help", slack.team_id), concurrency, requests)
            for text in ("help", "list"):
                ours = load(lambda text=text: command(firebell.url, text, slack.team_id), concurrency, requests)
                ratio = pct(ours, 99) / pct(floor, 99)
                rows.append(row(f"/incident {text} c={concurrency}", ours, floor,
                                f"p99 {ratio:.2f}x bare" + (" (target 1.5x)" if concurrency == 10 else "")))
    finally:
        bare.stop()
        firebell.stop()


def report_latency(rows: list[str], slack: StandIn, tmp: Path, requests: int) -> None:
    """`/incident report 30d` at concurrency 10 over 1,000 stored incidents (about 30 in the period), against the bare
    app's `help`. Each answer also queues its chart, which the outbox draws and sends after the answer: the drawing
    competes for the same two cores while the answers are measured."""
    from report import seed  # bench/report.py

    from storage import migrate
    from storage.db import Database

    url = f"sqlite:///{tmp}/report.db"
    db = Database.from_url(url)
    migrate.upgrade(db.engine)
    seed(db, 1000, slack.team_id)
    db.dispose()
    bare = Served(["bench/bare_app.py", "PORT"], slack, f"sqlite:///{tmp}/bare-report.db", tmp / "bare-report")
    firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack, url, tmp / "report",
                      CONFIG)
    try:
        command(firebell.url, "report 30d", slack.team_id, user="U0WARM")  # its chart loads matplotlib, once
        time.sleep(3)
        floor = load(lambda: command(bare.url, "help", slack.team_id), 10, requests)
        ours = load(lambda: command(firebell.url, "report 30d", slack.team_id), 10, requests)
        rows.append(row("/incident report 30d c=10", ours, floor,
                        f"p99 {pct(ours, 99) / pct(floor, 99):.2f}x bare (target 1.5x)"))
    finally:
        bare.stop()
        firebell.stop()


def row(name: str, ours: list[float], floor: list[float] | None, note: str) -> str:
    """One line of the table (also printed at once, so a long run shows its progress)."""
    ms = lambda v: f"{v * 1000:8.1f}"  # noqa: E731
    floor_part = f"{ms(pct(floor, 50))}{ms(pct(floor, 99))}" if floor else f"{'':8}{'':8}"
    line = f"{name:34}{ms(pct(ours, 50))}{ms(pct(ours, 99))}{floor_part}  {note}"
    print(line, flush=True)
    return line


def declare_end_to_end(rows: list[str], slack: StandIn, database_url: str, kind: str, tmp: Path,
                       count: int) -> None:
    firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack, database_url,
                      tmp / f"declare-{kind}", CONFIG)
    floor = [command(firebell.url, "help", slack.team_id) for _ in range(30)]
    timings = []
    try:
        for i in range(count):
            title = f"e2e {kind} {i} {time.monotonic_ns()}"
            began = time.perf_counter()
            command(firebell.url, f"declare sev3 {title}", slack.team_id, response_url=slack.new_response_url())
            if slack.declared(title, wait=30) is None:
                raise RuntimeError("a declare did not complete within 30 s")
            timings.append(time.perf_counter() - began)
    finally:
        firebell.stop()
    rows.append(row(f"declare end to end ({kind})", timings, floor,
                    f"floor: /incident help; target p50 < 150 ms, p99 < 500 ms ({count} declares)"))


def declare_with_history(rows: list[str], tmp: Path, postgres: str | None, count: int, stored: int) -> None:
    """Declare end to end with ``stored`` past incidents of the same team (realistic text, indexed for search as an
    upgrade would): the similar-incident lookup each declare triggers runs after the card, off the request path."""
    from search import seed as seed_incidents  # bench/search.py
    from sqlalchemy import text

    from storage import migrate
    from storage.db import Database

    for kind, server in (("sqlite", None), ("postgresql", postgres)):
        if kind == "postgresql" and not server:
            continue
        with scratch_database(server) as scratch, StandIn() as slack:
            url = scratch or f"sqlite:///{tmp}/history-declare.db"
            db = Database.from_url(url)
            migrate.upgrade(db.engine, "0007")
            seed_incidents(db, stored, slack.team_id)
            migrate.upgrade(db.engine)
            if kind == "postgresql":  # as autovacuum would have, on a database that grew to this
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            db.dispose()
            declare_end_to_end(rows, slack, url, f"{kind} {stored // 1000}k past", tmp, count)


def throughput(rows: list[str], slack: StandIn, database_url: str, kind: str, tmp: Path, seconds: float) -> None:
    firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack, database_url,
                      tmp / f"throughput-{kind}", CONFIG)
    errors: list[str] = []
    sent = [0]
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(n: int) -> None:
        """A closed loop: the next declare goes when the previous one's reply has come back."""
        i = 0
        while time.monotonic() < stop_at:
            i += 1
            reply_to = slack.new_response_url()
            try:
                command(firebell.url, f"declare sev4 load {n} {i}", slack.team_id, response_url=reply_to)
                with lock:
                    sent[0] += 1
                posts = slack.replies(reply_to, wait=30)
                if not any("is declared" in p.get("text", "") for p in posts):
                    errors.append(f"no declare reply: {posts}")
            except OSError as exc:
                errors.append(str(exc))

    before = slack.pinned()
    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and slack.pinned() - before < sent[0]:
        time.sleep(0.1)
    elapsed = time.monotonic() - began
    done = slack.pinned() - before
    rss = firebell.peak_rss_mb()
    firebell.stop()
    rows.append(f"{'declares/s, 30 s (' + kind + ')':34}{done / elapsed:8.1f}{'':24}  "
                f"{done} complete of {sent[0]} accepted, {len(errors)} errors; target >= 50/s")
    rows.append(f"{'peak RSS of serve (' + kind + '), MB':34}{rss:8.1f}{'':24}  "
                "after the throughput run; target < 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of {','.join(SECTIONS)} (default: all)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        parser.error(f"unknown sections {sorted(only - set(SECTIONS))}; choose from {','.join(SECTIONS)}")
    requests, declares, seconds, history = (200, 30, 10, 20_000) if args.quick else (500, 100, 30, 100_000)
    rows = [f"{'':34}{'p50 ms':>8}{'p99 ms':>8}{'floor50':>8}{'floor99':>8}  note"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # A fresh stand-in for each run: the stand-in's work per call grows with what it holds (it checks a new
        # channel's name against every channel), and real Slack's does not grow with our earlier runs.
        if "latency" in only:
            with StandIn() as slack:
                answer_latency(rows, slack, tmp, requests)
        if "report" in only:
            with StandIn() as slack:
                report_latency(rows, slack, tmp, requests)
        databases = [("sqlite", f"sqlite:///{tmp}/e2e.db")]
        with scratch_database((args.postgres or None) if only & {"declare", "throughput"} else None) as pg:
            if pg:
                databases.append(("postgresql", pg))
            for kind, url in databases if "declare" in only else []:
                with StandIn() as slack:
                    declare_end_to_end(rows, slack, url, kind, tmp, declares)
            for kind, url in databases if "throughput" in only else []:
                with StandIn() as slack:
                    throughput(rows, slack, url.replace("e2e.db", "load.db"), kind, tmp, seconds)
        if "history-declare" in only:
            declare_with_history(rows, tmp, args.postgres or None, declares, history)
        lateness = [sys.executable, str(ROOT / "bench" / "notice_lateness.py")]
        postgres = ["--database-url", args.postgres] if args.postgres else None
        if "lateness" in only:  # today's load, then 10,000 planned incidents with notices due at 10 a second
            subprocess.run(lateness, check=True)
            many = [*lateness, "--incidents", "10000", "--notices", "300", "--spread", "30"]
            subprocess.run(many, check=True)
            if postgres:
                subprocess.run([*many, *postgres], check=True)
        if "idle" in only:
            idle = [sys.executable, str(ROOT / "bench" / "idle_cost.py"), "--seconds", "30" if args.quick else "60"]
            subprocess.run(idle, check=True)
            if postgres:
                subprocess.run([*idle, *postgres], check=True)
        if "history" in only:
            rows.extend(measure_history(history))
        if "burst" in only:  # against Slack's rate limits: the stand-in in its limits mode, Firebell pacing its calls
            subprocess.run([sys.executable, str(ROOT / "bench" / "burst.py"), "--postgres", args.postgres], check=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
