"""Local HTTP stand-ins for PagerDuty's Events API v2 and Opsgenie's Alert API, for tests.

Each is a real HTTP server on 127.0.0.1 (an ephemeral port) in a daemon thread (``bot.sandbox.loopback``). It
checks every request against the vendor's documented fields (``tests.pagers.vendor_rules``), answers with the vendor's status codes
and body shapes, keeps the state of each alert, and can be told to fail the next requests.

    with PagerDutyStandIn(routing_keys=[KEY]) as pd:
        config = PagerConfig(type="pagerduty", key_env="PD_KEY", url=pd.url)
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.sandbox.loopback import BackgroundServer, LoopbackHTTPServer
from tests.pagers import vendor_rules

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None
    message: str | None


class _StandIn:
    """The HTTP server, the fault queue and the bookkeeping both stand-ins share."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._served = BackgroundServer(lambda: LoopbackHTTPServer(("127.0.0.1", 0), _handler(self)),
                                        name=type(self).__name__)
        self.url = ""
        self.received = 0  # every HTTP request, faults and refusals included
        self.rejected: list[tuple[dict[str, Any] | str, str]] = []

    def start(self) -> Self:
        if not self._served.running:
            self.url = self._served.start().url
        return self

    def stop(self) -> None:
        self._served.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail(self, *, status: int = 500, times: int = 1, retry_after: int | None = None,
             message: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and a Retry-After header when given)."""
        with self._lock:
            self._faults.append(_Fault(status, times, retry_after, message))

    def reset(self) -> None:
        """Forget every request, fault, refusal and alert (the keys stay)."""
        with self._lock:
            self._faults.clear()
            self.received = 0
            self.rejected.clear()
            self._forget()

    def _forget(self) -> None:
        raise NotImplementedError

    def handle(self, method: str, target: str, headers: Message, raw: bytes) -> Answer:
        parts = urlsplit(target)
        with self._lock:
            self.received += 1
            if self._faults:
                fault = self._faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                return fault.status, self._fault_body(fault.status, fault.message), extra
            return self._route(method, parts.path, parts.query, headers, raw)

    def _reject(self, raw: bytes | dict[str, Any], reason: str) -> None:
        if isinstance(raw, dict):
            self.rejected.append((copy.deepcopy(raw), reason))
            return
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        self.rejected.append((parsed if isinstance(parsed, dict) else text, reason))

    def _route(self, method: str, path: str, query: str, headers: Message, raw: bytes) -> Answer:
        raise NotImplementedError

    def _fault_body(self, status: int, message: str | None) -> dict[str, Any]:
        raise NotImplementedError


def _is_json(headers: Message) -> bool:
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower() == "application/json"


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


class PagerDutyStandIn(_StandIn):
    """PagerDuty's ``POST /v2/enqueue``. ``routing_keys``: the integration keys it knows (none: any
    well-formed 32-character key). Alerts are kept per routing key and dedup key, as PagerDuty does."""

    def __init__(self, routing_keys: Iterable[str] = ()) -> None:
        super().__init__()
        self.routing_keys = frozenset(routing_keys)
        self.events: list[dict[str, Any]] = []
        self._alerts: dict[tuple[str, str], str] = {}

    def alerts(self) -> dict[str, str]:
        """dedup_key -> "triggered" / "acknowledged" / "resolved"."""
        with self._lock:
            return {dedup_key: state for (_, dedup_key), state in self._alerts.items()}

    def _forget(self) -> None:
        self.events.clear()
        self._alerts.clear()

    def _fault_body(self, status: int, message: str | None) -> dict[str, Any]:
        if status == 429:
            return {"status": "throttle event", "message": message or "Request limit exceeded; retry later"}
        return {"status": "error", "message": message or f"HTTP {status}"}

    def _invalid(self, raw: bytes | dict[str, Any], problems: list[str]) -> Answer:
        self._reject(raw, "; ".join(problems))
        return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": problems}, {}

    def _route(self, method: str, path: str, query: str, headers: Message, raw: bytes) -> Answer:
        if path != "/v2/enqueue":
            self._reject(raw, f"no such endpoint {method} {path}")
            return 404, {"status": "not found", "message": f"{path} is not an Events API v2 endpoint"}, {}
        if method != "POST":
            self._reject(raw, f"{method} is not allowed on {path}")
            return 405, {"status": "method not allowed", "message": "Use POST"}, {}
        event = _json_object(raw) if _is_json(headers) else None
        if event is None:
            self._reject(raw, "the body is not a JSON object sent as application/json")
            return 400, {"status": "Unrecognized object", "message": "Event object format is unrecognized",
                         "errors": ["JSON parse error"]}, {}
        if len(raw) > vendor_rules.PD_EVENT_MAX_BYTES:
            return self._invalid(event, ["Event is larger than 512 KB"])
        if problems := vendor_rules.pagerduty_event(event):
            return self._invalid(event, problems)
        routing_key = event["routing_key"]
        if self.routing_keys and routing_key not in self.routing_keys:
            return self._invalid(event, ["Invalid routing key"])
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        self.events.append(copy.deepcopy(event))
        alert, state = (routing_key, dedup_key), self._alerts.get((routing_key, dedup_key))
        action = event["event_action"]
        if action == "trigger" and state in (None, "resolved"):
            self._alerts[alert] = "triggered"
        elif action == "acknowledge" and state in ("triggered", "acknowledged"):
            self._alerts[alert] = "acknowledged"
        elif action == "resolve" and state in ("triggered", "acknowledged"):
            self._alerts[alert] = "resolved"
        # anything else is taken and dropped, as PagerDuty does with events for no open alert
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, {}


@dataclass
class _Alert:
    id: str
    tiny_id: str
    alias: str
    state: str  # open / acked / closed
    count: int = 1


class OpsgenieStandIn(_StandIn):
    """Opsgenie's create, acknowledge and close alert calls. ``api_keys``: the keys it knows (none: any key);
    ``restricted_keys``: known keys without the right to act on alerts (403)."""

    def __init__(self, api_keys: Iterable[str] = (), *, restricted_keys: Iterable[str] = ()) -> None:
        super().__init__()
        self.api_keys = frozenset(api_keys)
        self.restricted_keys = frozenset(restricted_keys)
        self.requests: list[dict[str, Any]] = []  # accepted: method, path (as sent), query, body
        self._by_alias: dict[str, _Alert] = {}
        self._all: list[_Alert] = []
        self._tiny = itertools.count(1)

    def alerts(self) -> dict[str, str]:
        """alias -> "open" / "acked" / "closed" (the newest alert of each alias)."""
        with self._lock:
            return {alias: alert.state for alias, alert in self._by_alias.items()}

    def _forget(self) -> None:
        self.requests.clear()
        self._by_alias.clear()
        self._all.clear()
        self._tiny = itertools.count(1)

    def _answer(self, status: int, body: dict[str, Any]) -> Answer:
        request_id = str(uuid.uuid4())
        return status, {**body, "took": 0.01, "requestId": request_id}, {"X-Request-ID": request_id}

    def _fault_body(self, status: int, message: str | None) -> dict[str, Any]:
        default = "Too many requests" if status == 429 else f"HTTP {status}"
        return self._answer(status, {"message": message or default})[1]

    def _refuse(self, raw: bytes | dict[str, Any], status: int, message: str,
                errors: Mapping[str, str] | None = None) -> Answer:
        self._reject(raw, message + "".join(f"; {k}: {v}" for k, v in (errors or {}).items()))
        return self._answer(status, {"message": message, **({"errors": dict(errors)} if errors else {})})

    def _route(self, method: str, path: str, query: str, headers: Message, raw: bytes) -> Answer:
        scheme, _, key = (headers.get("Authorization") or "").partition(" ")
        if scheme != "GenieKey" or not key.strip() or (self.api_keys and key not in self.api_keys):
            return self._refuse(raw, 401, "Could not authenticate")
        if key in self.restricted_keys:
            return self._refuse(raw, 403, "You are not authorized to take this action.")
        segments = path.split("/")
        if segments[1:3] != ["v2", "alerts"] or len(segments) not in (3, 5) or (
                len(segments) == 5 and segments[4] not in ("acknowledge", "close")):
            return self._refuse(raw, 404, "Could not find the requested resource")
        if method != "POST":
            return self._refuse(raw, 405, f"{method} is not allowed here")
        params = dict(parse_qsl(query, keep_blank_values=True))
        allowed = {"identifierType"} if len(segments) == 5 else set()
        if unknown := {p: "Unknown query parameter" for p in params if p not in allowed}:
            return self._refuse(raw, 422, "Request is not processable. Please check the errors.", unknown)
        if not _is_json(headers):
            return self._refuse(raw, 415, "Content-Type must be application/json")
        body = _json_object(raw)
        if body is None:
            return self._refuse(raw, 400, "Request body is not valid JSON")
        if len(segments) == 3:
            problems = vendor_rules.opsgenie_create(body)
        else:
            problems = vendor_rules.opsgenie_action(body)
            if params.get("identifierType", "id") not in vendor_rules.OG_IDENTIFIER_TYPES:
                problems["identifierType"] = f"should be one of {vendor_rules.OG_IDENTIFIER_TYPES}"
        if problems:
            return self._refuse(body, 422, "Request body is not processable. Please check the errors.", problems)
        self.requests.append({"method": method, "path": path, "query": params, "body": copy.deepcopy(body)})
        if len(segments) == 3:
            self._create(body)
        else:
            self._act(unquote(segments[3]), params.get("identifierType", "id"), segments[4])
        return self._answer(202, {"result": "Request will be processed"})

    def _create(self, body: dict[str, Any]) -> None:
        alias = body.get("alias")
        current = self._by_alias.get(alias) if alias else None
        if current is not None and current.state != "closed":
            current.count += 1  # de-duplicated into the open alert
            return
        alert_id = str(uuid.uuid4())
        alert = _Alert(id=alert_id, tiny_id=str(next(self._tiny)), alias=alias or alert_id, state="open")
        self._all.append(alert)
        self._by_alias[alert.alias] = alert

    def _act(self, identifier: str, identifier_type: str, action: str) -> None:
        if identifier_type == "alias":
            alert = self._by_alias.get(identifier)
        else:
            attribute = "id" if identifier_type == "id" else "tiny_id"
            alert = next((a for a in reversed(self._all) if getattr(a, attribute) == identifier), None)
        if alert is None or alert.state == "closed":
            return  # accepted (202) and then fails asynchronously: "Alert does not exist"
        alert.state = "acked" if action == "acknowledge" else "closed"


def _handler(standin: _StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "firebell-pager-standin"

        def _serve(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self.send_error(400, "bad Content-Length")
                return
            raw = self.rfile.read(length) if length > 0 else b""
            status, body, extra = standin.handle(self.command, self.path, self.headers, raw)
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records instead
            pass

    return Handler
