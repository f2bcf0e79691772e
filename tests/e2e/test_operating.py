"""Operating Firebell, as the SRE who runs it sees it: `firebell serve` as a process, its log lines, /metrics,
/healthz, and the commands around it (check, export, db upgrade…)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.config import FirebellConfig
from bot.http_server import HttpServer
from bot.sandbox import SlackDriver, SlackStandIn
from bot.web import build_wsgi, health, route
from storage import outbox
from storage.db import Database
from tests.e2e.conftest import (
    ALICE,
    BROADCAST,
    CAROL,
    SIGNING_SECRET,
    T0,
    FakeClock,
    declare_and_settle,
    start_timed,
    stop,
)
from tests.e2e.test_lifecycle import FILLED
from tests.e2e.test_serving import _env, get

POLICY = """\
broadcast_channel: C0INCIDENTS
tiers:
  - {name: L1, members: [U0CAROL], ack_timeout: 10m}
severities:
  sev2: {ack: 15m, update_every: 1h, resolve: 8h, page: L1}
admins: [U0GHOST]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(url: str, token: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@dataclass
class Served:
    """`firebell serve` in its own process; every line it writes is kept."""

    process: subprocess.Popen
    url: str
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def records(self, start: int = 0) -> list[dict]:
        return [json.loads(line) for line in self.lines[start:]]

    def metric(self, name: str, **labels: str) -> float:
        return scrape(f"{self.url}/metrics").get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def served(slack: SlackStandIn, tmp_path) -> Iterator[Served]:
    (tmp_path / "firebell.yml").write_text(POLICY)
    port = free_port()
    # a safety poll of 0.5 s (10 s by default): the idle test counts 120 scheduler passes as its 60 s
    env = _env(slack, f"sqlite:///{tmp_path}/firebell.db") | {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
                                                              "FIREBELL_SAFETY_POLL": "0.5"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    running = Served(process, f"http://127.0.0.1:{port}")
    reader = threading.Thread(target=running.read, daemon=True)
    reader.start()
    try:
        slack.wait_for(lambda: any("listening on" in line for line in running.lines), timeout=60)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=10)


def test_served_firebell_is_quiet_when_idle_and_logs_one_line_per_incident_event(served: Served, slack):
    """The issue's numbers: idle for 60 s, no line at all; declare → resolve, one INFO line per thing that happened."""
    startup = served.records()
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in startup)
    messages = [r["message"] for r in startup]
    assert any(m.startswith("policy loaded from ") and m.endswith("firebell.yml (1 tier(s), broadcast channel "
                                                                  "C0INCIDENTS)") for m in messages)
    assert any(m.startswith("database: sqlite:///") for m in messages)
    ghost = [r for r in startup if "check admins" in r["message"]]
    assert ghost and ghost[0]["level"] == "WARNING" and "U0GHOST is not a user in this workspace" in ghost[0]["message"]

    idle_from, ticks = len(served.lines), served.metric("firebell_scheduler_ticks_total")
    slack.wait_for(lambda: served.metric("firebell_scheduler_ticks_total") >= ticks + 120, timeout=180)  # 60 s
    assert served.lines[idle_from:] == []

    driver = SlackDriver(f"{served.url}/slack/events", SIGNING_SECRET, slack)
    driver.slash_command(ALICE, "declare sev2 Checkout is down", channel_id="C0GENERAL")
    channel = slack.wait_for(lambda: slack.channel_by_name("inc-1-checkout-is-down"))
    page = slack.wait_for(lambda: [m for m in slack.dms(CAROL) if "You are paged" in m.text])[0]
    assert served.metric("firebell_open_incidents", severity="sev2") == 1
    driver.click(CAROL, channel_id=page.channel, message_ts=page.ts, action_id="page_acknowledge")
    driver.slash_command(CAROL, "status identified A bad deploy", channel_id=channel.id)
    driver.slash_command(ALICE, "resolve", channel_id=channel.id)
    form = slack.wait_for(lambda: [v for v in slack.open_views(ALICE) if v.callback_id == "incident_resolve_modal"])[-1]
    driver.submit_view(ALICE, form.id, FILLED)
    slack.wait_for(lambda: [f for f in slack.files if f.completed])
    slack.wait_for(lambda: get(f"{served.url}/healthz")[1]["outbox"]["pending"] == 0)

    said = served.records(idle_from)
    info = [r for r in said if r["level"] == "INFO"]
    assert [r["event"] for r in info] == ["declared", "paged", "acknowledged", "status changed", "resolved"], said
    assert all(r["logger"] == "firebell.incident" and r["incident"] == "INC-1" and r["team"] == "T0FIREBELL"
               and r["message"].startswith("INC-1 (T0FIREBELL) ") for r in info)
    assert info[0]["message"] == "INC-1 (T0FIREBELL) declared: SEV2 by U0ALICE in #inc-1-checkout-is-down"
    assert info[2]["message"] == "INC-1 (T0FIREBELL) acknowledged: the L1 page, by U0CAROL, so the incident too"
    assert all(info[i].get("request_id") for i in (2, 3, 4))  # they happened while answering a request
    assert [r for r in said if r["level"] not in ("INFO",)] == []
    assert slack.token not in "\n".join(served.lines) and SIGNING_SECRET not in "\n".join(served.lines)

    samples = scrape(f"{served.url}/metrics")
    assert samples[("firebell_requests_total", (("kind", "command"), ("outcome", "ok")))] == 3
    assert samples[("firebell_requests_total", (("kind", "action"), ("outcome", "ok")))] == 1
    assert samples[("firebell_requests_total", (("kind", "view_submission"), ("outcome", "ok")))] == 1
    assert samples[("firebell_ack_seconds_count", (("kind", "command"),))] == 3
    assert samples[("firebell_slack_calls_total", (("method", "conversations.create"), ("outcome", "ok")))] == 1
    assert samples[("firebell_slack_calls_total", (("method", "chat.postMessage"), ("outcome", "ok")))] >= 4
    assert samples[("firebell_open_incidents", (("severity", "sev2"),))] == 0
    assert samples[("firebell_outbox_pending", ())] == 0 and samples[("firebell_outbox_failed", ())] == 0
    assert ("process_resident_memory_bytes", ()) in samples


