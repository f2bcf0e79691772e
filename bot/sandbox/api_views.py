"""views.* methods, trigger exchange, modal stacks, and what Slack does with a view_submission ack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.sandbox.blocks import MAX_VIEW_BLOCKS, Rule, Spec, fill_ids, validate_blocks, validate_object
from bot.sandbox.records import View
from bot.sandbox.workspace import ApiError, Args, Workspace, missing, monotonic

MAX_STACK = 3  # "push_limit_reached ... Currently the limit is 3"
MAX_VIEW_BYTES = 250_000

Method = Callable[[Workspace, Args], dict[str, Any]]


def _plain(key: str, max_len: int, *, required: bool = False) -> Rule:
    return Rule(key, "plain", required=required, max_len=max_len)


_COMMON = (
    Rule("callback_id", "str", max_len=255),
    Rule("private_metadata", "str", max_len=3000),
    Rule("external_id", "str", max_len=255),
    Rule("blocks", "list", required=True),
)
VIEW_SPECS: dict[str, Spec] = {
    "modal": Spec(
        (
            Rule("type", "enum", required=True, allowed=frozenset({"modal"})),
            _plain("title", 24, required=True),
            _plain("submit", 24),
            _plain("close", 24),
            Rule("clear_on_close", "bool"),
            Rule("notify_on_close", "bool"),
            *_COMMON,
        )
    ),
    "home": Spec((Rule("type", "enum", required=True, allowed=frozenset({"home"})), *_COMMON)),
}


def check_view(ws: Workspace, view: Any, view_type: str, pointer: str = "/view") -> dict[str, Any]:
    """A validated copy of a view payload (with Slack's filled-in ids), or ApiError."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError as exc:
            raise ApiError("invalid_arguments", [f"[ERROR] must provide an object [json-pointer:{pointer}]"]) from exc
    if not isinstance(view, dict):
        raise missing("view")
    if len(json.dumps(view)) > MAX_VIEW_BYTES:
        raise ApiError("view_too_large")
    view = json.loads(json.dumps(view))
    problems = validate_object(view, VIEW_SPECS[view_type], pointer)
    blocks = view.get("blocks")
    if isinstance(blocks, list):
        problems += validate_blocks(blocks, max_blocks=MAX_VIEW_BLOCKS, pointer=f"{pointer}/blocks")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if view_type == "modal" and has_input and not view.get("submit"):
            problems.append(f"[ERROR] missing required field: submit [json-pointer:{pointer}]")
    if problems:
        raise ApiError("invalid_arguments", problems)
    fill_ids(blocks, ws.rng)
    return view


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _apply(view: View, payload: dict[str, Any]) -> None:
    view.raw = payload
    view.type = payload["type"]
    view.callback_id = payload.get("callback_id") or ""
    view.title = _text(payload.get("title"))
    view.blocks = payload["blocks"]
    view.private_metadata = payload.get("private_metadata") or ""
    view.external_id = payload.get("external_id") or view.external_id  # kept unless replaced
    view.submit = _text(payload.get("submit"))
    view.close = _text(payload.get("close"))
    view.notify_on_close = bool(payload.get("notify_on_close"))
    view.errors = {}


def _check_external_id(ws: Workspace, payload: dict[str, Any], keep: str | None = None) -> None:
    external_id = payload.get("external_id")
    if external_id and any(v.external_id == external_id and v.id != keep for v in ws.views.values()):
        raise ApiError("duplicate_external_id")


def new_view(ws: Workspace, user: str, payload: dict[str, Any], *, root: str | None = None,
             previous: str | None = None) -> View:
    _check_external_id(ws, payload)
    view_id = ws.new_id("V", taken=ws.views)
    view = View(id=view_id, user=user, type=payload["type"], callback_id="", title="", blocks=[],
                private_metadata="", hash=ws.new_hash(), root_view_id=root or view_id,
                previous_view_id=previous)
    _apply(view, payload)
    ws.views[view_id] = view
    return view


def replace_view(ws: Workspace, view: View, payload: dict[str, Any]) -> None:
    _check_external_id(ws, payload, keep=view.id)
    _apply(view, payload)
    view.hash = ws.new_hash()


def view_json(ws: Workspace, view: View, state: dict[str, Any] | None = None) -> dict[str, Any]:
    body = dict(view.raw)
    body.update(
        id=view.id,
        team_id=ws.team_id,
        type=view.type,
        blocks=view.blocks,
        private_metadata=view.private_metadata,
        callback_id=view.callback_id,
        state={"values": state or {}},
        hash=view.hash,
        clear_on_close=bool(view.raw.get("clear_on_close")),
        notify_on_close=view.notify_on_close,
        root_view_id=view.root_view_id,
        previous_view_id=view.previous_view_id,
        app_id=ws.app_id,
        external_id=view.external_id,
        app_installed_team_id=ws.team_id,
        bot_id=ws.bot_id,
    )
    for key in ("title", "submit", "close"):
        body.setdefault(key, None)
    return body


def _exchange(ws: Workspace, args: Args) -> str:
    """Spend a trigger_id; returns the user it was minted for."""
    trigger_id = args.opt("trigger_id") or args.opt("interactivity_pointer")
    if not trigger_id:
        raise missing("trigger_id")
    trigger = ws.triggers.get(trigger_id)
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger.used:
        raise ApiError("exchanged_trigger_id")
    if monotonic() - trigger.minted > ws.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger.used = True
    return trigger.user


def close_stack(ws: Workspace, user: str) -> None:
    for view_id in ws.stacks.pop(user, []):
        ws.views[view_id].closed = True


def close_view(ws: Workspace, view: View) -> None:
    """Close one view; Slack shows the previous view of its stack again."""
    view.closed = True
    stack = ws.stacks.get(view.user, [])
    if view.id in stack:
        stack.remove(view.id)
    if not stack:
        ws.stacks.pop(view.user, None)


def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    payload = check_view(ws, args.json("view"), "modal")
    user = _exchange(ws, args)
    _check_external_id(ws, payload)
    close_stack(ws, user)
    view = new_view(ws, user, payload)
    ws.stacks[user] = [view.id]
    return {"view": view_json(ws, view)}


def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    payload = check_view(ws, args.json("view"), "modal")
    user = _exchange(ws, args)
    stack = ws.stacks.get(user)
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    view = new_view(ws, user, payload, root=stack[0], previous=stack[-1])
    stack.append(view.id)
    return {"view": view_json(ws, view)}


def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    view_id, external_id = args.opt("view_id"), args.opt("external_id")
    if not view_id and not external_id:
        raise missing("view_id")
    found = [
        v for v in ws.views.values()
        if (v.id == view_id if view_id else v.external_id == external_id) and not v.closed
    ]
    if not found:
        raise ApiError("not_found")
    view = found[0]
    given_hash = args.opt("hash")
    if given_hash and given_hash != view.hash:
        raise ApiError("hash_conflict")
    replace_view(ws, view, check_view(ws, args.json("view"), view.type))
    return {"view": view_json(ws, view)}


def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    user = ws.user(args.req("user_id"))
    payload = check_view(ws, args.json("view"), "home")
    current = ws.views.get(ws.homes.get(user.id, ""))
    given_hash = args.opt("hash")
    if current is not None:
        if given_hash and given_hash != current.hash:
            raise ApiError("hash_conflict")
        replace_view(ws, current, payload)
        return {"view": view_json(ws, current)}
    view = new_view(ws, user.id, payload)
    ws.homes[user.id] = view.id
    return {"view": view_json(ws, view)}


def apply_submission_ack(ws: Workspace, view: View, body: Any) -> None:
    """What Slack does with the HTTP answer to a view_submission (status 200 assumed)."""
    if not body:
        close_view(ws, view)
        return
    action = body.get("response_action") if isinstance(body, dict) else None
    if action == "errors":
        errors = body.get("errors")
        inputs = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors or set(errors) - inputs:
            ws.problems.append(f"view {view.id}: response_action=errors names non-input blocks: {errors!r}")
        view.errors = dict(errors) if isinstance(errors, dict) else {}
    elif action in ("update", "push"):
        try:
            payload = check_view(ws, body.get("view"), "modal")
            if action == "update":
                replace_view(ws, view, payload)
            elif len(ws.stacks.get(view.user, [])) >= MAX_STACK:
                raise ApiError("push_limit_reached")
            else:
                pushed = new_view(ws, view.user, payload, root=view.root_view_id, previous=view.id)
                ws.stacks.setdefault(view.user, []).append(pushed.id)
        except ApiError as exc:
            ws.problems.append(f"view {view.id}: response_action={action} rejected: {exc.error} {exc.messages}")
    elif action == "clear":
        close_stack(ws, view.user)
    else:
        ws.problems.append(f"view {view.id}: unknown ack body {body!r}")


METHODS: dict[str, Method] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
