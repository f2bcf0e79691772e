"""`SlackDriver`: sends the app what Slack would send it (slash commands, shortcuts, clicks, view
submissions, events), over HTTP signed with the signing secret or as Socket Mode envelopes, and applies
the app's acks to the stand-in the way Slack does (a slash command's ack text shows up, a view_submission
ack closes or updates the modal)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.sandbox.interactions import Given, Lookups, element_action, find_element, view_state
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.transport import HttpTransport, Response, SocketModeTransport, Transport

ACK_DEADLINE = 3.0  # seconds Slack waits for an ack

__all__ = ["ACK_DEADLINE", "Response", "SlackDriver"]


class SlackDriver:
    """Over HTTP: `SlackDriver(app_url, signing_secret, standin)`. Over Socket Mode (the app connected to the
    stand-in with its app-level token): `SlackDriver.over_socket_mode(standin)`. Every method below works over
    either; `raw` and `url_verification` exist only over HTTP."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        standin: SlackStandIn,
        *,
        verification_token: str = "firebell-verification-token",
        transport: Transport | None = None,
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.standin = standin
        self.verification_token = verification_token
        self._transport: Transport = transport or HttpTransport(app_url, signing_secret)
        self._lookups = Lookups(self._user_exists, self._conversation_exists)

    @classmethod
    def over_socket_mode(
        cls, standin: SlackStandIn, *, verification_token: str = "firebell-verification-token"
    ) -> SlackDriver:
        return cls("", "", standin, verification_token=verification_token,
                   transport=SocketModeTransport(standin.socket_mode))

    @property
    def socket_mode(self) -> bool:
        return isinstance(self._transport, SocketModeTransport)

    # --- transport -------------------------------------------------------------------------------

    def _http(self, what: str) -> HttpTransport:
        if not isinstance(self._transport, HttpTransport):
            raise RuntimeError(f"{what} exists only over HTTP; this driver speaks Socket Mode")
        return self._transport

    def raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """POST a body to the app, signed unless `signature` is given. The timestamp comes from
        time.time(), so inside a freezegun context it is the app's (fake) now. HTTP only."""
        return self._http("raw").raw(body, content_type, timestamp=timestamp, signature=signature, headers=headers)

    def interaction(self, payload: dict[str, Any]) -> Response:
        """Send an interaction payload as given (e.g. a forged or stale one), over either transport."""
        return self._transport.interaction(payload)

    def _acked(self, response: Response, what: str) -> bool:
        """Whether Slack would take this answer as an ack (HTTP 200 within 3 s)."""
        if response.status != 200:
            return False
        if response.elapsed > ACK_DEADLINE:
            self.standin.add_problem(f"{what}: acked after {response.elapsed:.1f}s (Slack waits {ACK_DEADLINE}s)")
            return False
        return True

    # --- who and where ---------------------------------------------------------------------------

    def _user_exists(self, user_id: str) -> bool:
        try:
            self.standin.user(user_id)
        except KeyError:
            return False
        return True

    def _conversation_exists(self, channel_id: str) -> bool:
        try:
            self.standin.channel(channel_id)
        except KeyError:
            return False
        return True

    def _user(self, user_id: str) -> dict[str, Any]:
        try:
            user = self.standin.user(user_id)
        except KeyError:
            raise ValueError(f"unknown user {user_id}; add_user it first") from None
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.standin.team_id}

    def _team(self) -> dict[str, str]:
        return {"id": self.standin.team_id, "domain": self.standin.team_domain}

    def _channel(self, channel_id: str, user_id: str) -> dict[str, str]:
        try:
            channel = self.standin.channel(channel_id)
        except KeyError:
            raise ValueError(f"unknown channel {channel_id}") from None
        if channel.is_private and user_id not in channel.members:
            raise ValueError(f"{user_id} cannot see private channel {channel_id}")
        return {"id": channel.id, "name": "directmessage" if channel.kind == "im" else channel.name}

    def _common(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": self.verification_token,
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.standin.app_id,
            "is_enterprise_install": False,
            "enterprise": None,
            "trigger_id": self.standin.mint_trigger_id(user_id),
        }

    # --- slash commands and shortcuts ------------------------------------------------------------

    def slash_command(
        self, user_id: str, text: str = "", *, channel_id: str, command: str = "/incident"
    ) -> Response:
        user = self._user(user_id)
        channel = self._channel(channel_id, user_id)
        response_url = self.standin.new_response_url(channel_id=channel_id, user_id=user_id)
        response = self._transport.command(
            {
                "token": self.verification_token,
                "team_id": self.standin.team_id,
                "team_domain": self.standin.team_domain,
                "channel_id": channel["id"],
                "channel_name": channel["name"],
                "user_id": user_id,
                "user_name": user["name"],
                "command": command,
                "text": text,
                "api_app_id": self.standin.app_id,
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": self.standin.mint_trigger_id(user_id),
            }
        )
        if self._acked(response, f"{command} {text!r}") and response.body.strip():
            try:
                body = response.json()
            except ValueError:
                body = {"text": response.text}
            self.standin.apply_command_ack(response_url, body)
        return response

    def global_shortcut(self, user_id: str, callback_id: str) -> Response:
        payload = self._common("shortcut", user_id)
        payload.update(callback_id=callback_id, action_ts=f"{time.time():.6f}")
        response = self._transport.interaction(payload)
        self._acked(response, f"shortcut {callback_id}")
        return response

    def message_shortcut(self, user_id: str, callback_id: str, *, channel_id: str, message_ts: str) -> Response:
        payload = self._common("message_action", user_id)
        payload.update(
            callback_id=callback_id,
            action_ts=f"{time.time():.6f}",
            channel=self._channel(channel_id, user_id),
            message_ts=message_ts,
            message=self._message(channel_id, message_ts),
            response_url=self.standin.new_response_url(channel_id=channel_id, user_id=user_id),
        )
        response = self._transport.interaction(payload)
        self._acked(response, f"message shortcut {callback_id}")
        return response

    def _message(self, channel_id: str, ts: str) -> dict[str, Any]:
        try:
            return self.standin.message_payload(channel_id, ts)
        except KeyError as exc:
            raise LookupError(f"no message {ts} in {channel_id}") from exc

    # --- block actions ---------------------------------------------------------------------------

    def click(
        self,
        user_id: str,
        *,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        selected_option: Given = None,
        block_id: str | None = None,
    ) -> Response:
        """Click (or choose in) an element of a stored message, as Slack sends it."""
        message = self._message(channel_id, message_ts)
        block, element = find_element(message.get("blocks") or [], action_id, block_id)
        payload = self._common("block_actions", user_id)
        container: dict[str, Any] = {
            "type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False,
        }
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        payload.update(
            container=container,
            channel=self._channel(channel_id, user_id),
            message=message,
            state={"values": {}},
            response_url=self.standin.new_response_url(
                channel_id=channel_id, user_id=user_id, message_ts=message_ts
            ),
            actions=[element_action(block, element, value, selected_option, self._lookups)],
        )
        response = self._transport.interaction(payload)
        self._acked(response, f"click {action_id}")
        return response

    def _visible_view(self, user_id: str, view_id: str, *, submitting: bool = False) -> Any:
        """The view if the user can act on it: their home tab, or the top modal of their stack.

        Submitting an already closed modal is allowed: that is a double submission racing the
        close (a double click, a client retry), which apps must survive.
        """
        try:
            view = self.standin.view(view_id)
        except KeyError:
            raise LookupError(f"no view {view_id}") from None
        if view.user != user_id:
            raise ValueError(f"view {view_id} belongs to {view.user}, not {user_id}")
        if view.type == "home":
            if submitting:
                raise ValueError(f"view {view_id} is a home tab; only modals are submitted")
            return view
        if view.closed:
            if submitting:
                return view
            raise ValueError(f"modal {view_id} is closed")
        stack = self.standin.open_views(user_id)
        if not stack or stack[-1].id != view_id:
            raise ValueError(f"modal {view_id} is hidden under a pushed view")
        return view

    def click_in_view(
        self,
        user_id: str,
        *,
        view_id: str,
        action_id: str,
        value: str | None = None,
        selected_option: Given = None,
        block_id: str | None = None,
    ) -> Response:
        view = self._visible_view(user_id, view_id)
        block, element = find_element(view.blocks, action_id, block_id)
        payload = self._common("block_actions", user_id)
        payload.update(
            container={"type": "view", "view_id": view_id},
            view=self.standin.view_payload(view_id, view_state(view.blocks, {}, self._lookups, submitting=False)),
            actions=[element_action(block, element, value, selected_option, self._lookups)],
        )
        response = self._transport.interaction(payload)
        self._acked(response, f"click {action_id} in view {view_id}")
        return response

    def submit_view(self, user_id: str, view_id: str, values: dict[str, dict[str, Given]]) -> Response:
        """Submit the modal the user sees with `values` (block_id -> action_id -> entry); then apply
        the ack as Slack does (close, errors, update, push, clear)."""
        view = self._visible_view(user_id, view_id, submitting=True)
        state = view_state(view.blocks, values, self._lookups)
        payload = self._common("view_submission", user_id)
        payload.update(view=self.standin.view_payload(view_id, state), response_urls=[])
        response = self._transport.interaction(payload)
        if self._acked(response, f"view_submission {view.callback_id}"):
            try:
                body = response.json()
            except ValueError:
                self.standin.add_problem(f"view_submission {view.callback_id}: ack body is not JSON")
            else:
                self.standin.apply_view_submission_ack(view_id, body)
        return response

    # --- Events API ------------------------------------------------------------------------------

    def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Response:
        envelope = {
            "token": self.verification_token,
            "team_id": self.standin.team_id,
            "api_app_id": self.standin.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.standin.team_id,
                    "user_id": self.standin.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._transport.event(envelope, retry_num, retry_reason)

    def url_verification(self, challenge: str) -> Response:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        response = self._http("url_verification").raw(json.dumps(body).encode(), "application/json")
        response.sent = body
        return response
