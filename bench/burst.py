"""Bursts against Slack's rate limits: `python bench/burst.py [--scale S] [--postgres URL]` (or `bench/run.py --only
burst`).

The Slack stand-in runs in its limits mode (its own process: Slack's tiers, `chat.postMessage` ~1/s per channel with
a burst of 3, 429 + Retry-After past them), in real time by default; ``--scale S`` runs its limits' clock S times
faster, and `firebell serve` paces its calls by the same limits (SLACK_LIMITS) on the same scale.
- 20 incidents declared at once (20 concurrent `/incident declare`), all announced in one broadcast channel;
- an alert storm: 50 Alertmanager groups firing at once (critical: auto-declared, up to the storm limit
  `max_new_incidents`, default 5 per 10 minutes; the rest in the storm digest in the triage channel).
Each reports the 429s the stand-in answered (target 0), the time from the first request until every effect was
delivered (the outbox empty), and the least time Slack's limits allow for the calls the stand-in saw: per bucket
(method, or channel for posts) (calls − burst) / rate, the largest over the buckets. Target: total ≤ 1.5× it.
On SQLite, and on PostgreSQL (a scratch database on --postgres, dropped afterwards; "" to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts import TOKEN, notification, post  # noqa: E402
from notice_lateness import scratch_database  # noqa: E402
from run import OPENER, Served, command  # noqa: E402
from standin_process import StandIn  # noqa: E402

from bot.config import SlackLimits  # noqa: E402
from bot.slack.pacing import Limits  # noqa: E402

CONFIG = ("broadcast_channel: C0INCIDENTS\n"
          "alerts:\n  triage_channel: C0GENERAL\n  auto_declare: [sev1]\n")


def pending(base: str) -> int:
    with OPENER.open(f"{base}/healthz", timeout=10) as answer:
        return int(json.loads(answer.read())["outbox"]["pending"])


def drained(base: str, done: object = lambda: True, wait: float = 600) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if done() and pending(base) == 0:  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise RuntimeError("the outbox was not drained in time")


def least_time(report: dict) -> tuple[float, dict | None]:
    """The least time the limits allow for the calls seen: per bucket (calls − burst) / rate, the largest; and that
    bucket."""
    best, which = 0.0, None
    for bucket in report["buckets"]:
        need = max(bucket["calls"] - bucket["burst"], 0) / bucket["rate"]
        if need > best:
            best, which = need, bucket
    return best, which


def at_once(count: int, send: object) -> None:
    barrier = threading.Barrier(count)
    errors: list[str] = []

    def one(i: int) -> None:
        barrier.wait()
        try:
            send(i)  # type: ignore[operator]
        except OSError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[:3]}")


def scenario(name: str, kind: str, database_url: str, tmp: Path, scale: float, run: object) -> str:
    paced = SlackLimits.of(Limits().faster(scale)).model_dump_json()
    os.environ["FIREBELL_ALERT_TOKEN"] = TOKEN
    with StandIn(limits_scale=scale) as slack:
        firebell = Served(["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "PORT"], slack, database_url,
                          tmp / f"burst-{name}-{kind}", CONFIG, slack_limits=paced)
        try:
            since = slack.calls()
            began = time.monotonic()
            run(slack, firebell)  # type: ignore[operator]
            total = time.monotonic() - began
            report = slack.limited(since)
        finally:
            firebell.stop()
    least, bound = least_time(report)
    if os.environ.get("BURST_DEBUG"):
        for bucket in report["buckets"]:
            print(bucket["method"], bucket["channel"], [round(t - began, 2) for t in bucket["at"]])
    # the stand-in stamps calls with the system's monotonic clock, which this process shares
    span = (f"{bound['method']}{' ' + bound['channel'] if bound['channel'] else ''} from "
            f"+{min(bound['at']) - began:.2f} to +{max(bound['at']) - began:.2f} s") if bound else "nothing"
    refused = sum(report["ratelimited"].values())
    ratio = total / least if least else float("nan")
    calls = sum(b["calls"] for b in report["buckets"])
    return (f"{name + ' (' + kind + ')':34}{total:8.2f}{least:8.2f}{ratio:8.2f}x{refused:6d}  {calls} calls; "
            f"bound by {span}; target 0 429s, ≤ 1.5x")


def twenty_declares(slack: StandIn, firebell: Served) -> None:
    replies = [slack.new_response_url("C0GENERAL", "U0BENCH") for _ in range(20)]
    at_once(20, lambda i: command(firebell.url, f"declare sev2 burst {i} {time.monotonic_ns()}", slack.team_id,
                                  response_url=replies[i]))
    base = firebell.url.removesuffix("/slack/events")
    drained(base, lambda: slack.pinned() >= 20)


def alert_storm(slack: StandIn, firebell: Served) -> None:
    base = firebell.url.removesuffix("/slack/events")
    run = time.monotonic_ns()
    began = time.monotonic()
    at_once(50, lambda i: post(f"{base}/alerts/alertmanager", notification(f"storm-{run}-{i}", 2, "critical")))
    if os.environ.get("BURST_DEBUG"):
        print(f"the 50 webhooks answered within {time.monotonic() - began:.2f} s")
    drained(base, lambda: slack.pinned() >= 5)


SCENARIOS = [("20 declares, one broadcast", twenty_declares), ("alert storm, 50 groups", alert_storm)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="the limits' clock runs this many times faster")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["declares", "storm"], default=None)
    args = parser.parse_args()
    if args.only:
        SCENARIOS[:] = [SCENARIOS[0] if args.only == "declares" else SCENARIOS[1]]
    rows = [f"{'Slack limits x' + format(args.scale, 'g'):34}{'total s':>8}{'least s':>8}{'ratio':>9}{'429s':>6}"
            "  note"]
    with tempfile.TemporaryDirectory() as tmp_name, scratch_database(args.postgres or None) as pg:
        tmp = Path(tmp_name)
        databases = [("sqlite", f"sqlite:///{tmp}/burst.db")] + ([("postgresql", pg)] if pg else [])
        for kind, url in databases:
            for name, run in SCENARIOS:
                rows.append(scenario(name, kind, url.replace("burst.db", f"burst-{name[:5]}.db"), tmp, args.scale,
                                     run))
                print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
