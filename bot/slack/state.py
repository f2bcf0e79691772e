"""Flatten a submitted view's ``state.values`` into {block_id: value} (one input element per block)."""

from __future__ import annotations

from typing import Any


def element_value(element: dict[str, Any]) -> str | list[str] | None:
    if "selected_option" in element:
        option = element["selected_option"]
        return option["value"] if option else None
    if "selected_options" in element:
        return [option["value"] for option in element["selected_options"] or []]
    for key in ("value", "selected_user", "selected_conversation", "selected_channel", "selected_date"):
        if key in element:
            return element[key]
    return None


def flatten_state(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    flat: dict[str, Any] = {}
    for block_id, actions in values.items():
        for element in actions.values():
            flat[block_id] = element_value(element)
    return flat
