"""The production HTTP server: waitress, a pure-Python multi-threaded WSGI server (see README)."""

from __future__ import annotations

import threading
import time

from waitress import wasyncore
from waitress.server import create_server

from bot.web import WSGIApp

HTTP_THREADS = 16
LOOP_TIMEOUT = 0.2
DRAIN_SECONDS = 10.0


class HttpServer:
    """waitress's server with a stop that finishes the requests in flight.

    The socket loop runs in one thread (the caller's for `serve_forever`, a background one for `start`);
    `stop()` only asks it to stop, and the loop itself closes the listening socket, keeps serving open
    requests until their responses are written (at most DRAIN_SECONDS), then closes everything.
    """

    def __init__(self, wsgi: WSGIApp, host: str, port: int, *, threads: int = HTTP_THREADS) -> None:
        self._server = create_server(wsgi, host=host, port=port, threads=threads, ident="firebell",
                                     asyncore_loop_timeout=LOOP_TIMEOUT)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self.port}"

    def serve_forever(self) -> None:
        socket_map = self._server._map
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=LOOP_TIMEOUT, map=socket_map, count=1)
            self._server.close()  # no new connections
            deadline = time.monotonic() + DRAIN_SECONDS
            while _busy(socket_map) and time.monotonic() < deadline:
                wasyncore.loop(timeout=0.05, map=socket_map, count=1)
        finally:
            self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=DRAIN_SECONDS)
            wasyncore.close_all(socket_map)
            self._stopped.set()

    def start(self) -> HttpServer:
        """Serve on a background thread (tests, the demo)."""
        self._thread = threading.Thread(target=self.serve_forever, name="firebell-http", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Safe from a signal handler: the loop notices within LOOP_TIMEOUT."""
        self._stopping.set()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=DRAIN_SECONDS + 5)


def _busy(socket_map: dict) -> bool:
    """Any connection with a request being handled or a response not yet written."""
    return any(getattr(ch, "requests", None) or getattr(ch, "total_outbufs_len", 0) for ch in socket_map.values())
