"""The vendors' documented request rules, as the stand-ins enforce them.

PagerDuty, "Send an Alert Event" (Events API v2) and its OpenAPI schema; Opsgenie, "Alert API" (create,
acknowledge, close) and "Alerts and Alert Fields". Each function lists every problem it finds; an empty
answer means the request is valid. Unknown fields are problems: the stand-ins are stricter than the vendors
so that a misspelt field fails a test instead of vanishing in production.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

# PagerDuty Events API v2
PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_ROUTING_KEY_LENGTH = 32
PD_DEDUP_KEY_MAX = 255
PD_SUMMARY_MAX = 1024
PD_EVENT_MAX_BYTES = 512 * 1024
PD_TRIGGER_ONLY = ("payload", "client", "client_url", "links", "images")
PD_FIELDS = frozenset({"routing_key", "event_action", "dedup_key", *PD_TRIGGER_ONLY})
PD_PAYLOAD_FIELDS = frozenset({"summary", "source", "severity", "timestamp", "component", "group", "class",
                               "custom_details"})

# Opsgenie Alert API
OG_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
OG_IDENTIFIER_TYPES = ("id", "alias", "tiny")
OG_RESPONDER_TYPES = ("team", "user", "escalation", "schedule")
OG_VISIBLE_TO_TYPES = ("team", "user")
OG_ACTION_LIMITS = {"user": 100, "source": 100, "note": 25_000}
OG_CREATE_LIMITS = {"message": 130, "alias": 512, "description": 15_000, "entity": 512, **OG_ACTION_LIMITS}
OG_CREATE_FIELDS = frozenset({*OG_CREATE_LIMITS, "responders", "visibleTo", "actions", "tags", "details",
                              "priority"})
OG_MAX_RESPONDERS = 50
OG_MAX_ACTIONS, OG_ACTION_MAX = 10, 50
OG_MAX_TAGS, OG_TAG_MAX = 20, 50
OG_DETAILS_MAX = 8_000


def pagerduty_event(event: dict[str, Any]) -> list[str]:
    """Problems of one Events API v2 alert event (``POST /v2/enqueue``)."""
    problems = [f"Unknown field '{name}'" for name in event if name not in PD_FIELDS]
    key = event.get("routing_key")
    if key is None:
        problems.append("'routing_key' is missing")
    elif not isinstance(key, str):
        problems.append("'routing_key' must be a string")
    elif len(key) != PD_ROUTING_KEY_LENGTH:
        problems.append(f"Length of 'routing_key' is incorrect (should be {PD_ROUTING_KEY_LENGTH} characters)")
    action = event.get("event_action")
    if action not in PD_ACTIONS:
        problems.append(f"'event_action' must be one of {', '.join(PD_ACTIONS)}")
    dedup_key = event.get("dedup_key")
    if dedup_key is None:
        if action in ("acknowledge", "resolve"):
            problems.append(f"'dedup_key' is required for {action} events")
    elif not isinstance(dedup_key, str) or not dedup_key:
        problems.append("'dedup_key' must be a non-empty string")
    elif len(dedup_key) > PD_DEDUP_KEY_MAX:
        problems.append(f"'dedup_key' is longer than {PD_DEDUP_KEY_MAX} characters")
    if action != "trigger":
        if action in PD_ACTIONS:
            problems += [f"'{name}' is only used with trigger events" for name in PD_TRIGGER_ONLY if name in event]
        return problems
    payload = event.get("payload")
    if not isinstance(payload, dict):
        problems.append("'payload' is missing or not an object")
    else:
        problems += _pd_payload(payload)
    problems += _optional_str(event, ("client",))
    if "client_url" in event and not _is_url(event["client_url"]):
        problems.append("'client_url' must be an http(s) URL")
    problems += _pd_context(event.get("links"), "links", "href", {"href", "text"}, https=False)
    problems += _pd_context(event.get("images"), "images", "src", {"src", "href", "alt"}, https=True)
    return problems


def _pd_payload(payload: dict[str, Any]) -> list[str]:
    problems = [f"Unknown field 'payload.{name}'" for name in payload if name not in PD_PAYLOAD_FIELDS]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("'payload.summary' is missing or empty")
    elif len(summary) > PD_SUMMARY_MAX:
        problems.append(f"'payload.summary' is longer than {PD_SUMMARY_MAX} characters")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append("'payload.source' is missing or empty")
    if payload.get("severity") not in PD_SEVERITIES:
        problems.append(f"'payload.severity' must be one of {', '.join(PD_SEVERITIES)}")
    problems += _optional_str(payload, ("component", "group", "class"), prefix="payload.")
    if "timestamp" in payload and not _is_timestamp(payload["timestamp"]):
        problems.append("'payload.timestamp' must be an ISO 8601 timestamp")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("'payload.custom_details' must be an object")
    return problems


def _pd_context(items: Any, name: str, required: str, allowed: set[str], *, https: bool) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return [f"'{name}' must be an array of objects"]
    problems: list[str] = []
    for i, item in enumerate(items):
        problems += [f"Unknown field '{name}[{i}].{k}'" for k in item if k not in allowed]
        if not _is_url(item.get(required), https_only=https):
            problems.append(f"'{name}[{i}].{required}' must be an {'https' if https else 'http(s)'} URL")
        if "href" in item and required != "href" and not _is_url(item["href"]):
            problems.append(f"'{name}[{i}].href' must be an http(s) URL")
        problems += _optional_str(item, ("text", "alt"), prefix=f"{name}[{i}].")
    return problems


def opsgenie_create(body: dict[str, Any]) -> dict[str, str]:
    """Problems of a create-alert body (``POST /v2/alerts``), field -> reason, as Opsgenie's 422 lists them."""
    problems = {name: "Unknown field" for name in body if name not in OG_CREATE_FIELDS}
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        problems["message"] = "Message can not be empty."
    problems.update(_og_limits(body, OG_CREATE_LIMITS))
    if "priority" in body and body["priority"] not in OG_PRIORITIES:
        problems["priority"] = f"Priority should be one of {OG_PRIORITIES}"
    for name, types in (("responders", OG_RESPONDER_TYPES), ("visibleTo", OG_VISIBLE_TO_TYPES)):
        if name in body and (reason := _og_recipients(body[name], types)):
            problems[name] = reason
    for name, count, size in (("tags", OG_MAX_TAGS, OG_TAG_MAX), ("actions", OG_MAX_ACTIONS, OG_ACTION_MAX)):
        value = body.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems[name] = "must be an array of strings"
        elif len(value) > count or any(len(v) > size for v in value):
            problems[name] = f"at most {count} of at most {size} characters each"
    details = body.get("details", {})
    if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
        problems["details"] = "must be a map of strings to strings"
    elif sum(len(k) + len(v) for k, v in details.items()) > OG_DETAILS_MAX:
        problems["details"] = f"longer than {OG_DETAILS_MAX} characters in all"
    return problems


