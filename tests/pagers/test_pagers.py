"""The PagerDuty and Opsgenie clients over real HTTP, against the strict stand-ins."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from bot.pagers import ExternalPager, PageEvent, PagerConfig, PagerError, build_pager
from bot.pagers import http as pager_http
from tests.pagers.support import OG_ENV, OG_KEY, PD_ENV, PD_KEY, event
from tests.pagers.vendor_standins import OpsgenieStandIn, PagerDutyStandIn

# -- the lifecycle -------------------------------------------------------------------------------------------


def test_pagerduty_trigger_acknowledge_resolve(pagerduty: PagerDutyStandIn, pd_pager: ExternalPager) -> None:
    key = "firebell-T0123-INC-7-L1"
    pd_pager.trigger(event(key))
    assert pagerduty.alerts() == {key: "triggered"}
    pd_pager.acknowledge(key)
    assert pagerduty.alerts() == {key: "acknowledged"}
    pd_pager.resolve(key)
    assert pagerduty.alerts() == {key: "resolved"}

    assert pagerduty.rejected == []
    trigger, ack, resolve = pagerduty.events
    assert trigger["routing_key"] == PD_KEY and trigger["event_action"] == "trigger" and trigger["dedup_key"] == key
    assert trigger["payload"]["summary"] == "INC-7 (SEV1): Checkout returns 500s"
    assert trigger["payload"]["source"] == "firebell"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["custom_details"] == {"incident": "INC-7", "tier": "L1", "status": "open"}
    assert trigger["links"] == [{"href": "https://firebell-test.slack.com/archives/C0INC7", "text": "INC-7 in Slack"}]
    assert ack == {"routing_key": PD_KEY, "event_action": "acknowledge", "dedup_key": key}
    assert resolve == {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": key}


def test_opsgenie_create_acknowledge_close(opsgenie: OpsgenieStandIn, og_pager: ExternalPager) -> None:
    key = "firebell-T0123-INC-7-L1"
    og_pager.trigger(event(key))
    assert opsgenie.alerts() == {key: "open"}
    og_pager.acknowledge(key)
    assert opsgenie.alerts() == {key: "acked"}
    og_pager.resolve(key)
    assert opsgenie.alerts() == {key: "closed"}

    assert opsgenie.rejected == []
    create, ack, close = opsgenie.requests
    assert (create["method"], create["path"], create["query"]) == ("POST", "/v2/alerts", {})
    body = create["body"]
    assert body["message"] == "INC-7 (SEV1): Checkout returns 500s"
    assert body["alias"] == key
    assert body["priority"] == "P1"
    assert body["source"] == "firebell" and body["entity"] == "INC-7"
    assert body["details"] == {"incident": "INC-7", "tier": "L1", "status": "open",
                               "link": "https://firebell-test.slack.com/archives/C0INC7"}
    assert "https://firebell-test.slack.com/archives/C0INC7" in body["description"]
    assert (ack["path"], ack["query"]) == (f"/v2/alerts/{key}/acknowledge", {"identifierType": "alias"})
    assert (close["path"], close["query"]) == (f"/v2/alerts/{key}/close", {"identifierType": "alias"})
    assert close["body"]["source"] == "firebell"


def test_opsgenie_alias_is_url_encoded_in_the_path(opsgenie: OpsgenieStandIn, og_pager: ExternalPager) -> None:
    key = "firebell T0123/INC-7?L1#x"
    og_pager.trigger(event(key))
    og_pager.acknowledge(key)
    og_pager.resolve(key)
    assert opsgenie.alerts() == {key: "closed"}
    assert opsgenie.requests[1]["path"] == "/v2/alerts/firebell%20T0123%2FINC-7%3FL1%23x/acknowledge"


@pytest.mark.parametrize(("severity", "pd_severity", "og_priority"),
                         [("sev1", "critical", "P1"), ("sev2", "error", "P2"), ("sev3", "warning", "P3"),
                          ("sev4", "info", "P4")])
def test_severity_maps_to_vendor_levels(pagerduty: PagerDutyStandIn, opsgenie: OpsgenieStandIn,
                                        pd_pager: ExternalPager, og_pager: ExternalPager,
                                        severity: str, pd_severity: str, og_priority: str) -> None:
    pd_pager.trigger(event(severity=severity))
    og_pager.trigger(event(severity=severity))
    assert pagerduty.events[0]["payload"]["severity"] == pd_severity
    assert opsgenie.requests[0]["body"]["priority"] == og_priority


def test_long_summaries_are_cut_to_the_vendor_limits(pagerduty: PagerDutyStandIn, opsgenie: OpsgenieStandIn,
                                                     pd_pager: ExternalPager, og_pager: ExternalPager) -> None:
    summary = "INC-7 (SEV1): " + "checkout is slow " * 200
    pd_pager.trigger(event(summary=summary))
    og_pager.trigger(event(summary=summary))
    pd_summary = pagerduty.events[0]["payload"]["summary"]
    og_message = opsgenie.requests[0]["body"]["message"]
    assert len(pd_summary) == 1024 and pd_summary.endswith("…") and summary.startswith(pd_summary[:-1])
    assert len(og_message) == 130 and og_message.endswith("…") and summary.startswith(og_message[:-1])
    assert opsgenie.requests[0]["body"]["description"].startswith(summary)  # the full text is kept there
    assert pagerduty.rejected == [] and opsgenie.rejected == []


def test_a_reused_dedup_key_addresses_the_same_alert(pagerduty: PagerDutyStandIn, opsgenie: OpsgenieStandIn,
                                                     pd_pager: ExternalPager, og_pager: ExternalPager) -> None:
    key = "firebell-T0123-INC-7-L1"
    for pager in (pd_pager, og_pager):
        pager.trigger(event(key))
        pager.trigger(event(key))  # a second page of the same tier: the same alert
    assert pagerduty.alerts() == {key: "triggered"} and opsgenie.alerts() == {key: "open"}
    assert [e["dedup_key"] for e in pagerduty.events] == [key, key]
    assert [r["body"]["alias"] for r in opsgenie.requests] == [key, key]

    for pager in (pd_pager, og_pager):
        pager.acknowledge(key)
        pager.trigger(event(key))  # a trigger does not un-acknowledge
    assert pagerduty.alerts() == {key: "acknowledged"} and opsgenie.alerts() == {key: "acked"}

    other = "firebell-T0123-INC-7-L2"
    for pager in (pd_pager, og_pager):
        pager.trigger(event(other))
        pager.resolve(key)
    assert pagerduty.alerts() == {key: "resolved", other: "triggered"}
    assert opsgenie.alerts() == {key: "closed", other: "open"}


def test_acknowledging_an_unknown_alert_is_taken_and_changes_nothing(
        pagerduty: PagerDutyStandIn, opsgenie: OpsgenieStandIn, pd_pager: ExternalPager,
        og_pager: ExternalPager) -> None:
    for pager in (pd_pager, og_pager):
        pager.acknowledge("firebell-T0123-INC-99-L1")
        pager.resolve("firebell-T0123-INC-99-L1")
    assert pagerduty.alerts() == {} and opsgenie.alerts() == {}
    assert len(pagerduty.events) == 2 and len(opsgenie.requests) == 2


# -- retries ---------------------------------------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(pagerduty: PagerDutyStandIn, pd_pager: ExternalPager,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    pagerduty.fail(status=429, retry_after=1)
    started = time.monotonic()
    pd_pager.trigger(event())
    assert time.monotonic() - started >= 0.95
    assert pagerduty.received == 2 and pagerduty.alerts() == {"firebell-T0123-INC-7-L1": "triggered"}
    assert any("HTTP 429" in r.getMessage() and "retrying in 1.00 s" in r.getMessage() for r in caplog.records)


def test_429_without_retry_after_backs_off(opsgenie: OpsgenieStandIn, og_pager: ExternalPager) -> None:
    opsgenie.fail(status=429)
    og_pager.trigger(event())
    assert opsgenie.received == 2 and opsgenie.alerts() == {"firebell-T0123-INC-7-L1": "open"}


@pytest.mark.parametrize("vendor", ["pagerduty", "opsgenie"])
def test_a_500_is_retried(vendor: str, request: pytest.FixtureRequest) -> None:
    standin = request.getfixturevalue(vendor)
    pager = request.getfixturevalue("pd_pager" if vendor == "pagerduty" else "og_pager")
    standin.fail(status=500)
    standin.fail(status=503)
    pager.trigger(event())
    assert standin.received == 3 and len(standin.alerts()) == 1


@pytest.mark.parametrize("vendor", ["pagerduty", "opsgenie"])
def test_a_persistent_500_fails_after_three_attempts(vendor: str, request: pytest.FixtureRequest) -> None:
    standin = request.getfixturevalue(vendor)
    pager = request.getfixturevalue("pd_pager" if vendor == "pagerduty" else "og_pager")
    standin.fail(status=500, times=10, message="database unavailable")
    with pytest.raises(PagerError) as caught:
        pager.trigger(event())
    assert standin.received == 3
    assert str(caught.value).startswith(f"{vendor}: ")
    assert "after 3 attempts" in str(caught.value) and "HTTP 500: database unavailable" in str(caught.value)


def test_the_real_backoff_schedule_is_short_and_bounded(pagerduty: PagerDutyStandIn,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pager_http, "BACKOFF", 0.25)
    slept: list[float] = []
    pagerduty.fail(status=502, times=5)
    with pytest.raises(PagerError):
        pager_http.post_json("pagerduty", pagerduty.url + "/v2/enqueue", {}, sleep=slept.append)
    assert slept == [0.25, 0.5]


def test_retry_after_is_read_and_capped() -> None:
    assert pager_http._retry_after("1") == 1.0
    assert pager_http._retry_after("120") == pager_http.RETRY_AFTER_CAP == 5.0
    assert pager_http._retry_after("-3") == 0.0
    assert 1.0 < pager_http._retry_after(format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)) <= 3
    assert pager_http._retry_after("soon") is None and pager_http._retry_after(None) is None


def test_a_400_fails_at_once_with_the_vendors_message(pagerduty: PagerDutyStandIn) -> None:
    config = PagerConfig(type="pagerduty", key_env=PD_ENV, url=pagerduty.url)
    pager = build_pager(config, {PD_ENV: "0" * 32})  # well formed, but not an integration PagerDuty knows
    with pytest.raises(PagerError) as caught:
        pager.trigger(event())
    assert pagerduty.received == 1
    assert str(caught.value) == ("pagerduty: POST /v2/enqueue refused, HTTP 400: Event object is invalid "
                                 "(Invalid routing key)")


def test_a_wrong_opsgenie_key_fails_at_once(opsgenie: OpsgenieStandIn) -> None:
    config = PagerConfig(type="opsgenie", key_env=OG_ENV, url=opsgenie.url)
    pager = build_pager(config, {OG_ENV: "not-the-key"})
    with pytest.raises(PagerError, match=r"^opsgenie: POST /v2/alerts refused, HTTP 401: Could not authenticate$"):
        pager.trigger(event())
    assert opsgenie.received == 1 and opsgenie.alerts() == {}


def test_an_opsgenie_422_names_the_fields(opsgenie: OpsgenieStandIn, og_pager: ExternalPager) -> None:
    opsgenie.fail(status=422, message="Request body is not processable. Please check the errors.")
    with pytest.raises(PagerError, match=r"HTTP 422: Request body is not processable"):
        og_pager.acknowledge("firebell-T0123-INC-7-L1")
    assert opsgenie.received == 1


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_vendor_fails_after_three_attempts(closed_port: int) -> None:
    config = PagerConfig(type="opsgenie", key_env=OG_ENV, url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(PagerError, match=rf"^opsgenie: POST /v2/alerts failed after 3 attempts, could not reach "
                                         rf"127\.0\.0\.1:{closed_port}: "):
        build_pager(config, {OG_ENV: OG_KEY}).trigger(event())


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_timeout_is_retried_then_reported(silent_server: str) -> None:
    config = PagerConfig(type="pagerduty", key_env=PD_ENV, url=silent_server)
    started = time.monotonic()
    with pytest.raises(PagerError, match=r"^pagerduty: POST /v2/enqueue failed after 3 attempts, could not reach"):
        build_pager(config, {PD_ENV: PD_KEY}, timeout=0.2).acknowledge("firebell-T0123-INC-7-L1")
    assert time.monotonic() - started < 2


# -- keys and configuration ------------------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {PD_ENV: ""}, {PD_ENV: "  "}])
def test_a_missing_key_variable_is_a_pager_error(environ: dict[str, str]) -> None:
    config = PagerConfig(type="pagerduty", key_env=PD_ENV)
    with pytest.raises(PagerError, match=rf"^pagerduty: environment variable {PD_ENV} is not set$"):
        build_pager(config, environ)


def test_the_key_never_shows_in_errors_or_logs(pagerduty: PagerDutyStandIn, opsgenie: OpsgenieStandIn,
                                               closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    OTHER_PD_KEY = "c6a8b42f1d7e0c59a6b48e2d70c1a9f3"  # noqa: N806 - a second secret, unknown to the stand-in
    pd_config = PagerConfig(type="pagerduty", key_env=PD_ENV, url=pagerduty.url)
    og_config = PagerConfig(type="opsgenie", key_env=OG_ENV, url=opsgenie.url)
    pd, og = build_pager(pd_config, {PD_ENV: PD_KEY}), build_pager(og_config, {OG_ENV: OG_KEY})
    pagerduty.fail(status=400, message=f"routing key {PD_KEY} is disabled")  # a vendor echoing the key
    opsgenie.fail(status=500, times=3, message=f"GenieKey {OG_KEY} hit an error")
    errors: list[PagerError] = []
    for call in (lambda: pd.trigger(event()), lambda: og.trigger(event()),
                 lambda: build_pager(og_config.model_copy(update={"url": f"http://127.0.0.1:{closed_port}"}),
                                     {OG_ENV: OG_KEY}).resolve("k"),
                 lambda: build_pager(pd_config, {PD_ENV: OTHER_PD_KEY}).trigger(event())):
        with pytest.raises(PagerError) as caught:
            call()
        errors.append(caught.value)
    assert "routing key [redacted] is disabled" in str(errors[0])
    assert caplog.records, "the retries are logged"
    one_liners = [str(e) for e in errors] + [r.getMessage() for r in caplog.records]
    assert all("\n" not in text for text in one_liners)
    for text in [*one_liners, *map(repr, errors), repr(pd), repr(og), caplog.text]:
        assert PD_KEY not in text and OG_KEY not in text and OTHER_PD_KEY not in text


def test_pager_config_reads_like_firebell_yml() -> None:
    pd = PagerConfig.model_validate({"type": "pagerduty", "key_env": "FIREBELL_PD_L1_KEY"})
    og = PagerConfig.model_validate({"type": "opsgenie", "key_env": "FIREBELL_OPSGENIE_KEY",
                                     "url": "https://api.eu.opsgenie.com/"})
    assert pd.base_url() == "https://events.pagerduty.com"
    assert og.base_url() == "https://api.eu.opsgenie.com"
    assert PagerConfig(type="opsgenie", key_env="K").base_url() == "https://api.opsgenie.com"
    with pytest.raises(ValidationError):
        pd.key_env = "OTHER"  # frozen


@pytest.mark.parametrize("data", [
    {"type": "victorops", "key_env": "FIREBELL_KEY"},
    {"type": "pagerduty", "key_env": "firebell_pd_key"},
    {"type": "pagerduty", "key_env": "1FIREBELL"},
    {"type": "pagerduty", "key_env": "FIREBELL-PD"},
    {"type": "pagerduty", "key_env": ""},
    {"type": "pagerduty"},
    {"type": "pagerduty", "key_env": "FIREBELL_PD", "routing_key": "inline-secret"},
    {"type": "opsgenie", "key_env": "FIREBELL_OG", "url": "api.eu.opsgenie.com"},
    {"type": "opsgenie", "key_env": "FIREBELL_OG", "url": "https://api.eu.opsgenie.com/?x=1"},
])
def test_bad_pager_config_is_rejected(data: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        PagerConfig.model_validate(data)


def test_a_page_event_checks_its_key_and_severity() -> None:
    with pytest.raises(ValueError, match="severity"):
        event(severity="SEV1")
    with pytest.raises(ValueError, match="dedup_key"):
        event("k" * 256)
    with pytest.raises(ValueError, match="dedup_key"):
        PageEvent(dedup_key="", summary="s", severity="sev2", source="firebell", incident_ref="INC-1", tier="L1")
    assert event("k" * 255).dedup_key == "k" * 255
