"""The one door to Slack's Web API. Typed methods, Slack's errors translated, retries from slack_sdk."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient

from bot.slack.pacing import POST_MESSAGE, Pacer
from bot.slack.text import truncate

log = logging.getLogger(__name__)

TOPIC_LIMIT = 250
NOT_TWICE = {"chat.postMessage", "conversations.create", "files.completeUploadExternal"}
HISTORY_PAGES = 10  # of 200 messages: how far back a retry looks for what an earlier try posted
LIST_PAGE = 200  # Slack recommends no more than 200 results per page
MARKER_EVENT = "firebell_outbox"  # message metadata event type: which outbox item posted a message
INVITE_BATCH = 100


# Slack errors that may go away by themselves; every other error code will not (channel_not_found, invalid_auth…)
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
                    "team_added_to_org"}


def will_heal(error: str) -> bool:
    """Worth retrying later: a transient Slack error, an HTTP 5xx/429, a timeout or a connection failure."""
    return error in TRANSIENT_ERRORS or error.startswith(("http_", "connection failed"))


class SlackCallFailed(Exception):
    """A Web API call failed for good (after slack_sdk's retries); ``error`` is Slack's code."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error


class NameTaken(SlackCallFailed):
    pass


class SharedRetryAfter(RateLimitErrorRetryHandler):
    """slack_sdk's handler of 429s, telling the pacer too: every call of that method (of `chat.postMessage`: to that
    channel) waits out Slack's Retry-After, not only the one that got it; then this one is sent again in its turn."""

    def __init__(self, pacer: Pacer, *, max_retry_count: int = 3, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.sleep = sleep

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]  # as slack_sdk's own handler does
        state.next_attempt_requested = True
        method, channel = call_of(request)
        self.sleep(self.pacer.penalise(method, channel, retry_after(response)))
        if turn := self.pacer.take(method, channel):  # the first turn after the hold (a line may have formed)
            self.sleep(turn)
        state.increment_current_attempt()


def retry_after(response: HttpResponse) -> float:
    """Slack's Retry-After (whole seconds); 1 s when it is missing or unreadable."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value[0] if isinstance(value, list) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError, IndexError):
        return 1.0


def call_of(request: HttpRequest) -> tuple[str, str | None]:
    """The Web API method a request calls and, for `chat.postMessage`, the channel it posts to."""
    method = urlsplit(request.url).path.rsplit("/", 1)[-1]
    if method != POST_MESSAGE or not request.data:
        return method, None
    body = request.data.decode("utf-8", "replace")
    try:
        channel = json.loads(body).get("channel")
    except (ValueError, AttributeError):
        channel = next(iter(parse_qs(body).get("channel", [])), None)
    return method, str(channel) if channel else None


def make_client(token: str, base_url: str, *, timeout: int = 10, retry_pause: float = 1.0,
                observer: RetryHandler | None = None, pacer: Pacer | None = None,
                sleep: Callable[[float], None] = time.sleep) -> WebClient:
    """slack_sdk's client with its retry handlers for connection errors, 429 (Retry-After, shared through ``pacer``
    with every call of the method) and 5xx; a retry after a 5xx or a connection error waits ``retry_pause`` seconds,
    doubled before the next. ``observer`` comes first and sees every answer (the metrics count calls with it); it
    never asks for a retry. Give the same ``pacer`` to the `SlackGateway`."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            *([observer] if observer is not None else []),
            ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=_backoff(retry_pause)),
            SharedRetryAfter(pacer if pacer is not None else Pacer(None), max_retry_count=3, sleep=sleep),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=_backoff(retry_pause)),
        ],
    )


def pacer_of(client: WebClient) -> Pacer:
    """The pacer the client's 429 handler tells (a new one, pacing nothing, when it has none)."""
    return next((h.pacer for h in client.retry_handlers if isinstance(h, SharedRetryAfter)), Pacer(None))


def _backoff(first: float) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=first / 2)  # waits factor * 2 ** attempt (attempt 0 first)


@dataclass(frozen=True)
class Identity:
    team_id: str
    bot_user_id: str
    team_url: str | None


Blocks = Sequence[Block] | Sequence[dict] | None  # Block Kit models, or blocks already serialised (the outbox)


def _blocks(blocks: Blocks) -> list[dict] | None:
    return [b if isinstance(b, dict) else b.to_dict() for b in blocks] if blocks is not None else None


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    is_private: bool
    is_member: bool
    is_archived: bool