def opsgenie_action(body: dict[str, Any]) -> dict[str, str]:
    """Problems of an acknowledge or close body: only ``user``, ``source`` and ``note``."""
    problems = {name: "Unknown field" for name in body if name not in OG_ACTION_LIMITS}
    problems.update(_og_limits(body, OG_ACTION_LIMITS))
    return problems


def _og_limits(body: dict[str, Any], limits: dict[str, int]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, limit in limits.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems[name] = "must be a string"
        elif len(value) > limit:
            problems[name] = f"longer than {limit} characters"
    return problems


def _og_recipients(value: Any, types: tuple[str, ...]) -> str | None:
    if not isinstance(value, list) or len(value) > OG_MAX_RESPONDERS:
        return f"must be an array of at most {OG_MAX_RESPONDERS} recipients"
    for item in value:
        if not isinstance(item, dict) or item.get("type") not in types:
            return f"each recipient needs a type among {types}"
        if not any(isinstance(item.get(k), str) and item[k] for k in ("id", "name", "username")):
            return "each recipient needs an id, name or username"
    return None


def _optional_str(body: dict[str, Any], names: tuple[str, ...], *, prefix: str = "") -> list[str]:
    return [f"'{prefix}{name}' must be a string" for name in names if name in body and not isinstance(body[name], str)]


def _is_url(value: Any, *, https_only: bool = False) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.netloc) and parts.scheme in (("https",) if https_only else ("http", "https"))


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
