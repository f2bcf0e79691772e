"""One server per vendor for the session, reset for every test, and pagers built the way Firebell builds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.pagers import ExternalPager, PagerConfig, build_pager
from bot.pagers import http as pager_http
from tests.pagers.support import OG_ENV, OG_KEY, PD_ENV, PD_KEY
from tests.pagers.vendor_standins import OpsgenieStandIn, PagerDutyStandIn


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 10 ms instead of 250 ms; the real schedule is checked on its own."""
    monkeypatch.setattr(pager_http, "BACKOFF", 0.01)


@pytest.fixture(scope="session")
def pagerduty_server() -> Iterator[PagerDutyStandIn]:
    with PagerDutyStandIn(routing_keys=[PD_KEY]) as standin:
        yield standin


@pytest.fixture(scope="session")
def opsgenie_server() -> Iterator[OpsgenieStandIn]:
    with OpsgenieStandIn(api_keys=[OG_KEY]) as standin:
        yield standin


@pytest.fixture
def pagerduty(pagerduty_server: PagerDutyStandIn) -> PagerDutyStandIn:
    pagerduty_server.reset()
    return pagerduty_server


@pytest.fixture
def opsgenie(opsgenie_server: OpsgenieStandIn) -> OpsgenieStandIn:
    opsgenie_server.reset()
    return opsgenie_server


@pytest.fixture
def pd_pager(pagerduty: PagerDutyStandIn) -> ExternalPager:
    config = PagerConfig(type="pagerduty", key_env=PD_ENV, url=pagerduty.url)
    return build_pager(config, {PD_ENV: PD_KEY}, timeout=5)


@pytest.fixture
def og_pager(opsgenie: OpsgenieStandIn) -> ExternalPager:
    config = PagerConfig(type="opsgenie", key_env=OG_ENV, url=opsgenie.url)
    return build_pager(config, {OG_ENV: OG_KEY}, timeout=5)
