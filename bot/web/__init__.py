"""The WSGI application: a table of routes, one per door (Slack's events, the health check, and the doors other
modules add), assembled at the composition root. Unknown paths get a JSON 404; a known path asked with another
method gets a 405."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.web.responses import json_response

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Route:
    """``app`` answers ``methods`` on ``path`` (every path under it, when ``prefix``)."""

    methods: frozenset[str]
    path: str
    app: WSGIApp
    prefix: bool = False

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.prefix else path == self.path


def route(methods: Iterable[str], path: str, app: WSGIApp, *, prefix: bool = False) -> Route:
    return Route(frozenset(m.upper() for m in methods), path, app, prefix)


def build_wsgi(routes: Sequence[Route]) -> WSGIApp:
    table = tuple(routes)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET").upper()
        known = [r for r in table if r.matches(path)]
        for candidate in known:
            if method in candidate.methods:
                return candidate.app(environ, start_response)
        if known:
            return json_response(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        return json_response(start_response, "404 Not Found", {"error": "not found"})

    return application
