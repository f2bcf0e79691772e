"""The Slack stand-in in a process of its own, so the benchmark's load generator does not share its interpreter.

`python bench/standin_process.py` starts `SlackStandIn` (with the users and channels the benchmarks expect), prints
one JSON line (`api_url`, `token`, `team_id`, `control_url`) and serves until it is terminated or its stdin closes.

The control port is the benchmark's, not Slack's: it only calls the stand-in's public Python API, so that the
benchmark can ask what arrived without copying the whole call log into its own process:
- `GET /response_url`: a new response_url;
- `GET /replies?url=U&wait=S`: the posts to that response_url, waiting up to S seconds for the first one;
- `GET /pinned`: how many channels have a pinned message (the incident cards);
- `GET /declared?title=T&wait=S`: the channel of the incident titled T once its card is pinned and it is announced in
  the broadcast channel (null if that has not happened within S seconds).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox import SlackStandIn  # noqa: E402

BROADCAST = "C0INCIDENTS"


def setup() -> SlackStandIn:
    slack = SlackStandIn().start()
    slack.add_user("U0BENCH", "bench")
    slack.add_channel("general", channel_id="C0GENERAL", members=["U0BENCH"])
    slack.add_channel("incidents", channel_id=BROADCAST, members=["U0BENCH"])
    return slack


def waiting(wait: float, poll: float, probe: Any) -> Any:
    deadline = time.monotonic() + wait
    while True:
        found = probe()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(poll)


def declared(slack: SlackStandIn, title: str) -> str | None:
    """The same test the in-process benchmark made: the channel exists, its card is pinned, it is announced."""
    suffix = title.replace(" ", "-").lower()
    channel = next((c for c in slack.channels if c.name.endswith(suffix)), None)
    if channel and channel.pins and any(f"<#{channel.id}>" in str(m.blocks) for m in slack.messages(BROADCAST)[-20:]):
        return channel.name
    return None


def control(slack: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            wait = float(query.get("wait", 0))
            if parsed.path == "/response_url":
                answer: Any = {"url": slack.new_response_url()}
            elif parsed.path == "/replies":
                answer = {"posts": waiting(wait, 0.005, lambda: slack.response_posts(query["url"]))}
            elif parsed.path == "/pinned":
                answer = {"pinned": sum(1 for c in slack.channels if c.pins)}
            elif parsed.path == "/declared":
                answer = {"channel": waiting(wait, 0.002, lambda: declared(slack, query["title"]))}
            else:
                self.send_error(404)
                return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Control


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the benchmark's ten clients ask at once


def main() -> None:
    slack = setup()
    server = ControlServer(("127.0.0.1", 0), control(slack))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(json.dumps({"api_url": slack.api_url, "token": slack.token, "team_id": slack.team_id,
                      "control_url": f"http://{host}:{port}"}), flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin (or terminates us)
    finally:
        server.shutdown()
        slack.stop()


if __name__ == "__main__":
    main()
