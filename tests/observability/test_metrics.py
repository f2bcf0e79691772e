"""Metrics: each Firebell's own registry, gauges read from the database at scrape time, Slack calls per attempt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.observability.metrics import DatabaseFigures, Metrics, authorized, method_of


def scrape(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_two_firebells_in_one_process_count_apart():
    one, two = Metrics(process=False), Metrics(process=False)
    one.request("command", "ok", 0.2)
    one.request("command", "ok", 0.4)
    two.request("action", "refused", 0.001)
    first, second = scrape(one), scrape(two)
    assert first[("firebell_requests_total", (("kind", "command"), ("outcome", "ok")))] == 2
    assert ("firebell_requests_total", (("kind", "action"), ("outcome", "refused"))) not in first
    assert second[("firebell_requests_total", (("kind", "action"), ("outcome", "refused")))] == 1
    assert first[("firebell_ack_seconds_count", (("kind", "command"),))] == 2
    assert first[("firebell_ack_seconds_sum", (("kind", "command"),))] == pytest.approx(0.6)
    assert first[("firebell_ack_seconds_bucket", (("kind", "command"), ("le", "0.25")))] == 1
    assert first[("firebell_ack_seconds_bucket", (("kind", "command"), ("le", "0.5")))] == 2


def test_notice_lateness_and_escalations():
    metrics = Metrics(process=False)
    metrics.notice_sent("breach", 0.3)
    metrics.notice_sent("reminder", 75)
    metrics.escalated()
    metrics.escalated()
    samples = scrape(metrics)
    assert samples[("firebell_notice_lateness_seconds_bucket", (("kind", "reminder"), ("le", "60.0")))] == 0
    assert samples[("firebell_notice_lateness_seconds_bucket", (("kind", "reminder"), ("le", "120.0")))] == 1
    assert samples[("firebell_notice_lateness_seconds_count", (("kind", "breach"),))] == 1
    assert samples[("firebell_escalations_total", ())] == 2


def test_database_gauges_are_read_at_each_scrape():
    figures = [DatabaseFigures(3, 1, 42.5, {"sev2": 2}), DatabaseFigures(0, 0, 0.0, {})]
    reads = []

    def read() -> DatabaseFigures:
        reads.append(1)
        return figures[len(reads) - 1]

    metrics = Metrics(read, process=False)
    assert reads == []  # nothing read when the registry is made
    first = scrape(metrics)
    assert first[("firebell_outbox_pending", ())] == 3
    assert first[("firebell_outbox_failed", ())] == 1
    assert first[("firebell_outbox_oldest_pending_seconds", ())] == 42.5
    assert first[("firebell_open_incidents", (("severity", "sev2"),))] == 2
    assert first[("firebell_open_incidents", (("severity", "sev1"),))] == 0  # every severity, also when none
    assert first[("firebell_database_up", ())] == 1
    second = scrape(metrics)
    assert second[("firebell_outbox_pending", ())] == 0
    assert second[("firebell_open_incidents", (("severity", "sev2"),))] == 0
    assert len(reads) == 2


def test_a_database_that_does_not_answer_says_so_instead_of_zeros(caplog):
    def read() -> DatabaseFigures:
        raise ConnectionRefusedError("down")

    metrics = Metrics(read, process=False)
    for _ in range(3):
        samples = scrape(metrics)
    assert samples[("firebell_database_up", ())] == 0
    assert ("firebell_outbox_pending", ()) not in samples
    assert sum("does not answer" in r.getMessage() for r in caplog.records) == 1  # said once, not per scrape


def test_process_metrics_are_on_the_registry():
    names = {name for name, _ in scrape(Metrics())}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names
    assert "process_cpu_seconds_total" not in {name for name, _ in scrape(Metrics(process=False))}


class FakeSlack(BaseHTTPRequestHandler):
    """Answers like Slack's Web API: one 429 first for chat.postMessage, channel_not_found for chat.update."""

    limited = threading.Event()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.rsplit("/", 1)[1]
        if method == "chat.postMessage" and not self.limited.is_set():
            self.limited.set()
            self._answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"})
        elif method == "chat.update":
            self._answer(200, {"ok": False, "error": "channel_not_found"})
        else:
            self._answer(200, {"ok": True, "channel": "C1", "ts": "1.2"})

    def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_slack() -> Iterator[str]:
    FakeSlack.limited.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


def test_slack_calls_are_counted_per_attempt_with_their_outcome(fake_slack):
    metrics = Metrics(process=False)
    client = WebClient(token="xoxb-t", base_url=fake_slack,
                       retry_handlers=[metrics.slack_counter(), RateLimitErrorRetryHandler(max_retry_count=2)])
    client.chat_postMessage(channel="C1", text="hi")  # a 429, waited out by slack_sdk, then ok
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C1", ts="1.2", text="x")
    samples = scrape(metrics)
    calls = {labels: value for (name, labels), value in samples.items() if name == "firebell_slack_calls_total"}
    assert calls == {(("method", "chat.postMessage"), ("outcome", "ratelimited")): 1,
                     (("method", "chat.postMessage"), ("outcome", "ok")): 1,
                     (("method", "chat.update"), ("outcome", "channel_not_found")): 1}


def test_a_connection_that_fails_is_counted():
    metrics = Metrics(process=False)
    client = WebClient(token="xoxb-t", base_url="http://127.0.0.1:9/api/", retry_handlers=[metrics.slack_counter()])
    with pytest.raises(OSError):
        client.auth_test()
    assert scrape(metrics)[("firebell_slack_calls_total", (("method", "auth.test"),
                                                           ("outcome", "connection_failed")))] == 1


def test_method_names_from_urls():
    assert method_of("https://slack.com/api/chat.postMessage") == "chat.postMessage"
    assert method_of("http://127.0.0.1:5/api/conversations.setTopic?x=1") == "conversations.setTopic"
    assert method_of("https://hooks.slack.com/commands/T0/1/abc") == "response_url"
    assert method_of("https://files.slack.com/upload/v1/abc") == "file_upload"


def test_metrics_token():
    assert authorized(None, None) and authorized("Bearer anything", "")
    assert authorized("Bearer s3cret", "s3cret")
    assert not authorized(None, "s3cret")
    assert not authorized("Bearer wrong", "s3cret")
    assert not authorized("Basic czNjcmV0", "s3cret")
