"""CPU per alert notification, in one process, one thread: `python bench/alert_cpu.py [--postgres URL] [-n 300]`.

What bench/alerts.py's answer latency is made of on a shared machine: at concurrency 10 the notifications (and the
triage posts the outbox makes of them) take turns for one interpreter, so the p50 is about ten times the CPU a
notification costs the process. This measures the two parts apart, without threads or HTTP in the way: the
webhook's WSGI app called directly with the bench's notifications (delivery stopped), then the outbox's delivery
draining what they queued (the triage posts, to the Slack stand-in). On SQLite, and on PostgreSQL when given.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts import CONFIG, TOKEN, bodies  # noqa: E402
from notice_lateness import scratch_database  # noqa: E402
from run import UNPACED, StandIn  # noqa: E402

from bot import runtime  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import Delivery  # noqa: E402

WARM = 20  # notifications sent first and not counted (statements compiled, connections opened)


def measure(kind: str, database_url: str, tmp: Path, count: int) -> str:
    with StandIn() as slack:
        (tmp / "firebell.yml").write_text(CONFIG)
        os.chdir(tmp)
        os.environ.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET="bench", SLACK_API_URL=slack.api_url,
                          DATABASE_URL=database_url, SLACK_LIMITS=UNPACED, FIREBELL_ALERT_TOKEN=TOKEN)
        firebell = runtime.build(Settings.from_environment())
        firebell.delivery.stop()  # the delivery is measured on its own, below
        try:
            sent = bodies(count + WARM, 2)
            for body in sent[:WARM]:
                _post(firebell.wsgi, body)
            began = time.process_time()
            for body in sent[WARM:]:
                _post(firebell.wsgi, body)
            intake = (time.process_time() - began) / count
            delivery = Delivery(firebell.deps, runtime.outbox_executors())
            began, items = time.process_time(), 0
            while worked := delivery.run_once():
                items += worked
            posts = (time.process_time() - began) / max(items, 1)
        finally:
            firebell.deps.db.dispose()
    return (f"{kind:12}intake {intake * 1000:5.2f} ms CPU per notification; delivery {posts * 1000:5.2f} ms per "
            f"outbox item ({items} items)")


def _post(wsgi, body: bytes) -> None:  # noqa: ANN001 - a WSGI callable
    status: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/alerts/alertmanager", "QUERY_STRING": "",
               "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body),
               "HTTP_AUTHORIZATION": f"Bearer {TOKEN}", "SERVER_NAME": "bench", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1"}
    b"".join(wsgi(environ, lambda answer, headers, exc_info=None: status.append(answer)))
    if not status[0].startswith("200"):
        raise RuntimeError(f"the webhook answered {status[0]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("-n", type=int, default=300, help="notifications measured (after 20 not counted)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        rows.append(measure("sqlite", f"sqlite:///{tmp_name}/alerts.db", Path(tmp_name), args.n))
        print(rows[-1], flush=True)
    if args.postgres:
        with tempfile.TemporaryDirectory() as tmp_name, scratch_database(args.postgres) as pg:
            assert pg is not None
            rows.append(measure("postgresql", pg, Path(tmp_name), args.n))
            print(rows[-1], flush=True)


if __name__ == "__main__":
    main()
