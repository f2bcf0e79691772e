"""A local, strict Slack stand-in (Web API over HTTP) and a driver that sends the app signed
requests as Slack would. Used by the end-to-end tests and `firebell demo`."""

from bot.sandbox.driver import Response, SlackDriver
from bot.sandbox.records import Call, Channel, Ephemeral, File, Message, User, View
from bot.sandbox.standin import SlackStandIn

__all__ = [
    "Call",
    "Channel",
    "Ephemeral",
    "File",
    "Message",
    "Response",
    "SlackDriver",
    "SlackStandIn",
    "User",
    "View",
]
