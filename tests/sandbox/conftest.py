"""Fixtures for the stand-in's own tests: one server per module, reset for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox import SlackStandIn

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk honours HTTP(S)_PROXY and ignores NO_PROXY: keep loopback traffic direct."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def slack(server: SlackStandIn) -> SlackStandIn:
    server.reset()
    server.add_user(ALICE, "alice", real_name="Alice A", tz="Europe/Paris")
    server.add_user(BOB, "bob")
    server.add_user(CAROL, "carol")
    return server


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.token, base_url=slack.api_url)
