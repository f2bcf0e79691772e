"""Web API methods about the workspace's conversations: auth, conversations, pins, reactions, bookmarks.
Each method takes the workspace and its `Args` and returns the answer's keys besides
`ok`, or raises `ApiError`."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.sandbox.records import Bookmark, Channel
from bot.sandbox.workspace import ApiError, Args, Workspace, missing, wall_clock

MAX_CHANNEL_NAME = 80
MAX_TOPIC = 250
MAX_INVITE_USERS = 100  # SLACK.md; Slack's current reference says 1000
MAX_MPIM_USERS = 8
EMOJI_NAME = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")

Method = Callable[[Workspace, Args], dict[str, Any]]


def paginate(ws: Workspace, args: Args, items: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
    """Cursor pagination as Slack does it: an opaque cursor, "" on the last page."""
    limit = int(args.opt("limit") or 100) or 100
    cursor = args.opt("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError as exc:
            raise ApiError("invalid_cursor") from exc
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return list(items[start:end]), {"next_cursor": next_cursor}


# --- auth ----------------------------------------------------------------------------------------


def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.users[ws.bot_user_id].name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def api_test(ws: Workspace, args: Args) -> dict[str, Any]:
    if "error" in args:
        raise ApiError(args.req("error"), args=args.data)
    return {"args": args.data} if args.data else {}


# --- conversations -------------------------------------------------------------------------------


def check_channel_name(ws: Workspace, name: str | None) -> str:
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise ApiError("invalid_name_maxlength")
    if any(not (c in "-_" or (c.isalnum() and not c.isupper())) for c in name):
        raise ApiError("invalid_name_specials")
    if all(c in "-_" for c in name):
        raise ApiError("invalid_name_punctuation")
    if any(ch.name == name for ch in ws.channels.values() if ch.kind == "channel"):
        raise ApiError("name_taken")
    return name


def conversations_create(ws: Workspace, args: Args) -> dict[str, Any]:
    name = check_channel_name(ws, args.opt("name"))
    private = args.flag("is_private")
    ws.require_scope("groups:write" if private else "channels:manage")
    channel = Channel(
        id=ws.new_id("C", taken=ws.channels),
        name=name,
        is_private=private,
        creator=ws.bot_user_id,
        created=int(wall_clock()),
        members={ws.bot_user_id},
    )
    ws.channels[channel.id] = channel
    ws.messages[channel.id] = []
    return {"channel": ws.channel_json(channel)}


def _channel_only(channel: Channel) -> Channel:
    if channel.kind != "channel":
        raise ApiError("method_not_supported_for_channel_type")
    return channel


def conversations_invite(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_only(ws.conversation(args.opt("channel")))
    users = args.csv("users")
    if not users:
        raise ApiError("no_user")
    if len(users) > MAX_INVITE_USERS:
        raise ApiError("too_many_users")
    ws.require_open(channel)
    ws.require_member(channel)
    failures: list[dict[str, Any]] = []
    valid: list[str] = []
    for user_id in users:
        error = None
        if user_id == ws.bot_user_id:
            error = "cant_invite_self"
        elif user_id not in ws.users or ws.users[user_id].deleted:
            error = "user_not_found"
        if error:
            failures.append({"user": user_id, "ok": False, "error": error})
        else:
            valid.append(user_id)
    if failures and not (args.flag("force") and valid):
        raise ApiError(failures[0]["error"], errors=failures)
    newcomers = [user_id for user_id in valid if user_id not in channel.members]
    if not newcomers:
        raise ApiError("already_in_channel")
    channel.members.update(newcomers)
    answer: dict[str, Any] = {"channel": ws.channel_json(channel)}
    if failures:
        answer["errors"] = failures
    return answer


def _set_text(ws: Workspace, args: Args, key: str) -> Channel:
    channel = _channel_only(ws.conversation(args.opt("channel")))
    value = args.opt(key)
    if value is None and key not in args.data:
        raise missing(key)
    ws.require_open(channel)
    ws.require_member(channel)
    if len(value or "") > MAX_TOPIC:
        raise ApiError("too_long")
    setattr(channel, key, value or "")
    return channel


def conversations_set_topic(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"channel": ws.channel_json(_set_text(ws, args, "topic"))}


def conversations_set_purpose(ws: Workspace, args: Args) -> dict[str, Any]:
    _set_text(ws, args, "purpose")
    return {}


def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"channel": ws.channel_json(ws.conversation(args.opt("channel"), visible=True))}


def conversations_archive(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_only(ws.conversation(args.opt("channel")))
    if channel.archived:
        raise ApiError("already_archived")
    ws.require_member(channel)
    channel.archived = True
    return {}


def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"), visible=True)
    members, meta = paginate(ws, args, sorted(channel.members))
    return {"members": members, "response_metadata": meta}


def conversations_history(ws: Workspace, args: Args) -> dict[str, Any]:
    """Newest first; `oldest`/`latest` bound it (exclusive), `limit` (default 100, at most 999) and `cursor` page
    it; message metadata only with `include_all_metadata`. Thread replies are not listed, as in Slack. A bot reads
    only conversations it is a member of (public channels included: `channels:history` covers those it was
    added to)."""
    channel = ws.conversation(args.opt("channel"), visible=True)
    if channel.kind == "channel":
        ws.require_member(channel)
    oldest, latest = float(args.opt("oldest") or 0), float(args.opt("latest") or "inf")
    if int(args.opt("limit") or 100) > 999:
        raise ApiError("invalid_limit")
    messages = [m for m in reversed(ws.messages.get(channel.id, []))
                if not m.deleted and (not m.thread_ts or m.thread_ts == m.ts) and oldest < float(m.ts) < latest]
    page, metadata = paginate(ws, args, messages)
    shown = []
    for message in page:
        body = ws.message_json(message)
        if not args.flag("include_all_metadata"):
            body.pop("metadata", None)
        shown.append(body)
    return {"messages": shown, "has_more": bool(metadata["next_cursor"]), "response_metadata": metadata}


def conversations_join(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"), visible=True)
    if channel.kind != "channel" or channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    ws.require_open(channel)
    answer: dict[str, Any] = {}
    if ws.bot_user_id in channel.members:
        answer = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    channel.members.add(ws.bot_user_id)
    return {"channel": ws.channel_json(channel), **answer}


LIST_TYPES = {"public_channel", "private_channel", "mpim", "im"}


def conversations_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """Conversations the bot can see, oldest first, cursor-paged (`limit` at most 1000): public channels, and
    private channels, group DMs and DMs only where the bot is a member."""
    types = set(args.csv("types") or ["public_channel"])
    if not types <= LIST_TYPES:
        raise ApiError("invalid_types")
    if int(args.opt("limit") or 100) > 1000:
        raise ApiError("invalid_limit")

    def kind(channel: Channel) -> str:
        if channel.kind == "channel":
            return "private_channel" if channel.is_private else "public_channel"
        return channel.kind

    shown = [c for c in ws.channels.values()
             if kind(c) in types and not (args.flag("exclude_archived") and c.archived)
             and (kind(c) == "public_channel" or ws.bot_user_id in c.members)]
    page, metadata = paginate(ws, args, shown)
    return {"channels": [ws.channel_json(c) for c in page], "response_metadata": metadata}


def conversations_open(ws: Workspace, args: Args) -> dict[str, Any]:
    if "channel" in args:
        channel = ws.conversation(args.opt("channel"), visible=True)
        return {"channel": ws.channel_json(channel) if args.flag("return_im") else {"id": channel.id}}
    users = [u for u in args.csv("users") if u != ws.bot_user_id]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > MAX_MPIM_USERS:
        raise ApiError("too_many_users")
    for user_id in users:
        ws.user(user_id)
    if len(users) == 1:
        existed = any(ch.kind == "im" and ch.im_user == users[0] for ch in ws.channels.values())
        channel = ws.im_for(users[0])
    else:
        wanted = {ws.bot_user_id, *users}
        found = [ch for ch in ws.channels.values() if ch.kind == "mpim" and ch.members == wanted]
        existed = bool(found)
        if found:
            channel = found[0]
        else:
            channel = Channel(
                id=ws.new_id("G", taken=ws.channels), name="mpdm-" + "--".join(sorted(wanted)) + "-1",
                is_private=True, creator=ws.bot_user_id, created=int(wall_clock()), members=wanted,
                kind="mpim",
            )
            ws.channels[channel.id] = channel
            ws.messages[channel.id] = []
    answer: dict[str, Any] = {"channel": ws.channel_json(channel) if args.flag("return_im") else {"id": channel.id}}
    if existed:
        answer.update(no_op=True, already_open=True)
    return answer


# --- pins, reactions, bookmarks --------------------------------------------------------------------


def pins_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"))
    ts = args.opt("timestamp")
    if not ts:
        raise ApiError("no_item_specified")
    ws.require_member(channel)
    ws.message(channel.id, ts)
    if ts in channel.pins:
        raise ApiError("already_pinned")
    channel.pins.append(ts)
    return {}


def pins_remove(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"))
    ts = args.opt("timestamp")
    if not ts:
        raise ApiError("no_item_specified")
    ws.require_member(channel)
    if ts not in channel.pins:
        raise ApiError("no_pin")
    channel.pins.remove(ts)
    return {}


def pins_list(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"), visible=True)
    items = [
        {
            "type": "message",
            "channel": channel.id,
            "created_by": ws.bot_user_id,
            "message": ws.message_json(ws.message(channel.id, ts)),
        }
        for ts in channel.pins
    ]
    return {"items": items}


def reactions_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"), visible=True)
    ts = args.opt("timestamp")
    if not ts:
        raise ApiError("no_item_specified")
    name = args.opt("name") or ""
    if not EMOJI_NAME.fullmatch(name):
        raise ApiError("invalid_name")
    ws.require_open(channel)
    message = ws.message(channel.id, ts)
    users = message.reactions.setdefault(name, [])
    if ws.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(ws.bot_user_id)
    return {}


def bookmarks_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel_id"), visible=True)
    title = args.req("title")
    kind = args.req("type")
    if kind != "link":
        raise ApiError("invalid_bookmark_type")
    link = args.opt("link") or ""
    if not link.startswith(("http://", "https://")):
        raise ApiError("invalid_link")
    emoji = args.opt("emoji") or ""
    if emoji and not re.fullmatch(r":[a-z0-9_+'\-]+:", emoji):
        raise ApiError("invalid_emoji")
    bookmark = Bookmark(id=ws.new_id("Bk"), channel_id=channel.id, title=title, type=kind, link=link, emoji=emoji)
    channel.bookmarks.append(bookmark)
    return {
        "bookmark": {
            "id": bookmark.id,
            "channel_id": channel.id,
            "title": title,
            "link": link,
            "emoji": emoji or None,
            "type": kind,
            "date_created": int(wall_clock()),
            "last_updated_by_user_id": ws.bot_user_id,
        }
    }


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "api.test": api_test,
    "conversations.create": conversations_create,
    "conversations.invite": conversations_invite,
    "conversations.setTopic": conversations_set_topic,
    "conversations.setPurpose": conversations_set_purpose,
    "conversations.info": conversations_info,
    "conversations.archive": conversations_archive,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.open": conversations_open,
    "conversations.list": conversations_list,
    "conversations.join": conversations_join,
    "pins.add": pins_add,
    "pins.remove": pins_remove,
    "pins.list": pins_list,
    "reactions.add": reactions_add,
    "bookmarks.add": bookmarks_add,
}
