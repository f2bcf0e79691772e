"""The one background-server helper: serves over a real socket while started, and lets the port go when stopped."""

from __future__ import annotations

import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from bot.sandbox.loopback import BackgroundServer, LoopbackHTTPServer

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = f"hello from {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


def test_serves_while_started_and_refuses_once_stopped():
    served = BackgroundServer(lambda: LoopbackHTTPServer(("127.0.0.1", 0), _Hello), name="hello")
    with pytest.raises(RuntimeError, match="hello is not started"):
        _ = served.url
    with served:
        assert served.running and served.url.startswith("http://127.0.0.1:")
        url = served.url
        with _opener.open(url + "/x", timeout=5) as answer:
            assert answer.read() == b"hello from /x"
    assert not served.running
    with pytest.raises(urllib.error.URLError):
        _opener.open(url + "/x", timeout=5)
    served.stop()  # stopping twice is harmless


def test_restarting_opens_a_fresh_server():
    served = BackgroundServer(lambda: LoopbackHTTPServer(("127.0.0.1", 0), _Hello), name="hello")
    with served:
        first = served.server
    with served:
        assert served.server is not first
        with _opener.open(served.url + "/again", timeout=5) as answer:
            assert answer.read() == b"hello from /again"