@dataclass(frozen=True)
class UserInfo:
    id: str
    name: str
    deleted: bool
    is_bot: bool
    tz: str | None = None  # the person's IANA time zone, as set in Slack


SCOPES_HEADER = "x-oauth-scopes"  # on every answer to a token: the scopes it was granted


class SlackGateway:
    def __init__(self, client: WebClient, *, retry_pause: float = 1.0, observer: RetryHandler | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.retry_pause = retry_pause  # seconds before trying a call again that failed in a way that may heal
        self.pacer = pacer_of(client)  # every call waits for its turn by Slack's limits (see bot/slack/pacing.py)
        self.sleep = sleep
        self._deferring = threading.local()  # per thread: may a call put its work back instead of waiting?
        # For calls that must not happen twice: a 5xx or a dropped connection may come after Slack did the work, so
        # slack_sdk must not send them again blindly. The outbox tries again later, looking first (see effects).
        observers = [observer] if observer is not None else []  # sees every answer (the metrics' counter)
        self.once_client = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                     retry_handlers=[*observers,
                                                     SharedRetryAfter(self.pacer, max_retry_count=3, sleep=sleep),
                                                     ConnectionErrorRetryHandler(
                                                         max_retry_count=2, error_types=[URLError],
                                                         interval_calculator=_backoff(retry_pause))])

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Within it, on this thread, the first call whose turn (by Slack's limits) is further away than the pacer's
        longest sleep raises `Paced` instead of waiting, so that its caller (a delivery worker) puts the work back and
        does other work meanwhile. Only the first call: nothing has reached Slack yet, so the work can start over as
        if never tried. Once a call is sent, the later ones wait for their turn."""
        self._deferring.on = True
        try:
            yield
        finally:
            self._deferring.on = False

    def _pace(self, method: str, channel: str | None = None) -> None:
        """Wait for the call's turn (or raise `Paced`: see `deferring`), and for any Retry-After Slack set meanwhile."""
        longest = self.pacer.longest_sleep if getattr(self._deferring, "on", False) else math.inf
        while True:
            if wait := self.pacer.take(method, channel, longest=longest):
                self.sleep(wait)
            if not self.pacer.held_for(method, channel):  # a 429 while it slept: a turn after the hold
                break
        self._deferring.on = False  # a call goes out: this work may no longer start over unseen

    def _call(self, method: str, **kwargs: object) -> dict:
        return self._answer(method, **kwargs)[0]

    def _answer(self, method: str, **kwargs: object) -> tuple[dict, dict[str, str]]:
        """Slack's answer to ``method``: its data and its HTTP headers (names in lower case)."""
        self._pace(method, str(kwargs["channel"]) if method == POST_MESSAGE and kwargs.get("channel") else None)
        client = self.once_client if method in NOT_TWICE else self.client
        try:
            response = client.api_call(method, json=kwargs) if _json_method(method) else client.api_call(
                method, data={k: v for k, v in kwargs.items() if v is not None}
            )
        except SlackApiError as exc:
            error = _error_of(exc)
            if error == "name_taken":
                raise NameTaken(method, error) from None
            raise SlackCallFailed(method, error) from None
        except (SlackRequestError, OSError) as exc:
            raise SlackCallFailed(method, f"connection failed ({type(exc).__name__})") from None
        headers = {str(k).lower(): v[0] if isinstance(v, list) and v else str(v)
                   for k, v in (response.headers or {}).items()}
        return (response.data if isinstance(response.data, dict) else {}), headers

    # identity

    def identity(self) -> Identity:
        data = self._call("auth.test")
        return Identity(team_id=data["team_id"], bot_user_id=data["user_id"], team_url=data.get("url"))

    def granted_scopes(self) -> tuple[dict, frozenset[str] | None]:
        """auth.test's answer and the scopes the token holds (Slack's x-oauth-scopes header; None without it)."""
        data, headers = self._answer("auth.test")
        header = headers.get(SCOPES_HEADER)
        return data, (frozenset(s.strip() for s in header.split(",") if s.strip()) if header is not None else None)

    def channel_info(self, channel_id: str) -> ChannelInfo | None:
        """What Slack says about a channel; None when there is none the bot can see."""
        try:
            channel = self._call("conversations.info", channel=channel_id)["channel"]
        except SlackCallFailed as exc:
            if exc.error == "channel_not_found":
                return None
            raise
        return ChannelInfo(channel["id"], channel.get("name", ""), bool(channel.get("is_private")),
                           bool(channel.get("is_member")), bool(channel.get("is_archived")))

    def user_info(self, user_id: str) -> UserInfo | None:
        try:
            user = self._call("users.info", user=user_id)["user"]
        except SlackCallFailed as exc:
            if exc.error == "user_not_found":
                return None
            raise
        return UserInfo(user["id"], user.get("real_name") or user.get("name") or user["id"], bool(user.get("deleted")),
                        bool(user.get("is_bot")), user.get("tz") or None)

    def find_user(self, name: str) -> str | None:
        """The id of the active person whose handle, display name or real name is ``name`` (any case), if one is."""
        wanted, cursor = name.strip().lstrip("@").casefold(), None
        for _ in range(500):  # at most 100,000 people
            data = self._call("users.list", limit=LIST_PAGE, cursor=cursor)
            for member in data.get("members", []):
                profile = member.get("profile") or {}
                names = {member.get("name"), profile.get("display_name"), profile.get("real_name"),
                         member.get("real_name")}
                if not member.get("deleted") and wanted in {n.casefold() for n in names if n}:
                    return str(member["id"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    # channels

    def create_channel(self, name: str, *, private: bool = False) -> str:
        return self._call("conversations.create", name=name, is_private="true" if private else "false")["channel"]["id"]

    def find_channel(self, name: str) -> dict | None:
        """The unarchived channel called ``name`` (id, creator, created…), if the bot can see one."""
        cursor = None
        for _ in range(500):  # at most 100,000 channels
            data = self._call("conversations.list", types="public_channel,private_channel", exclude_archived="true",
                              limit=LIST_PAGE, cursor=cursor)
            found = next((c for c in data.get("channels", []) if c.get("name") == name), None)
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if found is not None or not cursor:
                return found
        return None

    def channel_members(self, channel_id: str) -> frozenset[str]:
        """Who is in a channel the bot is in (conversations.members, every page)."""
        members: set[str] = set()
        cursor = None
        for _ in range(500):  # at most 100,000 members
            data = self._call("conversations.members", channel=channel_id, limit=LIST_PAGE, cursor=cursor)
            members.update(data.get("members", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return frozenset(members)

    def archive_channel(self, channel_id: str) -> None:
        self._call("conversations.archive", channel=channel_id)

    def invite(self, channel_id: str, user_ids: Sequence[str]) -> None:
        """Invite users; people already in the channel (or the bot itself) are not an error."""
        wanted = list(dict.fromkeys(user_ids))
        for start in range(0, len(wanted), INVITE_BATCH):
            try:
                self._call("conversations.invite", channel=channel_id, users=",".join(wanted[start:start + 100]))
            except SlackCallFailed as exc:
                if exc.error not in ("already_in_channel", "cant_invite_self"):
                    raise

    def set_topic(self, channel_id: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel_id, topic=truncate(topic, TOPIC_LIMIT))

    # messages

    def post(self, channel: str, text: str, blocks: Blocks = None, *, marker: str | None = None) -> str:
        """Post to a channel (or to a user id: the bot's DM with them); returns the message ts. ``marker`` tags the
        message in its metadata, so that a retry can tell whether an earlier try got through (`find_marked`)."""
        return self.dm(channel, text, blocks, marker=marker)[1]

    def dm(self, user_id: str, text: str, blocks: Blocks = None, *, marker: str | None = None) -> tuple[str, str]:
        """Post in the bot's DM with a person (or in a channel); returns the conversation and the message ts."""
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"marker": marker}} if marker else None
        data = self._call("chat.postMessage", channel=user_id, text=text, blocks=_blocks(blocks), unfurl_links=False,
                          metadata=metadata)
        return data["channel"], data["ts"]

    def open_dm(self, user_id: str) -> str:
        """The id of the bot's DM conversation with a person (conversations.open; opened if need be)."""
        return self._call("conversations.open", users=user_id)["channel"]["id"]

    def usergroup_size(self, usergroup_id: str) -> int | None:
        """How many people a user group has; None when Slack knows no such (enabled) group."""
        try:
            return len(self.usergroup_members(usergroup_id))
        except SlackCallFailed as exc:
            if exc.error in ("no_such_subteam", "subteam_not_found"):
                return None
            raise

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        return list(self._call("usergroups.users.list", usergroup=usergroup_id).get("users", []))

    def set_usergroup_members(self, usergroup_id: str, user_ids: Sequence[str]) -> None:
        """Make the user group's members exactly ``user_ids`` (usergroups.users.update; Slack keeps at least one)."""
        self._call("usergroups.users.update", usergroup=usergroup_id, users=",".join(user_ids))

    def _history(self, channel: str, since: float) -> Iterator[dict]:
        """The conversation's messages since the epoch time ``since``, newest first. A bot reads only channels it is
        in: one it posts to without being a member (the broadcast channel, with chat:write.public) is joined."""
        cursor, joined = None, False
        pages = 0
        while pages < HISTORY_PAGES:
            try:
                data = self._call("conversations.history", channel=channel, oldest=f"{since:.6f}", limit=200,
                                  include_all_metadata="true", cursor=cursor)
            except SlackCallFailed as exc:
                if exc.error != "not_in_channel" or joined:
                    raise
                self._call("conversations.join", channel=channel)
                joined = True
                continue
            pages += 1
            yield from data.get("messages", [])
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def find_marked(self, channel: str, marker: str, *, since: float) -> str | None:
        """The ts of a message posted with ``marker`` since the epoch time ``since``, if Slack has one."""
        for message in self._history(channel, since):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == MARKER_EVENT and (metadata.get("event_payload") or {}).get(
                    "marker") == marker:
                return message.get("ts")
        return None

    def find_shared_file(self, channel: str, filename: str, title: str, *, since: float) -> bool:
        """Whether the bot shared a file called ``filename`` with ``title`` in the channel since ``since``."""
        return any(f.get("name") == filename and f.get("title") == title
                   for message in self._history(channel, since) for f in message.get("files") or [])

    def update(self, channel: str, ts: str, text: str, blocks: Blocks = None) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=_blocks(blocks))

    def post_ephemeral(self, channel: str, user: str, text: str, blocks: Sequence[Block] | None = None) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text, blocks=_blocks(blocks))

    def pin(self, channel: str, ts: str) -> None:
        try:
            self._call("pins.add", channel=channel, timestamp=ts)
        except SlackCallFailed as exc:
            if exc.error != "already_pinned":
                raise

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self._call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink")
        except SlackCallFailed as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc.error)
            return None

    def upload(self, channel: str, filename: str, content: str | bytes, *, title: str, comment: str) -> None:
        """Share a file in a channel (files_upload_v2: get an upload URL, send the bytes, complete): text as
        ``str``, anything else (a PNG) as ``bytes``."""
        data = {"content": content} if isinstance(content, str) else {"file": content}
        self._pace("files.getUploadURLExternal")
        self._pace("files.completeUploadExternal")
        try:
            self.once_client.files_upload_v2(channel=channel, filename=filename, title=title, initial_comment=comment,
                                             **data)
        except SlackApiError as exc:
            raise SlackCallFailed("files_upload_v2", _error_of(exc)) from None
        except (SlackRequestError, OSError) as exc:
            raise SlackCallFailed("files_upload_v2", f"connection failed ({type(exc).__name__})") from None

    # views

    def open_view(self, trigger_id: str, view: View) -> str:
        return self._call("views.open", trigger_id=trigger_id, view=view.to_dict())["view"]["id"]

    def publish_home(self, user_id: str, view: View) -> None:
        self._call("views.publish", user_id=user_id, view=view.to_dict())

    # response_url

    def respond(self, response_url: str, text: str, blocks: Sequence[Block] | None = None,
                *, replace_original: bool = False) -> None:
        """Answer through a command's response_url: ephemeral, seen only by the person who asked."""
        try:
            response = WebhookClient(response_url, timeout=10, retry_handlers=self.client.retry_handlers).send(
                text=text, blocks=_blocks(blocks), response_type="ephemeral", replace_original=replace_original
            )
        except OSError as exc:
            raise SlackCallFailed("response_url", f"connection failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SlackCallFailed("response_url", f"http_{response.status_code} {response.body}")


def _error_of(exc: SlackApiError) -> str:
    """Slack's error code; a 5xx is told by its status, as its body may be a proxy's HTML page (which slack_sdk
    would report as the error)."""
    status = exc.response.status_code
    error = exc.response.get("error") if isinstance(exc.response.data, dict) and status < 500 else None
    return str(error or f"http_{status}")


def _json_method(method: str) -> bool:
    return method.startswith(("chat.", "views."))
