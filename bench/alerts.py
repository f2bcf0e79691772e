"""Alert intake's benchmark: `python bench/alerts.py [--quick] [--postgres URL]`.

- Webhook answer latency: 500 Alertmanager notifications (two alerts each; a third of them repeats) at concurrency
  10 against `firebell serve`, after 20 not counted (on each door: connections opened, statements compiled), beside
  the same requests to a bare webhook door on the same HTTP server (bench/bare_app.py). Target: p99 ≤ 2x the bare
  answer and < 100 ms.
- Bulk: 10,000 alerts in 100 notifications of 100 alerts, sent at concurrency 10: every alert stored (counted in
  the database once the routing has finished: the door stores each notification as it came, and the outbox routes
  it a moment later), 0 errors, in ≤ 30 s from the first request to the last 200; the time from the first request
  to the last 200, to every notification routed, and until Firebell's outbox (the triage posts, the storm digest)
  is drained.
On SQLite, and on PostgreSQL (a scratch database on --postgres, dropped afterwards; "" to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notice_lateness import scratch_database  # noqa: E402
from run import OPENER, Served, StandIn, load, pct  # noqa: E402
from sqlalchemy import column, func, inspect, select, table  # noqa: E402

from storage.db import Database  # noqa: E402
from storage.models import AlertRow  # noqa: E402

TOKEN = "bench-alert-token"
CONFIG = "broadcast_channel: C0INCIDENTS\nalerts:\n  triage_channel: C0GENERAL\n  auto_declare: [sev1]\n"
ZERO = "0001-01-01T00:00:00Z"
NOTIFICATIONS = table("alert_notifications", column("routed_at"))  # by name: the bench also measures older Firebells
WARM = 20  # requests sent to each door first and not counted


def notification(group: str, alerts: int, severity: str = "warning") -> bytes:
    labels = {"alertname": "BenchAlert", "group": group, "severity": severity}
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{group="{group}"}}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "firebell", "groupLabels": {"group": group}, "commonLabels": labels,
        "commonAnnotations": {"summary": f"bench group {group}"}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {**labels, "instance": f"host-{n}"},
                    "annotations": {"summary": f"host-{n} in {group}"}, "startsAt": "2026-11-24T10:00:00Z",
                    "endsAt": ZERO, "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"{group}-{n}"}
                   for n in range(alerts)]}).encode()


def post(url: str, body: bytes) -> float:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    began = time.perf_counter()
    with OPENER.open(request, timeout=60) as answer:
        answer.read()
        if answer.status != 200:
            raise OSError(f"HTTP {answer.status}")
    return time.perf_counter() - began


def bodies(count: int, alerts: int) -> list[bytes]:
    run = uuid.uuid4().hex[:6]
    made = [notification(f"{run}-{i}", alerts) for i in range(count)]
    return [made[i // 3] if i % 3 == 2 else made[i] for i in range(count)]  # a third are repeats


def sender(url: str, queue: list[bytes], errors: list[str]):  # noqa: ANN201
    def send() -> float:
        body = queue.pop()
        try:
            return post(url, body)
        except (OSError, urllib.error.HTTPError) as exc:
            errors.append(str(exc))
            return float("nan")
    return send


def routed(db: Database, wait: float = 120) -> bool:
    """Until every notification stored is routed (False if ``wait`` passed first)."""
    began = time.monotonic()
    if not inspect(db.engine).has_table(NOTIFICATIONS.name):
        return True  # a Firebell before migration 0014 routed each notification in its request
    while time.monotonic() - began < wait:
        with db.read() as session:
            if session.execute(select(func.count()).select_from(NOTIFICATIONS).where(
                    NOTIFICATIONS.c.routed_at.is_(None))).scalar_one() == 0:
                return True
        time.sleep(0.02)
    return False


def outbox_drained(base: str, wait: float = 120) -> float:
    began = time.monotonic()
    while time.monotonic() - began < wait:
        with OPENER.open(f"{base}/healthz", timeout=10) as answer:
            if json.loads(answer.read())["outbox"]["pending"] == 0:
                return time.monotonic() - began
        time.sleep(0.1)
    return float("nan")


def measure(kind: str, database_url: str, tmp: Path, requests: int) -> list[str]:
    os.environ["FIREBELL_ALERT_TOKEN"] = TOKEN
    rows = []
    with StandIn() as slack:
        bare = Served(["bench/bare_app.py", "PORT"], slack, f"sqlite:///{tmp}/bare-{kind}.db", tmp / f"bare-{kind}")
        firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack, database_url,
                          tmp / f"alerts-{kind}", CONFIG)
        base = firebell.url.removesuffix("/slack/events")
        try:
            errors: list[str] = []
            for door in (bare.url.replace("/slack/events", "/alerts/alertmanager"), f"{base}/alerts/alertmanager"):
                load(sender(door, bodies(WARM, 2), errors), 10, WARM)  # connections opened, statements compiled
            outbox_drained(base)
            floor = load(sender(bare.url.replace("/slack/events", "/alerts/alertmanager"),
                                bodies(requests, 2), errors), 10, requests)
            ours = load(sender(f"{base}/alerts/alertmanager", bodies(requests, 2), errors), 10, requests)
            ratio = pct(ours, 99) / pct(floor, 99)
            rows.append(f"{'webhook c=10 (' + kind + ')':30}{pct(ours, 50) * 1000:8.1f}{pct(ours, 99) * 1000:8.1f}"
                        f"{pct(floor, 50) * 1000:8.1f}{pct(floor, 99) * 1000:8.1f}  p99 {ratio:.2f}x bare, "
                        f"{len(errors)} errors; target ≤ 2x and < 100 ms")
            print(rows[-1], flush=True)
            outbox_drained(base)
            db = Database.from_url(database_url)
            with db.read() as session:
                before = session.execute(select(func.count()).select_from(AlertRow)).scalar_one()
            bulk_errors: list[str] = []
            run = uuid.uuid4().hex[:6]
            queue = [notification(f"bulk-{run}-{i}", 100) for i in range(100)]
            began = time.monotonic()
            load(sender(f"{base}/alerts/alertmanager", queue, bulk_errors), 10, 100)
            answered = time.monotonic() - began
            done = time.monotonic() - began if routed(db) else float("nan")
            with db.read() as session:  # after the routing: the alerts are stored by it
                stored = session.execute(select(func.count()).select_from(AlertRow)).scalar_one() - before
            db.dispose()
            drained = outbox_drained(base)
            rows.append(f"{'10,000 alerts (' + kind + ')':30}{answered:8.2f} s to the last 200, {done:.2f} s to "
                        f"routed; {stored} stored, {len(bulk_errors)} errors; outbox drained {drained:.1f} s later; "
                        "target all stored, 0 errors, ≤ 30 s")
            print(rows[-1], flush=True)
        finally:
            bare.stop()
            firebell.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    requests = 200 if args.quick else 500
    rows = [f"{'':30}{'p50 ms':>8}{'p99 ms':>8}{'floor50':>8}{'floor99':>8}  note"]
    with tempfile.TemporaryDirectory() as tmp_name, scratch_database(args.postgres or None) as pg:
        tmp = Path(tmp_name)
        rows += measure("sqlite", f"sqlite:///{tmp}/alerts.db", tmp, requests)
        if pg:
            rows += measure("postgresql", pg, tmp, requests)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
