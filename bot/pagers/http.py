"""One JSON POST with bounded retries, shared by the pager clients.

Retries (at most ``ATTEMPTS`` tries in all): HTTP 429 after its Retry-After (capped at ``RETRY_AFTER_CAP``),
5xx, connection errors and timeouts after a short doubling backoff. Any other 4xx fails at once with the
vendor's message. Error messages and log records name the vendor, the status and the vendor's message and
have every secret passed in ``secrets`` blanked out; request bodies are never logged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from bot.pagers.interface import PagerError

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF = 0.25  # seconds before the 2nd try; doubled before the 3rd
RETRY_AFTER_CAP = 5.0
MAX_RESPONSE = 64 * 1024
MAX_MESSAGE = 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a hop: following one could carry the key to another host."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post_json(
    vendor: str,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST ``body`` as JSON; the decoded JSON answer of a 2xx (``{}`` when it is not JSON)."""
    hidden = [s for s in secrets if s]
    data = json.dumps(body).encode("utf-8")
    request_headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "firebell",
                       **(headers or {})}
    where = urlsplit(url).path or "/"
    problem = ""
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=data, headers=request_headers, method="POST")
        delay = BACKOFF * 2 ** (attempt - 1)
        try:
            status, raw, retry_after = _send(request, timeout)
        except (OSError, HTTPException) as exc:  # URLError, timeouts, resets, a garbled or cut answer
            problem = _clean(f"could not reach {urlsplit(url).netloc}: {_reason(exc)}", hidden)
        else:
            if 200 <= status < 300:
                log.debug("%s: POST %s -> HTTP %s (attempt %d)", vendor, where, status, attempt)
                return _decode(raw)
            problem = _clean(f"HTTP {status}: {vendor_message(raw)}", hidden)
            if status != 429 and status < 500:
                raise PagerError(f"{vendor}: POST {where} refused, {problem}")
            wait = _retry_after(retry_after)
            if wait is not None:
                delay = wait
        if attempt < ATTEMPTS:
            log.warning("%s: POST %s failed (%s); retrying in %.2f s (attempt %d of %d)",
                        vendor, where, problem, delay, attempt, ATTEMPTS)
            sleep(delay)
    raise PagerError(f"{vendor}: POST {where} failed after {ATTEMPTS} attempts, {problem}")


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, bytes, str | None]:
    """(status, body, Retry-After) of one try; OSError when there is no HTTP answer."""
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(MAX_RESPONSE), response.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        with exc:
            raw = exc.read(MAX_RESPONSE) if exc.fp is not None else b""
            return exc.code, raw, exc.headers.get("Retry-After")


def vendor_message(raw: bytes) -> str:
    """The human part of a vendor's error answer: ``message`` plus its ``errors`` (list or map)."""
    parsed = _decode(raw)
    message = parsed.get("message") or parsed.get("status") or ""
    errors = parsed.get("errors")
    if isinstance(errors, list):
        extra = "; ".join(str(e) for e in errors)
    elif isinstance(errors, dict):
        extra = "; ".join(f"{k}: {v}" for k, v in errors.items())
    else:
        extra = ""
    if not parsed:
        message = raw.decode("utf-8", "replace").strip()
    return f"{message} ({extra})" if message and extra else message or extra or "no message"


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc) or type(exc).__name__


def _clean(text: str, secrets: list[str]) -> str:
    """``text`` with every secret blanked out, then on one line and cut to ``MAX_MESSAGE``."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