def health_server(database_url: str) -> tuple[HttpServer, Database]:
    db = Database.from_url(database_url)
    return HttpServer(build_wsgi([route(["GET"], health.PATH, health.health_check(db))]), "127.0.0.1", 0).start(), db


def test_healthz_is_degraded_while_slack_work_waits_over_five_minutes(database_url):
    server, db = health_server(database_url)
    try:
        with db.transaction() as session:
            outbox.enqueue(session, "incident:1", "post", {"channel": "C1", "text": "hi"},
                           datetime.now(UTC) - timedelta(minutes=2))
        assert get(f"{server.url}/healthz")[1]["status"] == "ok"  # two minutes is a slow Slack, not a problem
        with db.transaction() as session:
            outbox.enqueue(session, "incident:2", "post", {"channel": "C1", "text": "hi"},
                           datetime.now(UTC) - timedelta(minutes=7))
        status, body = get(f"{server.url}/healthz")
        assert status == 200 and body["status"] == "degraded"
        assert body["outbox"]["pending"] == 2 and body["outbox"]["oldest_pending_seconds"] >= 420
        assert body["reasons"] == [body["reasons"][0]] and body["reasons"][0].startswith(
            "the oldest pending Slack delivery has waited 7m")
    finally:
        server.stop()
        db.dispose()


