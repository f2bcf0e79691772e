"""Every Slack id Firebell registers or renders, in one place. manifest.yml must list the same."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

COMMAND = "/incident"


class Shortcut(StrEnum):
    DECLARE = "declare_incident"                  # global shortcut
    DECLARE_FROM_MESSAGE = "declare_from_message"  # message shortcut
    ADD_TO_TIMELINE = "add_to_timeline"            # message shortcut


class ViewId(StrEnum):
    DECLARE = "declare_incident_modal"
    UPDATE = "incident_update_modal"
    RESOLVE = "incident_resolve_modal"
    PAGE = "incident_page_modal"
    ADD_TO_TIMELINE = "add_to_timeline_modal"
    FEEDBACK = "feedback_comment_modal"


class Action(StrEnum):
    ACKNOWLEDGE = "incident_acknowledge"
    POST_UPDATE = "incident_post_update"
    RESOLVE = "incident_resolve"
    PAGE = "incident_page"
    PAGE_ACKNOWLEDGE = "page_acknowledge"  # the button in a page's DM (and on App Home)
    DECLARE = "home_declare"  # App Home's Declare incident button
    FEEDBACK = "feedback_score"  # a score button (1-5) in the feedback DM; its value is "<incident id>:<score>"
    ALERT_DECLARE = "alert_declare"  # a triage message's (or a storm digest line's) Declare incident
    ALERT_DISMISS = "alert_dismiss"


class DeclareBlock(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    PRIVATE = "private"  # a checkbox; its one option's value is PRIVATE_OPTION


PRIVATE_OPTION = "private"


class UpdateBlock(StrEnum):
    TEXT = "text"
    STATUS = "status"


class ResolveBlock(StrEnum):
    CATEGORY = "root_cause_category"
    ROOT_CAUSE = "root_cause"
    RESOLUTION = "resolution"
    FOLLOW_UPS = "follow_ups"
    LESSONS = "lessons_learned"
    CAUSED_BY = "caused_by_change"


class PageBlock(StrEnum):
    TIER = "tier"
    MESSAGE = "message"


class TimelineBlock(StrEnum):
    INCIDENT = "incident"


INPUT_ACTION = "value"  # the action id of each modal input element


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeclareMetadata(_Metadata):
    """The declare modal's private_metadata: where the request came from."""

    origin: Literal["command", "shortcut", "message"]
    channel_id: str | None = None
    message_ts: str | None = None


class FeedbackMetadata(_Metadata):
    """The feedback comment modal's private_metadata."""

    incident_id: int


class IncidentMetadata(_Metadata):
    """The update and resolve modals' private_metadata."""

    incident_id: int


class MessageMetadata(_Metadata):
    """The add-to-timeline modal's private_metadata: the message being added."""

    channel_id: str
    message_ts: str
    author: str | None
    text: str
