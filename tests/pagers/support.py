"""Keys, a raw HTTP helper and event builders shared by the pager tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

from bot.pagers import PageEvent

PD_KEY = "3f9a1c07d2e84b6a95c0e7d1f24b8a6c"  # PagerDuty integration keys are 32 characters
PD_ENV = "FIREBELL_PD_L1_KEY"
OG_KEY = "5e2c41b8-7d0f-4c3a-9e61-opsgenie-key"
OG_ENV = "FIREBELL_OPSGENIE_KEY"

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(url: str, body: bytes | dict[str, Any], headers: dict[str, str] | None = None,
         method: str = "POST") -> tuple[int, dict[str, Any], Message]:
    """Send one request as-is: (status, decoded JSON answer, response headers)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with _opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read()), exc.headers


def event(dedup_key: str = "firebell-T0123-INC-7-L1", *, severity: str = "sev1", summary: str | None = None,
          link: str | None = "https://firebell-test.slack.com/archives/C0INC7") -> PageEvent:
    return PageEvent(dedup_key=dedup_key, summary=summary or "INC-7 (SEV1): Checkout returns 500s", severity=severity,
                     source="firebell", incident_ref="INC-7", tier="L1", link=link, details={"status": "open"})
