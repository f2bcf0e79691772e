"""The Slack stand-in in a process of its own, so the benchmark's load generator does not share its interpreter.

`python bench/standin_process.py` starts `SlackStandIn` (with the users and channels the benchmarks expect), prints
one JSON line (`api_url`, `token`, `team_id`, `control_url`) and serves until it is terminated or its stdin closes.

The control port is the benchmark's, not Slack's: it only calls the stand-in's public Python API, so that the
benchmark can ask what arrived without copying the whole call log into its own process:
- `GET /response_url?channel=C&user=U`: a new response_url (of a command that user gave in that channel, if given);
- `GET /replies?url=U&wait=S`: the posts to that response_url, waiting up to S seconds for the first one;
- `GET /pinned`: how many channels have a pinned message (the incident cards);
- `GET /declared?title=T&wait=S`: the channel of the incident titled T once its card is pinned and it is announced in
  the broadcast channel (null if that has not happened within S seconds);
- `GET /channels?prefix=P&count=N`: adds N channels named P-0, P-1…; their ids, in order;
- `GET /arrivals?prefix=P`: for each channel /channels made with prefix P, when (wall-clock seconds) its first message
  posted by chat.postMessage arrived;
- `GET /limited?since=N`: in limits mode (`--limits-scale S`: Slack's tiers on a clock S times faster), the calls
  answered 429 by method, and for each bucket the calls it let through after the first N calls, with the bucket's
  burst and refill rate (per real second); `GET /calls` says N (how many calls so far).

`StandIn` is the benchmark's side: it starts this process and asks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox import RateLimits, SlackStandIn  # noqa: E402
from bot.sandbox.limits import POST_MESSAGE  # noqa: E402

BROADCAST = "C0INCIDENTS"


def setup(limits: RateLimits | None = None) -> SlackStandIn:
    slack = SlackStandIn(limits=limits).start()
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


MADE: dict[str, set[str]] = {}  # the channels /channels made, by prefix: `slack.channels` copies every channel under
# the stand-in's lock, which with 10,000 of them held up its answers to Firebell every time the benchmark asked


def arrivals(slack: SlackStandIn, prefix: str) -> dict[str, float]:
    wanted = MADE.get(prefix, set())
    shift = time.time() - time.monotonic()  # the calls are stamped with the monotonic clock
    first: dict[str, float] = {}
    for call in slack.calls_to("chat.postMessage"):
        channel = call.args.get("channel")
        if call.ok and channel in wanted and channel not in first:
            first[channel] = call.at + shift
    return first


def limited(slack: SlackStandIn, limits: RateLimits | None, since: int) -> dict[str, Any]:
    """What the limits mode refused, and per bucket the calls it let through (after the first ``since``)."""
    buckets: dict[tuple[str, str], int] = {}
    times: dict[tuple[str, str], list[float]] = {}
    for call in slack.calls[since:]:
        if call.ok and limits is not None and limits.bucket(call.method) is not None:
            key = (call.method, str(call.args.get("channel") or "") if call.method == POST_MESSAGE else "")
            buckets[key] = buckets.get(key, 0) + 1
            times.setdefault(key, []).append(call.at)
    shapes = {method: limits.bucket(method) for method, _ in buckets} if limits is not None else {}
    return {"ratelimited": slack.ratelimited(),
            "buckets": [{"method": method, "channel": channel, "calls": calls, "burst": shapes[method][0],
                         "rate": shapes[method][1], "at": times[(method, channel)]}
                        for (method, channel), calls in sorted(buckets.items()) if shapes.get(method) is not None]}


def control(slack: SlackStandIn, limits: RateLimits | None = None) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            wait = float(query.get("wait", 0))
            if parsed.path == "/response_url":
                answer: Any = {"url": slack.new_response_url(channel_id=query.get("channel"),
                                                             user_id=query.get("user"))}
            elif parsed.path == "/replies":
                answer = {"posts": waiting(wait, 0.005, lambda: slack.response_posts(query["url"]))}
            elif parsed.path == "/pinned":
                answer = {"pinned": sum(1 for c in slack.channels if c.pins)}
            elif parsed.path == "/channels":
                ids = [slack.add_channel(f"{query['prefix']}-{i}") for i in range(int(query["count"]))]
                MADE.setdefault(query["prefix"], set()).update(ids)
                answer = {"ids": ids}
            elif parsed.path == "/arrivals":
                answer = {"at": arrivals(slack, query["prefix"])}
            elif parsed.path == "/calls":
                answer = {"calls": len(slack.calls)}
            elif parsed.path == "/limited":
                answer = limited(slack, limits, int(query.get("since", 0)))
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
    scale = float(sys.argv[sys.argv.index("--limits-scale") + 1]) if "--limits-scale" in sys.argv else None
    limits = RateLimits(scale=scale) if scale is not None else None
    slack = setup(limits)
    server = ControlServer(("127.0.0.1", 0), control(slack, limits))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(json.dumps({"api_url": slack.api_url, "token": slack.token, "team_id": slack.team_id,
                      "control_url": f"http://{host}:{port}"}), flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin (or terminates us)
    finally:
        server.shutdown()
        slack.stop()


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StandIn:
    """The Slack stand-in, run in a process of its own (this file) so that it does not share the benchmark's
    interpreter with the load generator (or with the Firebell it measures); asked over its control port."""

    def __init__(self, limits_scale: float | None = None) -> None:
        """``limits_scale``: the stand-in in its limits mode, Slack's tiers on a clock that many times faster."""
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        extra = ["--limits-scale", str(limits_scale)] if limits_scale is not None else []
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *extra], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        started = json.loads(self.process.stdout.readline())
        self.api_url, self.token, self.team_id = started["api_url"], started["token"], started["team_id"]
        self.control_url = started["control_url"]

    def _ask(self, path: str, timeout: float = 10, **query: object) -> Any:
        with OPENER.open(f"{self.control_url}{path}?{urlencode(query)}", timeout=timeout + 30) as answer:
            return json.loads(answer.read())

    def new_response_url(self, channel: str | None = None, user: str | None = None) -> str:
        """A command's response_url; given its channel and user, the stand-in shows them what is posted to it."""
        where = {k: v for k, v in (("channel", channel), ("user", user)) if v}
        return self._ask("/response_url", **where)["url"]

    def replies(self, url: str, wait: float = 0.0) -> list[dict]:
        """The posts to a response_url, waiting up to ``wait`` seconds for the first."""
        return self._ask("/replies", timeout=wait, url=url, wait=wait)["posts"]

    def pinned(self) -> int:
        """Channels with a pinned message: incidents whose card was delivered."""
        return self._ask("/pinned")["pinned"]

    def declared(self, title: str, wait: float) -> str | None:
        """The incident's channel once its card is pinned and it is announced (None if not within ``wait`` s)."""
        return self._ask("/declared", timeout=wait, title=title, wait=wait)["channel"]

    def add_channels(self, prefix: str, count: int) -> list[str]:
        return self._ask("/channels", timeout=120, prefix=prefix, count=count)["ids"]

    def arrivals(self, prefix: str) -> dict[str, float]:
        return self._ask("/arrivals", timeout=30, prefix=prefix)["at"]

    def calls(self) -> int:
        return self._ask("/calls")["calls"]

    def limited(self, since: int) -> dict[str, Any]:
        return self._ask("/limited", timeout=30, since=since)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    main()
