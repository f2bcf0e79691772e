"""`SlackStandIn`: a local, strict stand-in for Slack's Web API, served over real HTTP.

Point slack_sdk's `WebClient(token=standin.token, base_url=standin.api_url)` at it. It answers the
methods Firebell uses with the shapes and error codes Slack documents, records every call, and
lets tests set up users and channels, inject faults and inspect what the app did.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox import api_chat, api_conversations, api_views
from bot.sandbox.limits import Limiter, RateLimits
from bot.sandbox.loopback import BackgroundServer
from bot.sandbox.records import Call, Channel, Ephemeral, File, Message, ResponseUrl, User, Usergroup, View
from bot.sandbox.scopes import ALL_BOT_SCOPES
from bot.sandbox.socket_mode import SocketModeEndpoint
from bot.sandbox.web_api import WebApiServer
from bot.sandbox.workspace import ApiError, Fault, Workspace, monotonic, wall_clock

T = TypeVar("T")
SLACK_LIMITS = RateLimits()


class SlackStandIn:
    def __init__(
        self,
        *,
        token: str = "xoxb-firebell-test",
        team_id: str = "T0FIREBELL",
        team_domain: str = "firebell-test",
        bot_user_id: str = "U0FIREBOT",
        host: str = "127.0.0.1",
        port: int = 0,
        trigger_ttl: float = 3.0,
        app_token: str = "xapp-1-A0FIREBELL-1-firebell-test",
        scopes: Iterable[str] = ALL_BOT_SCOPES,
        limits: RateLimits | None = None,
    ) -> None:
        self._ws = Workspace(
            token=token, team_id=team_id, team_domain=team_domain, bot_user_id=bot_user_id, trigger_ttl=trigger_ttl,
            app_token=app_token, scopes=tuple(scopes), limiter=Limiter(limits) if limits else None,
        )
        self._ws.reset()
        self._web = BackgroundServer(lambda: WebApiServer((host, port), self._ws), name="slack-standin")
        self.socket_mode = SocketModeEndpoint(self._ws, host)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        if not self._web.running:
            self._web.start()
            self._ws.base_url = self._web.url
            self.socket_mode.start()
        return self

    def stop(self) -> None:
        self.socket_mode.stop()
        self._web.stop()

    def reset(self) -> None:
        """Forget everything (users, channels, messages, views, calls, faults, rate-limit counts, Socket Mode
        envelopes), then re-add the bot. Scopes and the limits mode stay as set."""
        with self._ws.lock:
            self._ws.reset()
        self.socket_mode.reset()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self._ws.base_url:
            raise RuntimeError("the stand-in is not started")
        return self._ws.base_url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def token(self) -> str:
        return self._ws.token

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-…) that apps.connections.open takes."""
        return self._ws.app_token

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    @property
    def team_domain(self) -> str:
        return self._ws.team_domain

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot_user_id

    @property
    def bot_id(self) -> str:
        return self._ws.bot_id

    @property
    def app_id(self) -> str:
        return self._ws.app_id

    # --- setup -----------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str | None = None, *, real_name: str | None = None, tz: str = "UTC",
        is_bot: bool = False, display_name: str | None = None, guest: bool = False,
    ) -> None:
        """A person (or bot). `tz` is an IANA zone (users.info derives tz_offset from it at each call);
        `display_name` defaults to `name`; pass "" for someone who set none, as many people have."""
        name = name or user_id.lower()
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        with self._ws.lock:
            self._ws.users[user_id] = User(
                user_id, name, real_name or name, tz=tz, is_bot=is_bot,
                display_name=name if display_name is None else display_name, restricted=guest,
            )

    def add_channel(
        self, name: str, *, channel_id: str | None = None, is_private: bool = False, members: Iterable[str] = ()
    ) -> str:
        """A channel that exists before the app runs (created by a person, not the bot)."""
        members = list(members)
        with self._ws.lock:
            try:
                api_conversations.check_channel_name(self._ws, name)
            except ApiError as exc:
                raise ValueError(f"cannot add channel {name!r}: {exc.error}") from None
            unknown = [m for m in members if m not in self._ws.users]
            if unknown:
                raise ValueError(f"unknown members {unknown}; add_user them first")
            channel_id = channel_id or self._ws.new_id("C", taken=self._ws.channels)
            if channel_id in self._ws.channels:
                raise ValueError(f"channel id {channel_id} is taken")
            creator = next((m for m in members if m != self._ws.bot_user_id), "U0ADMIN")
            self._ws.channels[channel_id] = Channel(
                id=channel_id, name=name, is_private=is_private, creator=creator, created=int(wall_clock()),
                members=set(members),
            )
            self._ws.messages[channel_id] = []
        return channel_id

    def add_usergroup(
        self, usergroup_id: str, handle: str, users: Iterable[str] = (), *, name: str = "", disabled: bool = False
    ) -> None:
        """A user group made by a person (e.g. `@l1-oncall`, S0…); its members must be users already."""
        members = list(users)
        with self._ws.lock:
            unknown = [m for m in members if m not in self._ws.users]
            if unknown:
                raise ValueError(f"unknown members {unknown}; add_user them first")
            now = int(wall_clock())
            self._ws.usergroups[usergroup_id] = Usergroup(
                usergroup_id, handle, members, name=name or handle, created=now, updated=now,
                created_by="U0ADMIN", updated_by="U0ADMIN", disabled=disabled,
            )

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        """The group's members as Slack holds them now (what usergroups.users.list answers)."""
        with self._ws.lock:
            return list(self._ws.usergroups[usergroup_id].users)

    def post_user_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person's message (e.g. the target of a message shortcut); returns its ts."""
        with self._ws.lock:
            channel = self._ws.channels[channel_id]
            if user_id not in self._ws.users:
                raise ValueError(f"unknown user {user_id}")
            if user_id not in channel.members:
                raise ValueError(f"{user_id} is not a member of {channel_id}")
            return self._ws.post(channel, user_id, text, None, thread_ts=thread_ts, bot=False).ts

    def mint_trigger_id(self, user_id: str) -> str:
        """A trigger_id for that user, valid once, for trigger_ttl seconds (real monotonic clock)."""
        with self._ws.lock:
            if user_id not in self._ws.users:
                raise ValueError(f"unknown user {user_id}")
            return self._ws.mint_trigger(user_id)

    def new_response_url(
        self, *, channel_id: str | None = None, user_id: str | None = None, message_ts: str | None = None
    ) -> str:
        """A response_url on this server. POSTs to it are recorded and, given a channel, applied as
        Slack does (ephemeral by default, in_channel, replace_original / delete_original of
        message_ts); 5 uses within 30 minutes."""
        with self._ws.lock:
            url_id = self._ws.new_id("R", 16, taken=self._ws.response_urls)
            self._ws.response_urls[url_id] = ResponseUrl(url_id, channel_id, user_id, message_ts, monotonic())
        return f"{self.base_url}/response/{url_id}"

    def fail(
        self, method: str, *, status: int = 500, times: int = 1, retry_after: int = 1, error: str | None = None,
        late_by: float = 0.0, skip: int = 0,
    ) -> None:
        """Make the next `times` calls of `method` fail: HTTP 429 (Retry-After), 5xx, or `error`; or, with
        `late_by`, take effect but answer that many seconds late (a caller's timeout then hides the success).
        `skip` lets that many calls through first."""
        with self._ws.lock:
            self._ws.faults.setdefault(method, []).append(Fault(status, times, retry_after, error, late_by, skip))

    def grant_scopes(self, scopes: Iterable[str]) -> None:
        """The bot token's scopes from now on (x-oauth-scopes; a method none of whose scopes is granted answers
        missing_scope)."""
        with self._ws.lock:
            self._ws.scopes = tuple(scopes)

    def enforce_limits(
        self, limits: RateLimits | None = SLACK_LIMITS, *, clock: Callable[[], float] | None = None
    ) -> None:
        """Switch the limits mode on (Slack's tiers by default; see bot.sandbox.limits) or off (None). Fresh
        buckets either way. `clock` (seconds) replaces the real monotonic clock, so a test decides when the
        buckets refill."""
        with self._ws.lock:
            self._ws.limiter = Limiter(limits, clock) if limits is not None else None

    # --- inspection (copies) ---------------------------------------------------------------------

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._ws.scopes

    def ratelimited(self) -> dict[str, int]:
        """Calls the limits mode answered with 429, by method (faults set with `fail` are not counted)."""
        with self._ws.lock:
            return dict(self._ws.ratelimited)

    def pending_faults(self) -> dict[str, int]:
        """Faults set with `fail` that have not happened yet: method -> calls still to fail."""
        with self._ws.lock:
            return {m: sum(f.remaining for f in faults) for m, faults in self._ws.faults.items() if faults}

    def _copy(self, value: T) -> T:
        with self._ws.lock:
            return copy.deepcopy(value)

    @property
    def calls(self) -> list[Call]:
        return self._copy(self._ws.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def channel(self, channel_id: str) -> Channel:
        return self._copy(self._ws.channels[channel_id])

    def channel_by_name(self, name: str) -> Channel | None:
        with self._ws.lock:
            found = [c for c in self._ws.channels.values() if c.kind == "channel" and c.name == name]
            return copy.deepcopy(found[0]) if found else None

    @property
    def channels(self) -> list[Channel]:
        with self._ws.lock:
            return copy.deepcopy([c for c in self._ws.channels.values() if c.kind == "channel"])

    def messages(self, channel_id: str) -> list[Message]:
        """The channel's messages (thread replies included), oldest first; deleted ones left out."""
        with self._ws.lock:
            return copy.deepcopy([m for m in self._ws.messages.get(channel_id, []) if not m.deleted])

    def message(self, channel_id: str, ts: str) -> Message:
        for message in self.messages(channel_id):
            if message.ts == ts:
                return message
        raise KeyError(f"no message {ts} in {channel_id}")

    @property
    def ephemerals(self) -> list[Ephemeral]:
        return self._copy(self._ws.ephemerals)

    def response_posts(self, url: str | None = None) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [copy.deepcopy(p.body) for p in self._ws.response_posts if url is None or p.url == url]

    def views_of(self, user_id: str) -> list[View]:
        """Every view (modals and home tab) ever opened for that user, oldest first."""
        with self._ws.lock:
            return copy.deepcopy([v for v in self._ws.views.values() if v.user == user_id])

    def open_views(self, user_id: str) -> list[View]:
        """The user's modal stack as Slack shows it: root first, the visible view last."""
        with self._ws.lock:
            return copy.deepcopy([self._ws.views[v] for v in self._ws.stacks.get(user_id, [])])

    def view(self, view_id: str) -> View:
        return self._copy(self._ws.views[view_id])

    def user(self, user_id: str) -> User:
        return self._copy(self._ws.users[user_id])

    def dms(self, user_id: str) -> list[Message]:
        with self._ws.lock:
            for channel in self._ws.channels.values():
                if channel.kind == "im" and channel.im_user == user_id:
                    return self.messages(channel.id)
        return []

    @property
    def files(self) -> list[File]:
        return self._copy(list(self._ws.files.values()))

    @property
    def problems(self) -> list[str]:
        """Things real Slack would have refused outside an API answer (bad acks, late acks...)."""
        return self._copy(self._ws.problems)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Poll predicate() every 10 ms until it is truthy and return its value.

        A predicate raising LookupError or AssertionError counts as "not yet". Uses the real clock,
        so it works under freezegun. On timeout, raises AssertionError with the last value, the
        last exception and the most recent API calls.
        """
        deadline = monotonic() + timeout
        last: Any = None
        last_exc: BaseException | None = None
        while True:
            try:
                last = predicate()
                if last:
                    return last
            except (LookupError, AssertionError) as exc:
                last_exc = exc
            if monotonic() >= deadline:
                break
            time.sleep(0.01)
        recent = "\n".join(
            f"  {c.method} -> {c.status} {'ok' if c.ok else c.error}" for c in self.calls[-10:]
        ) or "  (none)"
        name = getattr(predicate, "__qualname__", repr(predicate))
        raise AssertionError(
            f"wait_for({name}) still falsy after {timeout}s: last value {last!r}"
            + (f", last exception {last_exc!r}" if last_exc else "")
            + f"\nrecent Slack API calls:\n{recent}"
        )

    # --- hooks for SlackDriver -------------------------------------------------------------------

    def apply_command_ack(self, response_url: str, body: Any) -> None:
        """A slash command's ack body (text/blocks) becomes a message, as Slack shows it."""
        url_id = response_url.rsplit("/", 1)[-1]
        with self._ws.lock:
            url = self._ws.response_urls[url_id]
            status, answer = api_chat.respond(self._ws, url, body, via="ack")
            if status != 200:
                self._ws.problems.append(f"slash command ack body refused ({answer['error']}): {body!r}")

    def apply_view_submission_ack(self, view_id: str, body: Any) -> None:
        with self._ws.lock:
            api_views.apply_submission_ack(self._ws, self._ws.views[view_id], body)

    def view_payload(self, view_id: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
        """The view as Slack puts it in interaction payloads."""
        with self._ws.lock:
            return copy.deepcopy(api_views.view_json(self._ws, self._ws.views[view_id], state))

    def message_payload(self, channel_id: str, ts: str) -> dict[str, Any]:
        with self._ws.lock:
            try:
                message = self._ws.message(channel_id, ts)
            except ApiError:
                raise KeyError(f"no message {ts} in {channel_id}") from None
            return copy.deepcopy(self._ws.message_json(message))

    def add_problem(self, text: str) -> None:
        with self._ws.lock:
            self._ws.problems.append(text)
