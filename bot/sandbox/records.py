"""State records of the Slack stand-in.

Every record is a plain dataclass. The stand-in hands out deep copies, so a test may keep or mutate
what it received without touching the stand-in's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One Web API call as the stand-in saw it (args as received, token removed)."""

    method: str
    args: dict[str, Any]
    status: int
    ok: bool
    error: str | None
    at: float  # real monotonic clock (immune to freezegun)


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    creator: str
    created: int
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    archived: bool = False
    pins: list[str] = field(default_factory=list)  # message ts, in pin order
    kind: str = "channel"  # "channel", "im" or "mpim"
    im_user: str | None = None  # the other party of a bot DM
    bookmarks: list[Bookmark] = field(default_factory=list)


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None = None
    edits: int = 0  # times chat.update (or a response_url replace) changed it
    bot: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji name -> user ids
    files: list[str] = field(default_factory=list)  # file ids shared with the message
    deleted: bool = False
    metadata: dict[str, Any] | None = None  # chat.postMessage `metadata`: {event_type, event_payload}


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    ts: str = ""
    thread_ts: str | None = None
    via: str = "api"  # "api" (chat.postEphemeral), "ack" or "response_url"


@dataclass
class View:
    id: str
    user: str
    type: str
    callback_id: str
    title: str
    blocks: list[dict[str, Any]]
    private_metadata: str
    hash: str
    root_view_id: str
    closed: bool = False
    external_id: str = ""
    previous_view_id: str | None = None
    submit: str = ""
    close: str = ""
    notify_on_close: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # last response_action=errors ack
    raw: dict[str, Any] = field(default_factory=dict)  # the view as last set by the app


@dataclass
class File:
    id: str
    filename: str
    length: int
    title: str = ""
    content: bytes | None = None  # None until the bytes are POSTed to the upload URL
    channels: list[str] = field(default_factory=list)
    completed: bool = False


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    type: str
    link: str
    emoji: str = ""


@dataclass
class Usergroup:
    id: str
    handle: str
    users: list[str] = field(default_factory=list)


@dataclass
class ResponseUrl:
    id: str
    channel: str | None
    user: str | None
    message_ts: str | None  # the message a block action came from, for replace/delete_original
    created: float
    uses: int = 0
    last_ephemeral: int | None = None  # index in ephemerals of the last ephemeral it produced


@dataclass
class ResponsePost:
    url: str
    body: dict[str, Any]
