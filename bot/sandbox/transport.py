"""How `SlackDriver` reaches the app: signed HTTP requests to its request URL, or Socket Mode envelopes on the
app's WebSocket. Both give back a `Response`: what Slack got from the app within its 3 seconds."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.socket_mode import ACK_DEADLINE, SocketModeEndpoint
from bot.sandbox.workspace import monotonic

# Interaction payloads whose ack may carry an answer (a view_submission's response_action, a block_suggestion's
# options); Slack marks the others' envelopes accepts_response_payload: false.
ANSWERED_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


@dataclass
class Response:
    status: int  # HTTP: the app's status. Socket Mode: 200 when the envelope was acked within 3 s, else 0
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0  # seconds, real clock
    sent: dict[str, Any] = field(default_factory=dict)  # the payload the driver sent

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Transport(Protocol):
    def command(self, fields: dict[str, str]) -> Response: ...

    def interaction(self, payload: dict[str, Any]) -> Response: ...

    def event(self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str) -> Response: ...


class HttpTransport:
    """Slack's HTTP requests: form-encoded commands, a `payload` form field for interactivity, JSON events, each
    signed with the signing secret (X-Slack-Signature over `v0:{timestamp}:{body}`)."""

    def __init__(self, app_url: str, signing_secret: str) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """POST a body to the app, signed unless `signature` is given. The timestamp comes from
        time.time(), so inside a freezegun context it is the app's (fake) now."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        if signature is None:  # slack_sdk types the signature Optional (None only without a body)
            signature = SignatureVerifier(self.signing_secret).generate_signature(timestamp=stamp, body=body) or ""
        request = urllib.request.Request(
            self.app_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                **(headers or {}),
            },
        )
        started = monotonic()
        try:
            with self._opener.open(request, timeout=10) as answer:
                status, answer_headers, data = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as exc:
            status, answer_headers, data = exc.code, dict(exc.headers.items()), exc.read()
        return Response(status, answer_headers, data, monotonic() - started)

    def command(self, fields: dict[str, str]) -> Response:
        response = self.raw(urlencode(fields).encode(), "application/x-www-form-urlencoded")
        response.sent = fields
        return response

    def interaction(self, payload: dict[str, Any]) -> Response:
        response = self.raw(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
        response.sent = payload
        return response

    def event(self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str) -> Response:
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        response = self.raw(json.dumps(envelope).encode(), "application/json", headers=headers)
        response.sent = envelope
        return response


class SocketModeTransport:
    """The same requests as Socket Mode envelopes: the command's fields, the interaction payload or the event
    callback become the envelope's `payload`; the ack's `payload` becomes the response body (JSON)."""

    def __init__(self, endpoint: SocketModeEndpoint) -> None:
        self.endpoint = endpoint

    def _send(self, kind: str, payload: dict[str, Any], accepts: bool, retry_num: int | None = None,
              retry_reason: str = "") -> Response:
        ack = self.endpoint.deliver(kind, payload, accepts_response_payload=accepts, retry_attempt=retry_num,
                                    retry_reason=retry_reason)
        elapsed = (ack.acked if ack.acked is not None else monotonic()) - ack.sent
        if ack.acked is None or elapsed > ACK_DEADLINE:
            return Response(0, {}, b"", elapsed, payload)
        if ack.response is None:
            return Response(200, {}, b"", elapsed, payload)
        body = json.dumps(ack.response).encode()
        return Response(200, {"Content-Type": "application/json"}, body, elapsed, payload)

    def command(self, fields: dict[str, str]) -> Response:
        return self._send("slash_commands", fields, True)

    def interaction(self, payload: dict[str, Any]) -> Response:
        return self._send("interactive", payload, payload.get("type") in ANSWERED_INTERACTIONS)

    def event(self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str) -> Response:
        return self._send("events_api", envelope, False, retry_num, retry_reason)
