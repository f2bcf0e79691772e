"""Pure renderers for modals (declare, update, resolve, add to timeline)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.changes import Change
from bot.domain.incident import DEFAULT_SEVERITY, Incident, Severity
from bot.domain.rules import MAX_DESCRIPTION, MAX_TITLE
from bot.domain.transitions import SETTABLE
from bot.slack import text as t
from bot.slack.ids import (
    INPUT_ACTION,
    PRIVATE_OPTION,
    DeclareBlock,
    DeclareMetadata,
    FeedbackMetadata,
    IncidentMetadata,
    MessageMetadata,
    PageBlock,
    ResolveBlock,
    TimelineBlock,
    UpdateBlock,
    ViewId,
)
from bot.slack.render import SEVERITY_EMOJI

MAX_METADATA_TEXT = 2000


def severity_option(severity: Severity) -> Option:
    return Option(value=severity.value, text=f"{SEVERITY_EMOJI[severity]} {severity.label}")


def _text_input(block_id: str, label: str, *, optional: bool = False, multiline: bool = False,
                max_length: int = 3000, initial: str = "", placeholder: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id, label=label, optional=optional,
        element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=multiline, max_length=max_length,
                                      initial_value=t.truncate(initial, max_length) or None,
                                      placeholder=placeholder),
    )


def private_option() -> Option:
    return Option(value=PRIVATE_OPTION, text="Private incident",
                  description="A private channel; the broadcast channel is told only who commands it")


def declare_modal(
    metadata: DeclareMetadata, *, title: str = "", severity: Severity = DEFAULT_SEVERITY, description: str = "",
    private: bool = False,
) -> View:
    return View(
        type="modal", callback_id=ViewId.DECLARE, title="Declare an incident", submit="Declare", close="Cancel",
        private_metadata=metadata.model_dump_json(exclude_none=True),
        blocks=[
            _text_input(DeclareBlock.TITLE, "Title", max_length=MAX_TITLE, initial=title,
                        placeholder="What is broken, for whom?"),
            InputBlock(block_id=DeclareBlock.SEVERITY, label="Severity", element=StaticSelectElement(
                action_id=INPUT_ACTION, options=[severity_option(s) for s in Severity],
                initial_option=severity_option(severity))),
            _text_input(DeclareBlock.DESCRIPTION, "Description", optional=True, multiline=True,
                        max_length=MAX_DESCRIPTION, initial=description),
            InputBlock(block_id=DeclareBlock.PRIVATE, label="Visibility", optional=True, element=CheckboxesElement(
                action_id=INPUT_ACTION, options=[private_option()],
                initial_options=[private_option()] if private else None)),
        ],
    )


def update_modal(incident: Incident) -> View:
    options = [Option(value=s.value, text=s.label) for s in SETTABLE]
    return View(
        type="modal", callback_id=ViewId.UPDATE, title=f"Update {incident.ref}", submit="Post", close="Cancel",
        private_metadata=IncidentMetadata(incident_id=incident.id).model_dump_json(),
        blocks=[
            _text_input(UpdateBlock.TEXT, "Update", multiline=True,
                        placeholder="What do we know, what are we doing, when is the next update?"),
            InputBlock(block_id=UpdateBlock.STATUS, label="New status", optional=True,
                       element=StaticSelectElement(action_id=INPUT_ACTION, options=options,
                                                   placeholder=f"Keep {incident.status.label.lower()}")),
        ],
    )


def resolve_modal(incident: Incident, categories: Sequence[str], changes: Sequence[Change] = ()) -> View:
    """``changes``: the recent changes, offered as "Caused by a change?" (optional) when there are any."""
    caused_by = [InputBlock(
        block_id=ResolveBlock.CAUSED_BY, label="Caused by a change?", optional=True,
        hint="Linking the change counts toward the change failure rate (firebell report).",
        element=StaticSelectElement(action_id=INPUT_ACTION, placeholder="Pick the change, if one caused it",
                                    options=[Option(value=str(c.id), text=t.truncate(
                                        f"{c.at:%m-%d %H:%M} {c.service}: {c.summary}", 75))
                                             for c in changes[:100]]))] if changes else []
    return View(
        type="modal", callback_id=ViewId.RESOLVE, title=f"Resolve {incident.ref}", submit="Resolve", close="Cancel",
        private_metadata=IncidentMetadata(incident_id=incident.id).model_dump_json(),
        blocks=[
            InputBlock(block_id=ResolveBlock.CATEGORY, label="Root-cause category", element=StaticSelectElement(
                action_id=INPUT_ACTION, options=[Option(value=c, text=c) for c in categories[:100]])),
            _text_input(ResolveBlock.ROOT_CAUSE, "Root cause", multiline=True, placeholder="Why did it happen?"),
            _text_input(ResolveBlock.RESOLUTION, "What fixed it", multiline=True),
            _text_input(ResolveBlock.LESSONS, "Lessons learned", optional=True, multiline=True,
                        placeholder="What went well, what did not, what would we do differently?"),
            _text_input(ResolveBlock.FOLLOW_UPS, "Follow-up actions (one per line)", optional=True, multiline=True,
                        placeholder="Alert on pool drain @alice due 2026-12-20"),
            *caused_by,
        ],
    )


def page_modal(incident: Incident, tiers: Sequence[str]) -> View:
    return View(
        type="modal", callback_id=ViewId.PAGE, title=f"Page for {incident.ref}", submit="Page", close="Cancel",
        private_metadata=IncidentMetadata(incident_id=incident.id).model_dump_json(),
        blocks=[
            InputBlock(block_id=PageBlock.TIER, label="Tier", element=StaticSelectElement(
                action_id=INPUT_ACTION, options=[Option(value=name, text=name) for name in tiers[:100]])),
            _text_input(PageBlock.MESSAGE, "Message", optional=True, multiline=True, max_length=1000,
                        placeholder="What should they look at first?"),
        ],
    )


def add_to_timeline_modal(metadata: MessageMetadata, incidents: Sequence[Incident]) -> View:
    if not incidents:
        return View(type="modal", title="Add to timeline", close="Close",
                    blocks=[SectionBlock(text="There are no open incidents to add this message to.")])
    options = [Option(value=str(i.number), text=t.truncate(f"{i.ref}: {i.title}", 75)) for i in incidents[:100]]
    return View(
        type="modal", callback_id=ViewId.ADD_TO_TIMELINE, title="Add to timeline", submit="Add", close="Cancel",
        private_metadata=metadata.model_copy(update={"text": metadata.text[:MAX_METADATA_TEXT]}).model_dump_json(),
        blocks=[InputBlock(block_id=TimelineBlock.INCIDENT, label="Incident",
                           element=StaticSelectElement(action_id=INPUT_ACTION, options=options))],
    )


FEEDBACK_COMMENT = "comment"


def comment_modal(incident: Incident, score: int) -> View:
    return View(type="modal", callback_id=ViewId.FEEDBACK, title="Thank you", submit="Send", close="Skip",
                private_metadata=FeedbackMetadata(incident_id=incident.id).model_dump_json(),
                blocks=[SectionBlock(text=f"You gave the response to {incident.ref} a *{score}* out of 5."),
                        _text_input(FEEDBACK_COMMENT, "Anything to add? (optional)", optional=True, multiline=True,
                                    max_length=2000)])
