"""Opsgenie through the Alert API: create, acknowledge and close one alert, addressed by alias = dedup key.

Every call carries ``Authorization: GenieKey <key>``; Opsgenie processes alert requests asynchronously and
answers 202 when it takes one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.pagers import http
from bot.pagers.interface import OPSGENIE_URL, PageEvent, truncate

MESSAGE_MAX = 130
DESCRIPTION_MAX = 15_000
DETAILS_MAX = 8_000  # all keys and values together
TAG_MAX = 50
ENTITY_MAX = 512
SOURCE_MAX = 100
PRIORITY = {"sev1": "P1", "sev2": "P2", "sev3": "P3", "sev4": "P4"}


class OpsgeniePager:
    name = "opsgenie"

    def __init__(self, api_key: str, *, base_url: str = OPSGENIE_URL, timeout: float = 10.0,
                 source: str = "firebell") -> None:
        self._api_key = api_key
        self._alerts = base_url.rstrip("/") + "/v2/alerts"
        self._timeout = timeout
        self._source = truncate(source, SOURCE_MAX)

    def __repr__(self) -> str:
        return f"OpsgeniePager(url={self._alerts!r})"

    def trigger(self, event: PageEvent) -> None:
        description = event.summary if not event.link else f"{event.summary}\n\nSlack: {event.link}"
        details = {"incident": event.incident_ref, "tier": event.tier, **event.details}
        if event.link:
            details["link"] = event.link
        body: dict[str, Any] = {
            "message": truncate(event.summary, MESSAGE_MAX),
            "alias": event.dedup_key,
            "description": truncate(description, DESCRIPTION_MAX),
            "details": _fit(details, DETAILS_MAX),
            "tags": [truncate(t, TAG_MAX) for t in dict.fromkeys(("firebell", event.incident_ref, event.tier))],
            "entity": truncate(event.incident_ref, ENTITY_MAX),
            "source": truncate(event.source, SOURCE_MAX),
            "priority": PRIORITY[event.severity],
        }
        self._post(self._alerts, body)

    def acknowledge(self, dedup_key: str) -> None:
        self._post(self._action_url(dedup_key, "acknowledge"),
                   {"source": self._source, "note": "Acknowledged in Slack (Firebell)"})

    def resolve(self, dedup_key: str) -> None:
        self._post(self._action_url(dedup_key, "close"),
                   {"source": self._source, "note": "Incident resolved in Slack (Firebell)"})

    def _action_url(self, alias: str, action: str) -> str:
        return f"{self._alerts}/{quote(alias, safe='')}/{action}?identifierType=alias"

    def _post(self, url: str, body: dict[str, Any]) -> None:
        http.post_json(self.name, url, body, headers={"Authorization": f"GenieKey {self._api_key}"},
                       secrets=[self._api_key], timeout=self._timeout)


def _fit(details: dict[str, str], limit: int) -> dict[str, str]:
    """``details`` as strings, the entries that would pass ``limit`` characters in all left out."""
    fitted: dict[str, str] = {}
    used = 0
    for key, value in details.items():
        key, value = str(key), str(value)
        if used + len(key) + len(value) > limit:
            continue
        fitted[key] = value
        used += len(key) + len(value)
    return fitted
