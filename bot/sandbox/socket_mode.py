"""Socket Mode as Slack serves it: `apps.connections.open` and the WebSocket (RFC 6455) it points to.

The app calls `apps.connections.open` with its app-level token (xapp-…, `connections:write`) and gets a ws:// URL
holding a one-time ticket. On connecting, Slack sends `{"type": "hello", ...}`; then each request the app would
have got over HTTP comes as an envelope `{"envelope_id", "type": slash_commands | interactive | events_api,
"payload", "accepts_response_payload"}` (events also carry `retry_attempt` and `retry_reason`), and the app must
answer `{"envelope_id", "payload"?}` within 3 seconds. `{"type": "disconnect", "reason": ...}` asks the app to open
a new connection; Slack closes the old one soon after. An app may hold up to 10 connections; each envelope goes
to one of them.

The WebSocket side is `websockets`' threaded server: a well-kept RFC 6455 implementation (handshake, masking,
fragmentation, ping/pong, the closing handshake) that this strict stand-in should not write again.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.sandbox.loopback import BackgroundServer
from bot.sandbox.records import Ack
from bot.sandbox.workspace import ApiError, Args, Workspace, monotonic

ACK_DEADLINE = 3.0  # seconds Slack waits for an envelope's ack
MAX_CONNECTIONS = 10  # open connections Slack allows an app
CONNECT_WAIT = 10.0  # seconds a delivery waits for a connection (the app reconnecting after a disconnect)
# Seconds Slack keeps a connection open after asking the app to leave it. slack_sdk's built-in client reads only
# one connection at a time: it starts reading the new one when the old one's read returns, i.e. when this closes it.
CLOSE_AFTER_DISCONNECT = 0.5
APPROXIMATE_CONNECTION_TIME = 18_060  # seconds, as Slack's hello says; 360 with debug_reconnects=true
HOST = "applink-standin"
ENVELOPE_TYPES = frozenset({"slash_commands", "interactive", "events_api"})

log = logging.getLogger(__name__)


def apps_connections_open(ws: Workspace, args: Args) -> dict[str, Any]:
    if not ws.socket_url:
        raise ApiError("internal_error")
    ticket = str(uuid.uuid4())
    ws.tickets[ticket] = monotonic()
    return {"url": f"{ws.socket_url}/link/?ticket={ticket}&app_id={ws.app_id}"}


METHODS: dict[str, Callable[[Workspace, Args], dict[str, Any]]] = {
    "apps.connections.open": apps_connections_open,
}


@dataclass
class _Connection:
    id: str
    socket: ServerConnection
    debug_reconnects: bool
    leaving: bool = False  # told to disconnect: gets no more envelopes


@dataclass
class _Pending:
    ack: Ack
    accepts_response_payload: bool
    deadline: float
    done: threading.Event = field(default_factory=threading.Event)


class SocketModeEndpoint:
    """The WebSocket side of Socket Mode. Tests reach it as `SlackStandIn.socket_mode`."""

    def __init__(self, ws: Workspace, host: str = "127.0.0.1") -> None:
        self._ws = ws
        self._changed = threading.Condition()  # guards everything below; notified when connections come and go
        self._connections: list[_Connection] = []
        self._pending: dict[str, _Pending] = {}
        self._acks: list[Ack] = []
        self._opened = 0  # connections ever opened
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._served: BackgroundServer[Server] = BackgroundServer(
            lambda: serve(self._serve_connection, host, 0, process_request=self._check_ticket, compression=None,
                          logger=log),
            name="slack-socket-mode",
        )

    def start(self) -> None:
        if not self._served.running:
            host, port = self._served.start().address
            with self._ws.lock:
                self._ws.socket_url = f"ws://{host}:{port}"

    def stop(self) -> None:
        self._served.stop()

    def reset(self) -> None:
        """Close every connection (an app reconnects by itself), then forget the envelopes, acks and counts."""
        self.close_connections("reset")
        with self._changed:
            self._acks.clear()
            self._pending.clear()
            self._opened = 0

    def close_connections(self, reason: str = "going away") -> int:
        """Close every connection with the closing handshake (code 1001), without a disconnect message first."""
        with self._changed:
            connections = list(self._connections)
            for connection in connections:
                connection.leaving = True
        for connection in connections:
            connection.socket.close(1001, reason)
        return len(connections)

    # --- the WebSocket server's callbacks --------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path != "/link/":
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._ws.lock:
            if self._ws.tickets.pop(ticket, None) is None:  # unknown, or used already
                self._ws.problems.append(f"Socket Mode: connection refused, ticket {ticket!r} is unknown or used")
                return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    def _serve_connection(self, socket: ServerConnection) -> None:
        request = socket.request
        query = parse_qs(urlsplit(request.path if request else "").query)
        connection = _Connection(f"conn-{next(self._ids)}", socket, query.get("debug_reconnects") == ["true"])
        with self._changed:
            too_many = sum(not c.leaving for c in self._connections) >= MAX_CONNECTIONS
            if not too_many:
                self._connections.append(connection)
                self._opened += 1
        if too_many:
            self._send(connection, {"type": "disconnect", "reason": "too_many_websockets",
                                    "debug_info": {"host": HOST}})
            socket.close(1008, "too many websockets")
            return
        try:
            self._send(connection, self._hello())
            with self._changed:
                self._changed.notify_all()
            for message in socket:
                self._receive(connection, message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._connections.remove(connection)
                self._changed.notify_all()

    def _hello(self) -> dict[str, Any]:
        with self._changed:
            count = len(self._connections)
        return {
            "type": "hello",
            "num_connections": count,
            "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": APPROXIMATE_CONNECTION_TIME},
            "connection_info": {"app_id": self._ws.app_id},
        }

    def _send(self, connection: _Connection, message: dict[str, Any]) -> None:
        connection.socket.send(json.dumps(message))

    def _receive(self, connection: _Connection, message: str | bytes) -> None:
        try:
            body = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            body = None
        envelope_id = body.get("envelope_id") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(envelope_id, str):
            self._problem(f"Socket Mode: not an ack (a JSON object with an envelope_id): {message!r:.200}")
            return
        payload = body.get("payload")
        with self._changed:
            pending = self._pending.get(envelope_id)
            if pending is None:
                known = any(a.envelope_id == envelope_id for a in self._acks)
                self._problem(f"Socket Mode: ack for {'an already acked' if known else 'an unknown'} envelope "
                              f"{envelope_id}")
                return
            if payload is not None and not isinstance(payload, dict):
                self._problem(f"Socket Mode: ack {envelope_id}: payload must be an object, got {payload!r:.100}")
                payload = None
            now = monotonic()
            pending.ack.acked, pending.ack.response = now, payload
            if now - pending.ack.sent > pending.deadline:
                self._problem(f"Socket Mode: envelope {envelope_id} ({pending.ack.type}) acked after "
                              f"{now - pending.ack.sent:.1f}s (Slack waits {pending.deadline}s)")
            del self._pending[envelope_id]
            self._acks.append(pending.ack)
            pending.done.set()

    def _problem(self, text: str) -> None:
        with self._ws.lock:
            self._ws.problems.append(text)

    # --- what tests and the driver do ------------------------------------------------------------

    def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int | None = None,
        retry_reason: str = "",
        deadline: float = ACK_DEADLINE,
        connect_wait: float = CONNECT_WAIT,
    ) -> Ack:
        """Send one envelope to one open connection and wait up to `deadline` for its ack.

        The answer's `acked` is None when no ack came in time (Slack then fails the request: the person sees an
        error, an event is retried). With no open connection, waits up to `connect_wait` for the app to connect.
        """
        if kind not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {kind!r}")
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt or 0, retry_reason=retry_reason if retry_attempt else "")
        connection = self._pick(connect_wait)
        ack = Ack(envelope["envelope_id"], kind, payload, monotonic(), connection=connection.id if connection else "")
        if connection is None:
            self._problem(f"Socket Mode: no open connection for a {kind} envelope after {connect_wait}s")
            return ack
        pending = _Pending(ack, accepts_response_payload, deadline)
        with self._changed:
            self._pending[ack.envelope_id] = pending
        with contextlib.suppress(ConnectionClosed):  # closed as we sent: the envelope is lost, no ack will come
            self._send(connection, envelope)
        if not pending.done.wait(deadline):
            self._problem(f"Socket Mode: envelope {ack.envelope_id} ({kind}) not acked within {deadline}s")
        with self._changed:
            return copy.deepcopy(ack)  # as it was at the deadline: a later ack is in `acks`, not here

    def _pick(self, wait: float) -> _Connection | None:
        """An open connection not told to leave, taken in turn; waits for one to open if there is none."""
        until = monotonic() + wait
        with self._changed:
            while True:
                ready = [c for c in self._connections if not c.leaving]
                if ready:
                    return ready[next(self._turn) % len(ready)]
                left = until - monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def disconnect(self, reason: str = "refresh_requested", *, close_after: float = CLOSE_AFTER_DISCONNECT) -> int:
        """Ask every open connection to leave (`refresh_requested`, `warning`, `link_disabled`), then close them
        `close_after` seconds later unless the app closed them first. Returns how many were asked."""
        with self._changed:
            leaving = [c for c in self._connections if not c.leaving]
            for connection in leaving:
                connection.leaving = True
        for connection in leaving:
            try:
                self._send(connection, {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}})
            except ConnectionClosed:
                continue
            timer = threading.Timer(close_after, connection.socket.close, args=(1001, reason))
            timer.daemon = True
            timer.start()
        return len(leaving)

    def drop(self) -> int:
        """Cut every connection without a word (a network failure): no disconnect message, no closing handshake."""
        with self._changed:
            connections = [c for c in self._connections if not c.leaving]
            for connection in connections:
                connection.leaving = True  # gone for Slack at once, whenever its thread notices
        for connection in connections:
            connection.socket.close_socket()
        return len(connections)

    def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> int:
        """Wait until `count` connections are open and not leaving; returns how many are."""
        until = monotonic() + timeout
        with self._changed:
            while True:
                ready = sum(not c.leaving for c in self._connections)
                left = until - monotonic()
                if ready >= count or left <= 0:
                    return ready
                self._changed.wait(left)

    @property
    def url(self) -> str:
        """ws://host:port, where apps.connections.open's URLs point."""
        with self._ws.lock:
            return self._ws.socket_url

    @property
    def open_connections(self) -> int:
        with self._changed:
            return len(self._connections)

    @property
    def connections_opened(self) -> int:
        """Connections ever opened (reconnects included)."""
        with self._changed:
            return self._opened

    @property
    def acks(self) -> list[Ack]:
        """Envelopes that were acked, in the order the acks came (late ones included)."""
        with self._changed:
            return copy.deepcopy(self._acks)
