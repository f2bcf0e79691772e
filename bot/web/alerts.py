"""The doors monitoring and pipelines knock on: POST /alerts/alertmanager, POST /alerts/grafana, POST /changes.

Each checks who knocks before it reads a byte of the body (the bearer token FIREBELL_ALERT_TOKEN, compared in
constant time; for Grafana also its HMAC signature with FIREBELL_GRAFANA_SECRET), answers a body that is not the
documented shape with a 400 and a short reason, one over 1 MiB with a 413, and says 200 only once the notification
is stored (senders retry on 5xx: a database that does not answer gets a 503). It never answers 500. With no token
configured the doors do not exist (404). An alert door does nothing after the checks but store the body as it came
(with its outbox item, in one short transaction): the routing (groups, incidents, triage) follows from the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.domain.alerts import Source
from bot.web import Route, StartResponse, WSGIApp, route
from bot.web.alert_payloads import AlertmanagerV4, BadPayload, ChangeBody, GrafanaBody, parse
from bot.web.responses import json_response
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

ALERTMANAGER_PATH = "/alerts/alertmanager"
GRAFANA_PATH = "/alerts/grafana"
CHANGES_PATH = "/changes"
MAX_BODY = 1024 * 1024  # 1 MiB
SIGNATURE_HEADER = "HTTP_X_GRAFANA_ALERTING_SIGNATURE"  # Grafana's default header name
TIMESTAMP_HEADER = "HTTP_X_GRAFANA_ALERTING_TIMESTAMP"  # when its timestamp header is configured


class Refused(Exception):
    """An answer other than 200, with its status and reason."""

    def __init__(self, status: str, reason: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or []


@dataclass(frozen=True)
class Answer:
    status: str
    body: dict[str, Any]


Store = Callable[[Source, bytes], dict[str, Any]]  # stores a notification's body as it came, returns the answer's body
RecordChange = Callable[[ChangeBody], tuple[bool, dict[str, Any]]]  # (stored now, body)


def bearer_ok(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def grafana_signature_ok(body: bytes, signature: str | None, timestamp: str | None, secret: str) -> bool:
    """Hex HMAC-SHA256 of the body, or of ``timestamp:body`` when Grafana sends its timestamp header."""
    if not signature:
        return False
    signed = f"{timestamp}:".encode() + body if timestamp else body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.strip().lower().encode(), expected.encode())


def _read(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("400 Bad Request", "Content-Length is not a number") from None
    if length > MAX_BODY:
        raise Refused("413 Content Too Large", f"the body is over {MAX_BODY} bytes (1 MiB)")
    body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refused("413 Content Too Large", f"the body is over {MAX_BODY} bytes (1 MiB)")
    return body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("400 Bad Request", "the body is not JSON") from None


def _door(token: str, handle: Callable[[dict[str, Any], bytes], Answer], *, what: str,
          busy: Callable[[], AbstractContextManager[object]] = nullcontext) -> WSGIApp:
    """Authenticate, read, handle; every outcome a JSON answer, never a 500. ``busy`` is held while it does."""

    def answer(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        with busy():
            return _answer(environ, start_response)

    def _answer(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            if not bearer_ok(environ.get("HTTP_AUTHORIZATION"), token):
                log.warning("refused %s from %s: missing or wrong bearer token", what, environ.get("REMOTE_ADDR"))
                raise Refused("401 Unauthorized", "a valid bearer token is required",
                              [("WWW-Authenticate", 'Bearer realm="firebell alerts"')])
            result = handle(environ, _read(environ))
            return json_response(start_response, result.status, result.body)
        except Refused as refused:
            return json_response(start_response, refused.status, {"error": refused.reason}, refused.headers)
        except (SQLAlchemyError, DatabaseUnavailable) as exc:
            log.warning("%s not stored: the database does not answer (%s)", what, type(exc).__name__)
            return json_response(start_response, "503 Service Unavailable",
                                 {"error": "the database does not answer; nothing was stored, send it again"},
                                 [("Retry-After", "10")])
        except Exception:  # never a 500: the sender retries a 503, and the error is logged with a ref to quote
            ref = uuid.uuid4().hex[:8]
            log.exception("%s failed unexpectedly (ref %s)", what, ref)
            return json_response(start_response, "503 Service Unavailable",
                                 {"error": f"Firebell could not take it (ref {ref}); send it again"})

    return answer


def _absent(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    return json_response(start_response, "404 Not Found", {"error": "not found"})


def alert_doors(store: Store, record_change: RecordChange, token: str | None, grafana_secret: str | None, *,
                busy: Callable[[], AbstractContextManager[object]] = nullcontext) -> list[Route]:
    """The three doors; each answers 404 while FIREBELL_ALERT_TOKEN is not set. The alert doors hold ``busy`` while
    they take a notification (its routing gives way to them)."""
    if not token:
        return [route(["POST"], path, _absent) for path in (ALERTMANAGER_PATH, GRAFANA_PATH, CHANGES_PATH)]

    def alertmanager(environ: dict[str, Any], body: bytes) -> Answer:
        _parsed(AlertmanagerV4, body)  # the shape checked here: a body stored is one the routing can read
        return Answer("200 OK", store(Source.ALERTMANAGER, body))

    def grafana(environ: dict[str, Any], body: bytes) -> Answer:
        if grafana_secret and not grafana_signature_ok(body, environ.get(SIGNATURE_HEADER),
                                                       environ.get(TIMESTAMP_HEADER), grafana_secret):
            log.warning("refused a Grafana notification from %s: missing or wrong HMAC signature",
                        environ.get("REMOTE_ADDR"))
            raise Refused("401 Unauthorized", "a valid X-Grafana-Alerting-Signature is required")
        _parsed(GrafanaBody, body)
        return Answer("200 OK", store(Source.GRAFANA, body))

    def changes(environ: dict[str, Any], body: bytes) -> Answer:
        change = _parsed(ChangeBody, body)
        stored, answer = record_change(change)
        return Answer("201 Created" if stored else "200 OK", answer)

    return [route(["POST"], ALERTMANAGER_PATH,
                  _door(token, alertmanager, what="an Alertmanager notification", busy=busy)),
            route(["POST"], GRAFANA_PATH, _door(token, grafana, what="a Grafana notification", busy=busy)),
            route(["POST"], CHANGES_PATH, _door(token, changes, what="a change event"))]


def _parsed(model: Any, body: bytes) -> Any:
    raw = _json(body)
    if not isinstance(raw, dict):
        raise Refused("400 Bad Request", "the body must be a JSON object")
    try:
        return parse(model, raw)
    except BadPayload as exc:
        raise Refused("400 Bad Request", str(exc)) from None
