"""Web API methods that post content: chat.*, files.* (the v2 upload flow), and what Slack does
with a response_url POST or a slash command's ack body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.blocks import MAX_MESSAGE_BLOCKS, fill_ids, validate_blocks
from bot.sandbox.records import Channel, Ephemeral, File, Message, ResponseUrl
from bot.sandbox.workspace import ApiError, Args, Workspace, missing

MAX_POST_TEXT = 40_000  # chat.postMessage / postEphemeral: Slack truncates past this; we refuse
MAX_UPDATE_TEXT = 4_000  # chat.update's reference: "The text field cannot exceed 4,000 characters"
MAX_SHARE_CHANNELS = 100

Method = Callable[[Workspace, Args], dict[str, Any]]


def check_blocks(ws: Workspace, blocks: Any, error: str = "invalid_blocks") -> list[dict[str, Any]] | None:
    """Validated message blocks with Slack's filled-in ids, or None when there are none."""
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    problems = validate_blocks(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
    if problems:
        raise ApiError(error, problems)
    fill_ids(blocks, ws.rng)
    return blocks


def _content(ws: Workspace, args: Args, max_text: int) -> tuple[str | None, list[dict[str, Any]] | None]:
    blocks = check_blocks(ws, args.json("blocks", error="invalid_blocks_format"))
    text = args.opt("text")
    if not text and not blocks and not args.json("attachments"):
        raise ApiError("no_text")
    if text and len(text) > max_text:
        raise ApiError("msg_too_long")
    return text, blocks


def _writable(ws: Workspace, channel: Channel) -> None:
    """Public channels take posts without membership when the token has chat:write.public; others need it."""
    ws.require_open(channel)
    if channel.is_private or "chat:write.public" not in ws.scopes:
        ws.require_member(channel)


def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.target(args.opt("channel"))
    _writable(ws, channel)
    text, blocks = _content(ws, args, MAX_POST_TEXT)
    message = ws.post(channel, ws.bot_user_id, text or "", blocks, thread_ts=args.opt("thread_ts"))
    if args.opt("metadata"):
        metadata = args.json("metadata", error="invalid_metadata_format")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str) or \
                not isinstance(metadata.get("event_payload"), dict):
            raise ApiError("invalid_metadata_format")
        message.metadata = metadata
    return {"channel": channel.id, "ts": message.ts, "message": ws.message_json(message)}


def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"))
    ts = args.opt("ts")
    if not ts:
        raise missing("ts")
    message = ws.message(channel.id, ts)
    if not message.bot:
        raise ApiError("cant_update_message")
    if channel.archived:
        raise ApiError("is_inactive")
    text, blocks = _content(ws, args, MAX_UPDATE_TEXT)
    if text is not None:
        message.text = text
    if blocks is not None:
        message.blocks = blocks or None
    message.edits += 1
    return {"channel": channel.id, "ts": ts, "text": message.text, "message": ws.message_json(message)}


def chat_delete(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"))
    message = ws.message(channel.id, args.opt("ts"))
    if not message.bot:
        raise ApiError("cant_delete_message")
    message.deleted = True
    return {"channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"))
    user = args.opt("user")
    _writable(ws, channel)
    if user not in ws.users or user not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks = _content(ws, args, MAX_POST_TEXT)
    ts = ws.next_ts()
    ws.ephemerals.append(
        Ephemeral(channel.id, user, text or "", blocks, ts=ts, thread_ts=args.opt("thread_ts"))
    )
    return {"message_ts": ts}


def permalink(ws: Workspace, message: Message) -> str:
    link = f"https://{ws.team_domain}.slack.com/archives/{message.channel}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={message.channel}"
    return link


def chat_get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.conversation(args.opt("channel"), visible=True)
    message = ws.message(channel.id, args.opt("message_ts"))
    return {"channel": channel.id, "permalink": permalink(ws, message)}


# --- files (files_upload_v2) -----------------------------------------------------------------------


def files_get_upload_url_external(ws: Workspace, args: Args) -> dict[str, Any]:
    filename = args.req("filename")
    length = args.req("length")
    try:
        size = int(length)
    except ValueError as exc:
        raise ApiError("invalid_arguments", ["[ERROR] length must be an integer"]) from exc
    if size <= 0:
        raise ApiError("missing_argument")
    file = File(id=ws.new_id("F", taken=ws.files), filename=filename, length=size)
    ws.files[file.id] = file
    return {"upload_url": f"{ws.base_url}/upload/{file.id}", "file_id": file.id}


