"""The feedback DM (its comment form is in modals.py). Pure."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.incident import Incident
from bot.slack import text as t
from bot.slack.ids import Action

NOTE = "One answer per person; the post-incident report shows the count and the mean, never who said what."
LABELS = {1: "1 · poorly", 2: "2", 3: "3", 4: "4", 5: "5 · very well"}


def question(incident: Incident) -> tuple[str, list[Block]]:
    text = f"How did the response to {incident.ref} go?"
    return text, [
        SectionBlock(block_id="feedback_question",
                     text=f"*{text}*\n{incident.ref} · {t.escape(incident.title)} · {t.channel(incident.channel_id)}"),
        ActionsBlock(block_id="feedback", elements=[
            ButtonElement(text=LABELS[score], action_id=f"{Action.FEEDBACK.value}_{score}",
                          value=f"{incident.id}:{score}") for score in range(1, 6)]),
        ContextBlock(block_id="feedback_note", elements=[MarkdownTextObject(text=NOTE)]),
    ]
