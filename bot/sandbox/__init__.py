"""A local, strict Slack stand-in (the Web API over HTTP, Socket Mode over a WebSocket, an opt-in limits mode)
and a driver that sends the app Slack's requests, signed over HTTP or as Socket Mode envelopes. Used by the
end-to-end tests and `firebell demo`."""

from bot.sandbox.driver import SlackDriver
from bot.sandbox.limits import RateLimits
from bot.sandbox.records import Call, Channel, Ephemeral, File, Message, User, View
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.transport import Response

__all__ = [
    "Call",
    "Channel",
    "Ephemeral",
    "File",
    "Message",
    "RateLimits",
    "Response",
    "SlackDriver",
    "SlackStandIn",
    "User",
    "View",
]
