"""The stand-in's workspace state and the helpers every Web API method shares.

All state lives in one `Workspace`, guarded by its `lock`: the HTTP server runs each method with
the lock held, and the public `SlackStandIn` takes it to read snapshots.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.limits import Limiter
from bot.sandbox.records import (
    Call,
    Channel,
    Ephemeral,
    File,
    Message,
    ResponsePost,
    ResponseUrl,
    User,
    Usergroup,
    View,
)

# The real clocks, captured at import and kept out of module attributes so that freezegun (which
# patches module attributes) leaves them alone: Slack's clock does not stop when the app's does.
_CLOCKS: dict[str, Callable[[], float]] = {"wall": time.time, "mono": time.monotonic}


def wall_clock() -> float:
    return _CLOCKS["wall"]()


def monotonic() -> float:
    return _CLOCKS["mono"]()


class ApiError(Exception):
    """An `{"ok": false, "error": ...}` answer (HTTP 200 unless `status` says otherwise)."""

    def __init__(
        self, error: str, messages: list[str] | None = None, *, status: int = 200, **extra: Any
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status
        self.extra = extra  # more top-level keys of the answer (e.g. conversations.invite's errors)


def missing(key: str) -> ApiError:
    return ApiError("invalid_arguments", [f"[ERROR] missing required field: {key}"])


class Args:
    """A method's arguments, whether they came as a form body, a query string or JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, key: str) -> bool:
        return self.data.get(key) not in (None, "")

    def opt(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing(key)
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value if isinstance(value, str) else str(value)

    def req(self, key: str) -> str:
        value = self.opt(key, required=True)
        assert value is not None
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes")
        return bool(value)

    def json(self, key: str, *, error: str = "invalid_arguments") -> Any:
        """A JSON argument: a JSON-encoded string (form bodies) or the value itself (JSON bodies)."""
        value = self.data.get(key)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(error, [f"[ERROR] {key} is not valid JSON"]) from exc

    def csv(self, key: str) -> list[str]:
        value = self.data.get(key)
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        if not value:
            return []
        return [part.strip() for part in str(value).split(",") if part.strip()]


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: int
    error: str | None
    late_by: float = 0.0  # > 0: the call takes effect, but its answer comes this many seconds late
    skip: int = 0  # calls let through before the fault starts


@dataclass
class Trigger:
    user: str
    minted: float
    used: bool = False


@dataclass
class Workspace:
    token: str
    team_id: str
    team_domain: str
    bot_user_id: str
    trigger_ttl: float
    app_token: str = "xapp-1-A0FIREBELL-1-firebell-test"
    scopes: tuple[str, ...] = ()  # granted to the bot token
    app_scopes: tuple[str, ...] = ("connections:write",)  # granted to the app-level token
    bot_id: str = "B0FIREBELL"
    app_id: str = "A0FIREBELL"
    base_url: str = ""
    socket_url: str = ""  # ws://host:port of the Socket Mode endpoint, once it listens
    lock: threading.RLock = field(default_factory=threading.RLock)
    rng: random.Random = field(default_factory=random.Random)
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: dict[str, View] = field(default_factory=dict)
    stacks: dict[str, list[str]] = field(default_factory=dict)  # user -> open modal view ids, root first
    homes: dict[str, str] = field(default_factory=dict)  # user -> home tab view id
    triggers: dict[str, Trigger] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    usergroups: dict[str, Usergroup] = field(default_factory=dict)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)
    response_posts: list[ResponsePost] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    limiter: Limiter | None = None  # the limits mode, when on
    ratelimited: Counter[str] = field(default_factory=Counter)  # method -> calls answered 429 by the limits mode
    tickets: dict[str, float] = field(default_factory=dict)  # Socket Mode ticket -> minted (monotonic); one use
    last_ts_us: int = 0

    # --- ids and timestamps ---------------------------------------------------------------------

    def new_id(self, prefix: str, length: int = 10, *, taken: Any = ()) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = prefix + "".join(self.rng.choice(alphabet) for _ in range(length))
            if candidate not in taken:
                return candidate

    def next_ts(self) -> str:
        """A message ts ("%d.%06d"), strictly increasing over the whole workspace."""
        self.last_ts_us = max(int(wall_clock() * 1_000_000), self.last_ts_us + 1)
        return f"{self.last_ts_us // 1_000_000}.{self.last_ts_us % 1_000_000:06d}"

    def new_hash(self) -> str:
        return f"{int(wall_clock())}.{self.rng.getrandbits(40):010x}"

    def mint_trigger(self, user_id: str) -> str:
        trigger_id = f"{int(wall_clock())}.{self.rng.randrange(10**9, 10**10)}.{self.rng.getrandbits(128):032x}"
        self.triggers[trigger_id] = Trigger(user=user_id, minted=monotonic())
        return trigger_id

    # --- lookups --------------------------------------------------------------------------------

    def user(self, user_id: str | None, error: str = "user_not_found") -> User:
        user = self.users.get(user_id or "")
        if user is None or user.deleted:
            raise ApiError(error)
        return user

    def conversation(self, channel_id: str | None, *, visible: bool = False) -> Channel:
        """The conversation with that id; with visible=True a private one the bot isn't in is hidden."""
        channel = self.channels.get(channel_id or "")
        if channel is None:
            raise ApiError("channel_not_found")
        if visible and channel.is_private and self.bot_user_id not in channel.members:
            raise ApiError("channel_not_found")
        return channel

    def im_for(self, user_id: str) -> Channel:
        """The bot's DM with a user, opened on first use (like conversations.open)."""
        user = self.user(user_id)
        for channel in self.channels.values():
            if channel.kind == "im" and channel.im_user == user.id:
                return channel
        channel_id = self.new_id("D", taken=self.channels)
        channel = Channel(
            id=channel_id,
            name=user.id,
            is_private=True,
            creator=self.bot_user_id,
            created=int(wall_clock()),
            members={self.bot_user_id, user.id},
            kind="im",
            im_user=user.id,
        )
        self.channels[channel_id] = channel
        self.messages[channel_id] = []
        return channel

    def target(self, channel_arg: str | None) -> Channel:
        """chat.postMessage's `channel`: a conversation id or name, or a user id meaning the bot's DM."""
        if channel_arg and channel_arg[:1] in ("U", "W") and channel_arg in self.users:
            return self.im_for(channel_arg)
        if channel_arg and channel_arg not in self.channels:  # Slack also takes a channel's name
            name = channel_arg.removeprefix("#")
            for channel in self.channels.values():
                if channel.kind == "channel" and channel.name == name:
                    return channel
        return self.conversation(channel_arg)

    def require_member(self, channel: Channel) -> None:
        if self.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")

    def require_scope(self, scope: str) -> None:
        """For methods whose scope depends on their arguments (a private channel needs groups:write...)."""
        if scope not in self.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(self.scopes))

    def require_open(self, channel: Channel) -> None:
        if channel.archived:
            raise ApiError("is_archived")

    def message(self, channel_id: str, ts: str | None) -> Message:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts and not message.deleted:
                return message
        raise ApiError("message_not_found")

    # --- writes ---------------------------------------------------------------------------------

    def post(
        self,
        channel: Channel,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        *,
        thread_ts: str | None = None,
        bot: bool = True,
    ) -> Message:
        if thread_ts:  # a reply to a reply lands in the parent's thread, as in Slack
            for existing in self.messages.get(channel.id, []):
                if existing.ts == thread_ts and existing.thread_ts:
                    thread_ts = existing.thread_ts
        message = Message(
            channel=channel.id, ts=self.next_ts(), user=user, text=text, blocks=blocks,
            thread_ts=thread_ts, bot=bot,
        )
        self.messages.setdefault(channel.id, []).append(message)
        return message

    def reset(self) -> None:
        """Forget everything, then re-add the bot user."""
        for table in (
            self.users, self.channels, self.messages, self.views, self.stacks, self.homes, self.triggers,
            self.files, self.usergroups, self.response_urls, self.faults, self.ratelimited, self.tickets,
        ):
            table.clear()
        for log in (self.ephemerals, self.response_posts, self.calls, self.problems):
            log.clear()
        if self.limiter is not None:
            self.limiter.buckets.clear()
        self.users[self.bot_user_id] = User(
            id=self.bot_user_id, name="firebell", real_name="Firebell", is_bot=True
        )

    # --- JSON shapes ----------------------------------------------------------------------------

    def user_json(self, user: User) -> dict[str, Any]:
        """A user object as users.info gives it: the time zone's offset is the one in force now."""
        now = datetime.fromtimestamp(wall_clock(), ZoneInfo(user.tz))
        offset = now.utcoffset()
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": now.tzname() or user.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": user.restricted,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": int(wall_clock()),
            "profile": {
                "real_name": user.real_name,
                "real_name_normalized": user.real_name,
                "display_name": user.display_name,
                "display_name_normalized": user.display_name,
                "team": self.team_id,
                "bot_id": self.bot_id if user.id == self.bot_user_id else None,
            },
        }

    def channel_json(self, channel: Channel) -> dict[str, Any]:
        if channel.kind == "im":
            return {
                "id": channel.id, "created": channel.created, "is_im": True, "is_org_shared": False,
                "user": channel.im_user, "is_open": True,
            }
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": channel.kind == "channel",
            "is_group": False,
            "is_im": False,
            "is_mpim": channel.kind == "mpim",
            "is_private": channel.is_private,
            "is_archived": channel.archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_user_id in channel.members,
            "created": channel.created,
            "creator": channel.creator,
            "unlinked": 0,
            "num_members": len(channel.members),
            "topic": {"value": channel.topic, "creator": "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
        }

    def message_json(self, message: Message) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "message", "text": message.text, "ts": message.ts, "team": self.team_id}
        body["user"] = message.user
        if message.bot:
            body.update(bot_id=self.bot_id, app_id=self.app_id)
        if message.blocks is not None:
            body["blocks"] = message.blocks
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        if message.edits:
            body["edited"] = {"user": message.user, "ts": message.ts}
        if message.reactions:
            body["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in message.reactions.items()
            ]
        if message.files:
            body["files"] = [{"id": file_id, "name": self.files[file_id].filename, "title": self.files[file_id].title}
                             for file_id in message.files]
        if message.metadata is not None:
            body["metadata"] = message.metadata
        return body
