"""A WSGI app (such as `slack_bolt.adapter.wsgi.SlackRequestHandler(app)`) served on loopback for the driver's tests."""

from __future__ import annotations

from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.sandbox.loopback import BackgroundServer


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def serve_wsgi(wsgi_app: Any) -> BackgroundServer[WSGIServer]:
    """Not started; use it as a context manager. Every path reaches the app."""
    return BackgroundServer(
        lambda: make_server("127.0.0.1", 0, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler),
        name="wsgi-app",
    )