def test_metrics_move_as_an_incident_is_driven_and_want_the_token(slack, database_url):
    """Escalations, the lateness of SLA notices, a rate-limited Slack call and the open incidents, on a clock the
    test moves; /metrics answers only with FIREBELL_METRICS_TOKEN's bearer token when it is set."""
    slack.add_user("U0TWO", "two")
    config = FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "30m", "update_every": "1h", "resolve": "4h", "page": "L1"}},
        "tiers": [{"name": "L1", "members": [CAROL], "ack_timeout": "10m"}, {"name": "L2", "members": ["U0TWO"]}]})
    timed = start_timed(slack, database_url, config, FakeClock(T0), firebell_metrics_token=SecretStr("s3cret"))
    url = f"{timed.server.url}/metrics"
    try:
        assert get_status(url) == 401 and get_status(url, "wrong") == 401
        before = scrape(url, "s3cret")
        assert before[("firebell_open_incidents", (("severity", "sev1"),))] == 0
        assert ("firebell_escalations_total", ()) in before and before[("firebell_escalations_total", ())] == 0

        slack.fail("chat.postMessage", status=429, retry_after=0)  # slack_sdk waits it out; it is counted
        channel = declare_and_settle(timed, "declare sev1 Payments fail")
        timed.tick(minutes=11)  # nobody in L1 acknowledged within 10m: L2 is paged
        timed.tick(minutes=5)  # 16 minutes in: past half of the 30-minute ack clock, one minute late
        samples = scrape(url, "s3cret")
        assert samples[("firebell_open_incidents", (("severity", "sev1"),))] == 1
        assert samples[("firebell_escalations_total", ())] == 1
        assert samples[("firebell_slack_calls_total", (("method", "chat.postMessage"), ("outcome", "ratelimited")))] \
            == 1
        assert samples[("firebell_notice_lateness_seconds_count", (("kind", "reminder"),))] == 1
        assert samples[("firebell_notice_lateness_seconds_bucket", (("kind", "reminder"), ("le", "30.0")))] == 0
        assert samples[("firebell_notice_lateness_seconds_bucket", (("kind", "reminder"), ("le", "60.0")))] == 1
        assert samples[("firebell_requests_total", (("kind", "command"), ("outcome", "ok")))] == 1
        slack.fail("chat.update", error="channel_not_found", times=1)
        timed.driver.slash_command(ALICE, "sev 2", channel_id=channel)
        timed.firebell.settle(30)
        samples = scrape(url, "s3cret")
        assert samples[("firebell_slack_calls_total", (("method", "chat.update"), ("outcome", "channel_not_found")))] \
            == 1
        assert samples[("firebell_open_incidents", (("severity", "sev1"),))] == 0
        assert samples[("firebell_open_incidents", (("severity", "sev2"),))] == 1
        assert samples[("firebell_outbox_failed", ())] == 1
    finally:
        stop(timed)


def get_status(url: str, token: str | None = None) -> int:
    try:
        scrape(url, token)
        return 200
    except urllib.error.HTTPError as error:
        return error.code


def test_the_readmes_alert_rules_name_only_metrics_firebell_serves(running):
    """README's example Prometheus alerting rules parse as a rule file and every firebell_* series they use is one
    /metrics serves (a histogram's _bucket, _count and _sum; a counter's _total)."""
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Operating Firebell"):readme.index("## How it keeps its promises")]
    [rules_text] = re.findall(r"```yaml\n(groups:.*?)```", section, re.DOTALL)
    rules = yaml.safe_load(rules_text)
    [group] = rules["groups"]
    assert all({"alert", "expr", "annotations"} <= set(rule) for rule in group["rules"])
    used = set(re.findall(r"\bfirebell_\w+", " ".join(rule["expr"] for rule in group["rules"])))

    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{running.server.url}/metrics",
                                                                             timeout=10) as response:
        text = response.read().decode()
    served = set()
    for family in text_string_to_metric_families(text):
        served |= {family.name, *(s.name for s in family.samples)}
        if family.type == "histogram":
            served |= {f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"}
        if family.type == "counter":
            served.add(f"{family.name}_total")
    assert len(used) >= 6 and used <= served, used - served
    for name in re.findall(r"^\| `(firebell_\w+)", section, re.MULTILINE):  # the metrics table too
        assert name in served, name
