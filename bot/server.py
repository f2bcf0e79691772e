"""The production HTTP server: waitress, a pure-Python multi-threaded WSGI server (see README)."""

from __future__ import annotations

import threading

from waitress import wasyncore
from waitress.server import create_server

from bot.app import WSGIApp

HTTP_THREADS = 16


class HttpServer:
    def __init__(self, wsgi: WSGIApp, host: str, port: int, *, threads: int = HTTP_THREADS) -> None:
        self._server = create_server(wsgi, host=host, port=port, threads=threads, ident="firebell",
                                     asyncore_loop_timeout=0.2)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self.port}"  # type: ignore[union-attr]

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> HttpServer:
        """Serve on a background thread (tests, the demo)."""
        self._thread = threading.Thread(target=self._server.run, name="firebell-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish, close."""
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
        wasyncore.close_all(self._server.map if hasattr(self._server, "map") else self._server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
