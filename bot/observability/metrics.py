"""Firebell's Prometheus metrics, on a registry of its own (several Firebells may live in one process: tests).

Counters and histograms are moved by the code that does the work (`Metrics.request`, `notice_sent`…); the
gauges that describe the database (outbox backlog, open incidents) are read from it when Prometheus scrapes,
by an injected reader, so every replica reports the same truth and nothing has to keep them in step.

Slack calls are counted per HTTP attempt by `SlackCallCounter`, a slack_sdk retry handler that never retries
itself: put it first in a client's ``retry_handlers`` and it sees every answer, including the 429s that
slack_sdk's own handler then waits out.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger(__name__)

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)  # Slack's limit is 3 s
LATENESS_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
_LABEL = re.compile(r"[^A-Za-z0-9_.]+")


@dataclass(frozen=True)
class DatabaseFigures:
    """What the database says at scrape time."""

    outbox_pending: int
    outbox_failed: int
    oldest_pending_seconds: float  # 0 when nothing is pending
    open_incidents: Mapping[str, int] = field(default_factory=dict)  # severity -> count


DatabaseReader = Callable[[], DatabaseFigures]


class Metrics:
    def __init__(self, read_database: DatabaseReader | None = None, *, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("firebell_requests", "Requests from Slack, by kind and outcome",
                                ("kind", "outcome"), registry=self.registry)
        self.ack_seconds = Histogram("firebell_ack_seconds", "Time from a Slack request's arrival to Firebell's answer",
                                     ("kind",), buckets=ACK_BUCKETS, registry=self.registry)
        self.notice_lateness = Histogram("firebell_notice_lateness_seconds",
                                         "How late an SLA reminder or breach notice went out after its due time",
                                         ("kind",), buckets=LATENESS_BUCKETS, registry=self.registry)
        self.slack_calls = Counter("firebell_slack_calls", "Attempts at Slack Web API calls, by method and outcome "
                                   "(ok, Slack's error code, ratelimited, http_5xx, connection_failed)",
                                   ("method", "outcome"), registry=self.registry)
        self.escalations = Counter("firebell_escalations", "Pages escalated to the next tier (or re-sent by the last)",
                                   registry=self.registry)
        self.ticks = Counter("firebell_scheduler_ticks",
                             "Passes of the deadline scheduler (when a deadline is due, at least every safety poll)",
                             registry=self.registry)
        self.database: DatabaseCollector | None = None
        if read_database is not None:
            self.watch_database(read_database)
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def watch_database(self, read: DatabaseReader) -> None:
        """Report the database's gauges, read with ``read`` at each scrape (once the database is there)."""
        if self.database is not None:
            raise ValueError("the database is watched already")
        self.database = DatabaseCollector(read)
        self.registry.register(self.database)

    def request(self, kind: str, outcome: str, seconds: float) -> None:
        self.requests.labels(kind=kind, outcome=outcome).inc()
        self.ack_seconds.labels(kind=kind).observe(max(seconds, 0.0))

    def notice_sent(self, kind: str, late_by_seconds: float) -> None:
        self.notice_lateness.labels(kind=kind).observe(max(late_by_seconds, 0.0))

    def escalated(self) -> None:
        self.escalations.inc()

    def ticked(self) -> None:
        self.ticks.inc()

    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method=method, outcome=outcome).inc()

    def slack_counter(self) -> SlackCallCounter:
        return SlackCallCounter(self)

    def exposition(self) -> tuple[bytes, str]:
        """The body and content type of a ``GET /metrics`` answer (Prometheus text format)."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class DatabaseCollector(Collector):
    """The outbox and open-incident gauges, read from the database on each scrape. When the database does not
    answer, ``firebell_database_up`` is 0 and the other gauges are left out (not reported as zero)."""

    def __init__(self, read: DatabaseReader, severities: Sequence[str] = SEVERITIES) -> None:
        self.read = read
        self.severities = tuple(severities)
        self._was_up = True

    def describe(self) -> Iterator[Metric]:
        yield from self._families(None)

    def collect(self) -> Iterator[Metric]:
        try:
            figures = self.read()
        except Exception as exc:  # any failure to read means "down"; said once, not on every scrape
            if self._was_up:
                log.warning("metrics: the database does not answer (%s)", type(exc).__name__)
            self._was_up = False
            up = GaugeMetricFamily("firebell_database_up", "1 while the database answers")
            up.add_metric([], 0)
            yield up
            return
        self._was_up = True
        yield from self._families(figures)

    def _families(self, figures: DatabaseFigures | None) -> Iterator[Metric]:
        up = GaugeMetricFamily("firebell_database_up", "1 while the database answers")
        pending = GaugeMetricFamily("firebell_outbox_pending", "Slack work waiting to be delivered")
        failed = GaugeMetricFamily("firebell_outbox_failed", "Slack work that failed for good (see `firebell outbox`)")
        oldest = GaugeMetricFamily("firebell_outbox_oldest_pending_seconds",
                                   "Age of the oldest Slack work still waiting (0 when none)")
        open_ = GaugeMetricFamily("firebell_open_incidents", "Incidents not resolved, by severity",
                                  labels=["severity"])
        if figures is not None:
            up.add_metric([], 1)
            pending.add_metric([], figures.outbox_pending)
            failed.add_metric([], figures.outbox_failed)
            oldest.add_metric([], max(figures.oldest_pending_seconds, 0.0))
            for severity in dict.fromkeys((*self.severities, *figures.open_incidents)):
                open_.add_metric([severity], figures.open_incidents.get(severity, 0))
        yield from (up, pending, failed, oldest, open_)


class SlackCallCounter(RetryHandler):
    """Counts every answer (or failure to get one) from Slack; never asks for a retry itself."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    def can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                  error: Exception | None = None) -> bool:
        try:
            self.metrics.slack_call(method_of(request.url), outcome_of(response, error))
        except Exception:  # counting must never break a call to Slack
            log.debug("could not count a Slack call", exc_info=True)
        return False

    def _can_retry(self, **_kwargs: object) -> bool:
        return False


def method_of(url: str) -> str:
    """``chat.postMessage`` for ``…/api/chat.postMessage``; ``response_url`` and ``file_upload`` for the others."""
    path = urlsplit(url).path
    if "/api/" in path:
        return _label(path.rsplit("/api/", 1)[1].strip("/")) or "unknown"
    if "/upload/" in path:
        return "file_upload"
    return "response_url"


def outcome_of(response: HttpResponse | None, error: Exception | None) -> str:
    if response is None:
        return "timeout" if isinstance(error, TimeoutError) or "timed out" in str(error) else "connection_failed"
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code >= 300:
        return f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("ok") is False:
        return _label(str(body.get("error") or "error"))
    return "ok"


def _label(text: str) -> str:
    return _LABEL.sub("_", text)[:60]


def authorized(header: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header may read /metrics: anyone when no token is set, else ``Bearer <token>``
    (compared in constant time)."""
    if not token:
        return True
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())
