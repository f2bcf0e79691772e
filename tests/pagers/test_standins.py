"""The stand-ins refuse what the vendors document as invalid, with the vendors' statuses and body shapes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pagers.support import OG_KEY, PD_KEY, post
from tests.pagers.vendor_standins import OpsgenieStandIn, PagerDutyStandIn

TRIGGER: dict[str, Any] = {
    "routing_key": PD_KEY,
    "event_action": "trigger",
    "dedup_key": "firebell-T0123-INC-7-L1",
    "payload": {"summary": "INC-7 (SEV1): Checkout returns 500s", "source": "firebell", "severity": "critical",
                "timestamp": "2015-07-17T08:42:58.315+0000", "component": "checkout", "group": "web",
                "class": "incident", "custom_details": {"ping time": "1500ms", "load avg": 0.75}},
    "client": "Firebell",
    "client_url": "https://firebell.example.com",
    "links": [{"href": "https://example.slack.com/archives/C1", "text": "Slack"}],
    "images": [{"src": "https://example.com/graph.png", "href": "https://example.com/", "alt": "graph"}],
}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not ...}


def _payload(**changes: Any) -> dict[str, Any]:
    return _with(TRIGGER, payload=_with(TRIGGER["payload"], **changes))


# -- PagerDuty -------------------------------------------------------------------------------------------------


def test_pagerduty_takes_the_documented_example(pagerduty: PagerDutyStandIn) -> None:
    status, body, _ = post(pagerduty.url + "/v2/enqueue", TRIGGER)
    assert (status, body) == (202, {"status": "success", "message": "Event processed",
                                    "dedup_key": "firebell-T0123-INC-7-L1"})
    assert pagerduty.events == [TRIGGER] and pagerduty.rejected == []


def test_pagerduty_makes_up_a_dedup_key_when_a_trigger_has_none(pagerduty: PagerDutyStandIn) -> None:
    status, body, _ = post(pagerduty.url + "/v2/enqueue", _with(TRIGGER, dedup_key=...))
    assert status == 202 and pagerduty.alerts() == {body["dedup_key"]: "triggered"}


@pytest.mark.parametrize(("event", "problem"), [
    (_with(TRIGGER, severity="critical"), "Unknown field 'severity'"),
    (_payload(priority="P1"), "Unknown field 'payload.priority'"),
    (_with(TRIGGER, event_action="escalate"), "'event_action' must be one of trigger, acknowledge, resolve"),
    (_with(TRIGGER, routing_key="short"), "Length of 'routing_key' is incorrect (should be 32 characters)"),
    (_with(TRIGGER, routing_key=...), "'routing_key' is missing"),
    (_with(TRIGGER, dedup_key="k" * 256), "'dedup_key' is longer than 255 characters"),
    (_with(TRIGGER, payload=...), "'payload' is missing or not an object"),
    (_payload(summary=...), "'payload.summary' is missing or empty"),
    (_payload(summary="s" * 1025), "'payload.summary' is longer than 1024 characters"),
    (_payload(source=""), "'payload.source' is missing or empty"),
    (_payload(severity="sev1"), "'payload.severity' must be one of critical, error, warning, info"),
    (_payload(timestamp="yesterday"), "'payload.timestamp' must be an ISO 8601 timestamp"),
    (_payload(custom_details="free text"), "'payload.custom_details' must be an object"),
    (_with(TRIGGER, links=[{"text": "no href"}]), "'links[0].href' must be an http(s) URL"),
    (_with(TRIGGER, images=[{"src": "http://example.com/a.png"}]), "'images[0].src' must be an https URL"),
    ({"routing_key": PD_KEY, "event_action": "resolve"}, "'dedup_key' is required for resolve events"),
    ({"routing_key": PD_KEY, "event_action": "acknowledge", "dedup_key": "k", "payload": TRIGGER["payload"]},
     "'payload' is only used with trigger events"),
])
def test_pagerduty_refuses_invalid_events(pagerduty: PagerDutyStandIn, event: dict[str, Any], problem: str) -> None:
    status, body, _ = post(pagerduty.url + "/v2/enqueue", event)
    assert status == 400
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert problem in body["errors"]
    assert pagerduty.rejected == [(event, "; ".join(body["errors"]))]
    assert pagerduty.events == [] and pagerduty.alerts() == {}


def test_pagerduty_refuses_an_unknown_routing_key(pagerduty: PagerDutyStandIn) -> None:
    status, body, _ = post(pagerduty.url + "/v2/enqueue", _with(TRIGGER, routing_key="1" * 32))
    assert (status, body["errors"]) == (400, ["Invalid routing key"])


def test_any_well_formed_key_passes_when_no_keys_are_named() -> None:
    with PagerDutyStandIn() as standin:
        assert post(standin.url + "/v2/enqueue", _with(TRIGGER, routing_key="1" * 32))[0] == 202


@pytest.mark.parametrize(("data", "headers"), [
    (b"{not json", {}),
    (b"[1, 2]", {}),
    (b'{"routing_key": "x"}', {"Content-Type": "text/plain"}),
])
def test_pagerduty_refuses_what_is_not_a_json_object(pagerduty: PagerDutyStandIn, data: bytes,
                                                     headers: dict[str, str]) -> None:
    status, body, _ = post(pagerduty.url + "/v2/enqueue", data, headers)
    assert (status, body["message"]) == (400, "Event object format is unrecognized")
    assert len(pagerduty.rejected) == 1


def test_pagerduty_answers_only_enqueue(pagerduty: PagerDutyStandIn) -> None:
    assert post(pagerduty.url + "/v2/alerts", TRIGGER)[0] == 404
    assert post(pagerduty.url + "/v2/enqueue", b"", method="GET")[0] == 405


def test_faults_come_first_and_carry_retry_after(pagerduty: PagerDutyStandIn) -> None:
    pagerduty.fail(status=429, times=2, retry_after=7)
    for _ in range(2):
        status, body, headers = post(pagerduty.url + "/v2/enqueue", TRIGGER)
        assert (status, headers["Retry-After"], body["status"]) == (429, "7", "throttle event")
    assert post(pagerduty.url + "/v2/enqueue", TRIGGER)[0] == 202
    assert pagerduty.received == 3 and len(pagerduty.events) == 1


def test_pagerduty_drops_events_for_a_resolved_alert_and_retriggers_it(pagerduty: PagerDutyStandIn) -> None:
    key = TRIGGER["dedup_key"]
    for action in ("trigger", "resolve", "acknowledge"):
        event = TRIGGER if action == "trigger" else {"routing_key": PD_KEY, "event_action": action, "dedup_key": key}
        assert post(pagerduty.url + "/v2/enqueue", event)[0] == 202
    assert pagerduty.alerts() == {key: "resolved"}
    post(pagerduty.url + "/v2/enqueue", TRIGGER)
    assert pagerduty.alerts() == {key: "triggered"}


# -- Opsgenie --------------------------------------------------------------------------------------------------

AUTH = {"Authorization": f"GenieKey {OG_KEY}"}
CREATE: dict[str, Any] = {
    "message": "INC-7 (SEV1): Checkout returns 500s", "alias": "firebell-T0123-INC-7-L1",
    "description": "Checkout returns 500s", "responders": [{"type": "team", "name": "payments"}],
    "visibleTo": [{"type": "user", "username": "oncall@example.com"}], "actions": ["Restart"],
    "tags": ["firebell", "INC-7"], "details": {"tier": "L1"}, "entity": "INC-7", "source": "firebell",
    "priority": "P1", "user": "Firebell", "note": "paged from Slack",
}


def test_opsgenie_takes_a_full_create_and_answers_202(opsgenie: OpsgenieStandIn) -> None:
    status, body, headers = post(opsgenie.url + "/v2/alerts", CREATE, AUTH)
    assert status == 202 and body["result"] == "Request will be processed"
    assert isinstance(body["took"], float) and body["requestId"] == headers["X-Request-ID"]
    assert opsgenie.alerts() == {"firebell-T0123-INC-7-L1": "open"} and opsgenie.rejected == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": OG_KEY}, {"Authorization": f"Bearer {OG_KEY}"},
                                     {"Authorization": "GenieKey someone-else"}])
def test_opsgenie_wants_its_genie_key(opsgenie: OpsgenieStandIn, headers: dict[str, str]) -> None:
    status, body, _ = post(opsgenie.url + "/v2/alerts", CREATE, headers)
    assert (status, body["message"]) == (401, "Could not authenticate")
    assert opsgenie.requests == [] and opsgenie.rejected[0][1] == "Could not authenticate"


def test_opsgenie_forbids_a_key_without_rights() -> None:
    with OpsgenieStandIn([OG_KEY, "read-only"], restricted_keys=["read-only"]) as standin:
        status, _, _ = post(standin.url + "/v2/alerts", CREATE, {"Authorization": "GenieKey read-only"})
        assert status == 403 and standin.alerts() == {}


@pytest.mark.parametrize(("body", "field"), [
    (_with(CREATE, message=...), "message"),
    (_with(CREATE, message="   "), "message"),
    (_with(CREATE, message="m" * 131), "message"),
    (_with(CREATE, alias="a" * 513), "alias"),
    (_with(CREATE, description="d" * 15_001), "description"),
    (_with(CREATE, priority="P6"), "priority"),
    (_with(CREATE, priority="critical"), "priority"),
    (_with(CREATE, severity="P1"), "severity"),
    (_with(CREATE, tags=["t"] * 21), "tags"),
    (_with(CREATE, tags=["t" * 51]), "tags"),
    (_with(CREATE, details={"count": 3}), "details"),
    (_with(CREATE, details={"k": "v" * 8_000}), "details"),
    (_with(CREATE, source="s" * 101), "source"),
    (_with(CREATE, entity="e" * 513), "entity"),
    (_with(CREATE, responders=[{"type": "pager", "name": "x"}]), "responders"),
    (_with(CREATE, actions=["a"] * 11), "actions"),
])
def test_opsgenie_refuses_invalid_creates_with_422(opsgenie: OpsgenieStandIn, body: dict[str, Any],
                                                   field: str) -> None:
    status, answer, _ = post(opsgenie.url + "/v2/alerts", body, AUTH)
    assert status == 422 and field in answer["errors"]
    assert answer["message"] == "Request body is not processable. Please check the errors."
    assert opsgenie.rejected[0][0] == body and opsgenie.alerts() == {}


def test_opsgenie_actions_take_user_source_and_note_only(opsgenie: OpsgenieStandIn) -> None:
    post(opsgenie.url + "/v2/alerts", CREATE, AUTH)
    url = opsgenie.url + "/v2/alerts/firebell-T0123-INC-7-L1/acknowledge?identifierType=alias"
    assert post(url, {"source": "firebell", "message": "ack"}, AUTH)[1]["errors"] == {"message": "Unknown field"}
    assert post(url, {"note": "n" * 25_001}, AUTH)[0] == 422
    assert post(url, {"user": "Firebell", "source": "firebell", "note": "on it"}, AUTH)[0] == 202
    assert opsgenie.alerts() == {"firebell-T0123-INC-7-L1": "acked"}


@pytest.mark.parametrize(("path", "status"), [
    ("/v2/alerts/x/acknowledge?identifierType=name", 422),
    ("/v2/alerts/x/close?alias=x", 422),
    ("/v2/alerts?identifierType=alias", 422),
    ("/v2/alerts/x/snooze", 404),
    ("/v1/alerts", 404),
])
def test_opsgenie_checks_paths_and_query(opsgenie: OpsgenieStandIn, path: str, status: int) -> None:
    assert post(opsgenie.url + path, {}, AUTH)[0] == status
    assert opsgenie.requests == []


def test_opsgenie_checks_method_and_content_type(opsgenie: OpsgenieStandIn) -> None:
    assert post(opsgenie.url + "/v2/alerts", b"", AUTH, method="GET")[0] == 405
    assert post(opsgenie.url + "/v2/alerts", b"message=x", {**AUTH, "Content-Type": "text/plain"})[0] == 415
    assert post(opsgenie.url + "/v2/alerts", b"{oops", AUTH)[0] == 400
    assert len(opsgenie.rejected) == 3


def test_opsgenie_finds_alerts_by_id_and_tiny_id_too(opsgenie: OpsgenieStandIn) -> None:
    post(opsgenie.url + "/v2/alerts", CREATE, AUTH)
    post(opsgenie.url + "/v2/alerts", _with(CREATE, alias="other"), AUTH)
    assert post(opsgenie.url + "/v2/alerts/2/acknowledge?identifierType=tiny", {}, AUTH)[0] == 202
    assert opsgenie.alerts() == {"firebell-T0123-INC-7-L1": "open", "other": "acked"}
    assert post(opsgenie.url + "/v2/alerts/no-such-id/close", {}, AUTH)[0] == 202  # async: accepted, no effect
    assert opsgenie.alerts() == {"firebell-T0123-INC-7-L1": "open", "other": "acked"}


def test_opsgenie_opens_a_new_alert_for_an_alias_once_closed(opsgenie: OpsgenieStandIn) -> None:
    alias = CREATE["alias"]
    post(opsgenie.url + "/v2/alerts", CREATE, AUTH)
    post(opsgenie.url + f"/v2/alerts/{alias}/close?identifierType=alias", {}, AUTH)
    post(opsgenie.url + f"/v2/alerts/{alias}/acknowledge?identifierType=alias", {}, AUTH)
    assert opsgenie.alerts() == {alias: "closed"}
    post(opsgenie.url + "/v2/alerts", CREATE, AUTH)
    assert opsgenie.alerts() == {alias: "open"}
