"""PagerDuty through the Events API v2: one alert per dedup key, triggered, acknowledged and resolved.

POST {base}/v2/enqueue with the routing key in the JSON body; PagerDuty answers 202 when it takes the event.
"""

from __future__ import annotations

from typing import Any

from bot.pagers import http
from bot.pagers.interface import PAGERDUTY_URL, PageEvent, truncate

SUMMARY_MAX = 1024
SEVERITY = {"sev1": "critical", "sev2": "error", "sev3": "warning", "sev4": "info"}


class PagerDutyPager:
    name = "pagerduty"

    def __init__(self, routing_key: str, *, base_url: str = PAGERDUTY_URL, timeout: float = 10.0) -> None:
        self._routing_key = routing_key
        self._url = base_url.rstrip("/") + "/v2/enqueue"
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"PagerDutyPager(url={self._url!r})"

    def trigger(self, event: PageEvent) -> None:
        payload: dict[str, Any] = {
            "summary": truncate(event.summary, SUMMARY_MAX),
            "source": event.source,
            "severity": SEVERITY[event.severity],
            "custom_details": {"incident": event.incident_ref, "tier": event.tier, **event.details},
        }
        body: dict[str, Any] = {"event_action": "trigger", "dedup_key": event.dedup_key, "payload": payload,
                                "client": "Firebell"}
        if event.link:
            body["links"] = [{"href": event.link, "text": f"{event.incident_ref} in Slack"}]
        self._send(body)

    def acknowledge(self, dedup_key: str) -> None:
        self._send({"event_action": "acknowledge", "dedup_key": dedup_key})

    def resolve(self, dedup_key: str) -> None:
        self._send({"event_action": "resolve", "dedup_key": dedup_key})

    def _send(self, body: dict[str, Any]) -> None:
        http.post_json(self.name, self._url, {"routing_key": self._routing_key, **body},
                       secrets=[self._routing_key], timeout=self._timeout)
