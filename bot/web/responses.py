"""Answers every door gives the same way."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def json_response(start_response: Callable[..., Any], status: str, payload: dict[str, Any],
                  headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            *(headers or [])])
    return [body]
