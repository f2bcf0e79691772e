"""Serve a WSGI app (such as `slack_bolt.adapter.wsgi.SlackRequestHandler(app)`) on loopback in a
background thread, so `SlackDriver` can reach it over real HTTP in tests and demos."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


class WsgiServer:
    def __init__(self, wsgi_app: Any, *, host: str = "127.0.0.1", port: int = 0, path: str = "/slack/events") -> None:
        self._app = wsgi_app
        self._address = (host, port)
        self.path = path
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WsgiServer:
        self._server = make_server(
            *self._address, self._app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="wsgi-app", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Where Slack would send requests: base_url + path (e.g. .../slack/events)."""
        return self.base_url + self.path

    def __enter__(self) -> WsgiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
