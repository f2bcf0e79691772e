"""What a person's clicks and form entries look like in Slack's interaction payloads.

`element_action` builds one entry of a block_actions payload's `actions`; `view_state` builds a
view's `state.values`. Both refuse what a person could not do in Slack's client (a button that is
not there, an option that is not offered, an empty required input).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.blocks import interactive_elements

Given = str | list[str] | None

# element type -> (state key, converter kind, initial-value key)
STATE_KEYS: dict[str, tuple[str, str, str]] = {
    "plain_text_input": ("value", "text", "initial_value"),
    "email_text_input": ("value", "text", "initial_value"),
    "url_text_input": ("value", "text", "initial_value"),
    "number_input": ("value", "text", "initial_value"),
    "static_select": ("selected_option", "option", "initial_option"),
    "radio_buttons": ("selected_option", "option", "initial_option"),
    "overflow": ("selected_option", "option", ""),
    "external_select": ("selected_option", "free_option", "initial_option"),
    "multi_static_select": ("selected_options", "options", "initial_options"),
    "checkboxes": ("selected_options", "options", "initial_options"),
    "multi_external_select": ("selected_options", "free_options", "initial_options"),
    "users_select": ("selected_user", "user", "initial_user"),
    "multi_users_select": ("selected_users", "users", "initial_users"),
    "conversations_select": ("selected_conversation", "conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "conversation", "initial_channel"),
    "multi_channels_select": ("selected_channels", "conversations", "initial_channels"),
    "datepicker": ("selected_date", "text", "initial_date"),
    "timepicker": ("selected_time", "text", "initial_time"),
    "datetimepicker": ("selected_date_time", "int", "initial_date_time"),
    "rich_text_input": ("rich_text_value", "rich_text", "initial_value"),
}
MULTI_KINDS = frozenset({"options", "free_options", "users", "conversations"})
STATELESS = frozenset({"button", "overflow", "workflow_button"})


class Lookups:
    """What the converters need to know about the workspace."""

    def __init__(self, user_exists: Callable[[str], bool], conversation_exists: Callable[[str], bool]) -> None:
        self.user_exists = user_exists
        self.conversation_exists = conversation_exists


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return dict(option)
    offered = [o.get("value") for o in _options(element)]
    raise ValueError(f"{element.get('action_id')}: no option with value {value!r}; offered: {offered}")


def _free(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def _as_list(given: Given) -> list[str]:
    if given is None:
        return []
    return [given] if isinstance(given, str) else list(given)


def _check(exists: Callable[[str], bool], what: str, value: str) -> str:
    if not exists(value):
        raise ValueError(f"no {what} {value!r} in the workspace")
    return value


def convert(element: dict[str, Any], given: Given, lookups: Lookups) -> Any:
    """A person's entry ("value", or option values) as the element's state value."""
    kind = STATE_KEYS[element["type"]][1]
    if given is None or given == []:
        return [] if kind in MULTI_KINDS else None
    one = given if isinstance(given, str) else (given[0] if len(given) == 1 else None)
    many = _as_list(given)
    if one is None and kind not in MULTI_KINDS:
        raise ValueError(f"{element.get('action_id')} takes one value, got {given!r}")
    if kind == "text":
        return one
    if kind == "int":
        return int(one)  # type: ignore[arg-type]
    if kind == "rich_text":
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": one}]}
        return {"type": "rich_text", "elements": [section]}
    converters: dict[str, Callable[[str], Any]] = {
        "option": lambda v: _option(element, v),
        "options": lambda v: _option(element, v),
        "free_option": _free,
        "free_options": _free,
        "user": lambda v: _check(lookups.user_exists, "user", v),
        "users": lambda v: _check(lookups.user_exists, "user", v),
        "conversation": lambda v: _check(lookups.conversation_exists, "conversation", v),
        "conversations": lambda v: _check(lookups.conversation_exists, "conversation", v),
    }
    if kind in MULTI_KINDS:
        return [converters[kind](v) for v in many]
    return converters[kind](one)  # type: ignore[arg-type]


def find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(block, element) with that action_id; LookupError if a person could not click it."""
    found = [
        (block, element)
        for block in blocks
        for element in interactive_elements(block)
        if element.get("action_id") == action_id and (block_id is None or block.get("block_id") == block_id)
    ]
    if not found:
        present = sorted(
            {f"{b.get('block_id')}/{e.get('action_id')}" for b in blocks for e in interactive_elements(b)}
        )
        raise LookupError(f"no element with action_id {action_id!r} (block_id {block_id!r}); present: {present}")
    if len(found) > 1:
        raise ValueError(f"action_id {action_id!r} is in several blocks; pass block_id")
    return found[0]


