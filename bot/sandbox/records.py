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
    tz: str = "UTC"  # an IANA zone name, as Slack's `tz`
    is_bot: bool = False
    deleted: bool = False
    display_name: str = ""  # the profile's display name; "" when the person set none (Slack shows real_name)
    restricted: bool = False  # a guest (is_restricted)


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

    @property
    def filetype(self) -> str:
        """What Slack calls the file: from its bytes for images and PDFs, else from its name ("text" if none)."""
        content = self.content or b""
        for magic, kind in ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF8", "gif"),
                            (b"%PDF-", "pdf")):
            if content.startswith(magic):
                return kind
        _, dot, extension = self.filename.rpartition(".")
        return extension.lower() if dot and extension else "text"

    @property
    def mimetype(self) -> str:
        return {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "pdf": "application/pdf",
                "csv": "text/csv", "md": "text/markdown", "json": "application/json"}.get(self.filetype, "text/plain")


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
    name: str = ""
    description: str = ""
    created: int = 0
    updated: int = 0
    created_by: str = ""
    updated_by: str = ""
    disabled: bool = False


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
class Ack:
    """A Socket Mode envelope the stand-in delivered, and what the app answered on its WebSocket."""

    envelope_id: str
    type: str  # slash_commands, interactive or events_api
    payload: dict[str, Any]
    sent: float  # real monotonic clock
    acked: float | None = None  # when the ack came; None while it has not
    response: dict[str, Any] | None = None  # the ack's "payload", when it had one
    connection: str = ""  # the connection it went to


@dataclass
class ResponsePost:
    url: str
    body: dict[str, Any]
