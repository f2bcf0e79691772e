"""Every Slack id Firebell registers or renders, in one place. manifest.yml must list the same."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

COMMAND = "/incident"


class Shortcut(StrEnum):
    DECLARE = "declare_incident"                  # global shortcut
    DECLARE_FROM_MESSAGE = "declare_from_message"  # message shortcut


class ViewId(StrEnum):
    DECLARE = "declare_incident_modal"


class Action(StrEnum):
    ACKNOWLEDGE = "incident_acknowledge"


class DeclareBlock(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"


INPUT_ACTION = "value"  # the action id of each modal input element


class DeclareMetadata(BaseModel):
    """The declare modal's private_metadata: where the request came from."""

    model_config = ConfigDict(extra="forbid")

    origin: Literal["command", "shortcut", "message"]
    channel_id: str | None = None
    message_ts: str | None = None