def element_action(
    block: dict[str, Any], element: dict[str, Any], value: str | None, selected: Given, lookups: Lookups
) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions`."""
    kind = element["type"]
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block["block_id"],
        "action_ts": f"{time.time():.6f}",
    }
    if kind in ("button", "workflow_button"):
        if value is not None and value != element.get("value"):
            raise ValueError(f"button {element['action_id']} carries value {element.get('value')!r}, not {value!r}")
        action["text"] = element["text"]
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
        return action
    if kind not in STATE_KEYS:
        raise ValueError(f"clicking a {kind} is not supported by the driver")
    state_key, converter, _ = STATE_KEYS[kind]
    given = selected if converter in ("option", "options", "free_option", "free_options") else value
    action[state_key] = convert(element, given, lookups)
    if "placeholder" in element:
        action["placeholder"] = element["placeholder"]
    return action


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _state_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block.get("type") == "input":
        return [block["element"]]
    return [e for e in interactive_elements(block) if e.get("type") not in STATELESS]


def view_state(
    blocks: list[dict[str, Any]],
    values: dict[str, dict[str, Given]],
    lookups: Lookups,
    *,
    submitting: bool = True,
) -> dict[str, dict[str, Any]]:
    """A view's `state.values` after a person filled in `values` (block_id -> action_id -> entry).

    Inputs left out keep their initial value (or none), as in Slack's client. When `submitting`,
    empty required inputs and lengths outside min/max_length raise, as the client won't submit.
    """
    known: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for block in blocks:
        for element in _state_elements(block):
            if element.get("type") in STATE_KEYS:
                known[(block["block_id"], element["action_id"])] = (block, element)
    for block_id, entries in values.items():
        for action_id in entries:
            if (block_id, action_id) not in known:
                present = [f"{b}/{a}" for b, a in known]
                raise LookupError(f"the view has no input {block_id}/{action_id}; inputs: {present}")
    state: dict[str, dict[str, Any]] = {}
    for (block_id, action_id), (block, element) in known.items():
        state_key, _, initial_key = STATE_KEYS[element["type"]]
        entries = values.get(block_id, {})
        if action_id in entries:
            value = convert(element, entries[action_id], lookups)
        else:
            empty: Any = [] if state_key.endswith("s") else None
            value = element.get(initial_key, empty) if initial_key else empty
        if submitting:
            _check_length(element, value)
        if submitting and block.get("type") == "input" and not block.get("optional") and _empty(value):
            raise ValueError(f"required input {block_id}/{action_id} is empty; Slack's client would not submit")
        state.setdefault(block_id, {})[action_id] = {"type": element["type"], state_key: value}
    return state


def _check_length(element: dict[str, Any], value: Any) -> None:
    if element.get("type") != "plain_text_input" or not isinstance(value, str):
        return
    if "max_length" in element and len(value) > element["max_length"]:
        raise ValueError(f"{element['action_id']}: {len(value)} characters > max_length {element['max_length']}")
    if value and "min_length" in element and len(value) < element["min_length"]:
        raise ValueError(f"{element['action_id']}: {len(value)} characters < min_length {element['min_length']}")
