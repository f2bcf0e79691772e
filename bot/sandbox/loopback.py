"""Serve on loopback in a background thread: the one way Firebell's stand-ins (Slack's Web API and Socket Mode
here, the pager vendors' in the tests) and test apps are served over real sockets.

    with BackgroundServer(lambda: LoopbackHTTPServer(("127.0.0.1", 0), Handler), name="pagerduty") as served:
        urlopen(served.url + "/v2/enqueue", ...)
"""

from __future__ import annotations

import socketserver
import sys
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any, Generic, Protocol, TypeVar

STOP_WAIT = 5.0  # seconds stop() waits for the serving thread
POLL = 0.05  # socketserver's shutdown poll; its default (0.5 s) makes every stop() half a second long


class Servable(Protocol):
    """What both socketserver's servers and websockets' sync server offer."""

    def serve_forever(self) -> None: ...

    def shutdown(self) -> None: ...


S = TypeVar("S", bound=Servable)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """http.server for stand-ins: a thread per request, a deep accept queue, and callers that hang up are quiet.

    socketserver's default backlog of 5 drops connections when many callers connect at once (each dropped one
    waits a second for the kernel's retry): that would measure the stand-in, not the caller. Real services accept
    them. A caller that stopped waiting (a late answer, a timeout) is part of the game, not an error to print."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class BackgroundServer(Generic[S]):
    """Opens a server when started, runs its ``serve_forever`` on a daemon thread, and shuts it down on stop."""

    def __init__(self, open_server: Callable[[], S], *, name: str) -> None:
        self._open = open_server
        self.name = name
        self._server: S | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundServer[S]:
        if self._server is not None:
            return self
        server = self._open()
        if isinstance(server, socketserver.BaseServer):
            target: Callable[[], None] = lambda: server.serve_forever(poll_interval=POLL)  # noqa: E731
        else:
            target = server.serve_forever
        self._server = server
        self._thread = threading.Thread(target=target, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        if isinstance(server, socketserver.BaseServer):
            server.server_close()
        if thread is not None:
            thread.join(timeout=STOP_WAIT)
        self._server = self._thread = None

    def __enter__(self) -> BackgroundServer[S]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def server(self) -> S:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._server

    @property
    def address(self) -> tuple[str, int]:
        server: Any = self.server
        # socketserver's servers, or websockets' sync server
        address = server.server_address if isinstance(server, socketserver.BaseServer) else server.socket.getsockname()
        assert isinstance(address, tuple), "loopback servers listen on TCP"
        return str(address[0]), int(address[1])

    @property
    def url(self) -> str:
        """http://host:port (no trailing slash)."""
        host, port = self.address
        return f"http://{host}:{port}"