def receive_upload(ws: Workspace, file_id: str, data: bytes) -> tuple[int, str]:
    """The upload URL: raw bytes, no auth. Answers like Slack's file edge ("OK - <bytes>")."""
    file = ws.files.get(file_id)
    if file is None or file.completed:
        return 404, "file_not_found"
    file.content = data
    return 200, f"OK - {len(data)}"


def files_complete_upload_external(ws: Workspace, args: Args) -> dict[str, Any]:
    entries = args.json("files")
    if not isinstance(entries, list) or not entries:
        raise missing("files")
    channel_ids = args.csv("channels") or ([args.req("channel_id")] if "channel_id" in args else [])
    if len(channel_ids) > MAX_SHARE_CHANNELS:
        raise ApiError("channels_limit_exceeded")
    files: list[File] = []
    for entry in entries:
        file = ws.files.get(entry.get("id", "") if isinstance(entry, dict) else "")
        if file is None or file.content is None or file.completed:
            raise ApiError("file_not_found")
        files.append(file)
    channels = [ws.conversation(channel_id) for channel_id in channel_ids]
    for channel in channels:
        if channel.archived:
            raise ApiError("invalid_channel")
        if channel.is_private:
            ws.require_member(channel)
    blocks = check_blocks(ws, args.json("blocks", error="invalid_blocks"))
    for file, entry in zip(files, entries, strict=True):
        file.title = entry.get("title") or file.filename
        file.completed = True
        file.channels = [channel.id for channel in channels]
    for channel in channels:
        message = ws.post(channel, ws.bot_user_id, args.opt("initial_comment") or "", blocks,
                          thread_ts=args.opt("thread_ts"))
        message.files = [file.id for file in files]
    return {
        "files": [
            {"id": f.id, "title": f.title, "name": f.filename, "size": len(f.content or b""), "channels": f.channels,
             "filetype": f.filetype, "mimetype": f.mimetype, "user": ws.bot_user_id}
            for f in files
        ]
    }


# --- response_url and slash command acks -------------------------------------------------------------


def respond(ws: Workspace, url: ResponseUrl, body: Any, *, via: str) -> tuple[int, dict[str, Any]]:
    """Apply a message sent to a response_url (or a slash command's ack body) as Slack would.

    `replace_original` / `delete_original` act on the message a block action came from (or on the
    last ephemeral this URL produced); `response_type: in_channel` posts a message; anything else
    is an ephemeral message for the user.
    """
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    channel = ws.channels.get(url.channel or "")
    if channel is None:
        return 404, {"ok": False, "error": "channel_not_found"}
    if body.get("delete_original"):
        if url.message_ts:
            try:
                ws.message(channel.id, url.message_ts).deleted = True
            except ApiError:
                return 404, {"ok": False, "error": "message_not_found"}
        return 200, {"ok": True}
    try:
        blocks = check_blocks(ws, body.get("blocks"))
    except ApiError as exc:
        return 400, {"ok": False, "error": exc.error, "response_metadata": {"messages": exc.messages}}
    text = body.get("text") or ""
    if not text and not blocks:
        return 400, {"ok": False, "error": "no_text"}
    if body.get("replace_original") and url.message_ts:
        try:
            message = ws.message(channel.id, url.message_ts)
        except ApiError:
            return 404, {"ok": False, "error": "message_not_found"}
        message.text, message.blocks = text, blocks
        message.edits += 1
    elif body.get("response_type") == "in_channel":
        if channel.archived:
            return 410, {"ok": False, "error": "channel_is_archived"}
        ws.post(channel, ws.bot_user_id, text, blocks, thread_ts=body.get("thread_ts"))
    elif body.get("replace_original") and url.last_ephemeral is not None:
        old = ws.ephemerals[url.last_ephemeral]
        old.text, old.blocks = text, blocks
    else:
        ws.ephemerals.append(Ephemeral(channel.id, url.user or "", text, blocks, ts=ws.next_ts(), via=via))
        url.last_ephemeral = len(ws.ephemerals) - 1
    return 200, {"ok": True}


METHODS: dict[str, Method] = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
